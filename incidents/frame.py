"""The KPI frame: one row per incident, the documented input of :mod:`incidents.kpi`.

:func:`status_frame` builds it from folded :class:`~incidents.lifecycle.IncidentStatus` values;
:func:`prepare` completes a frame from elsewhere (a store query, the demo layer) with the same
columns, deriving what is missing. No personal data is part of it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from incidents import sla
from incidents._time import local_midnight
from incidents.lifecycle import IncidentStatus
from incidents.sla import DEFAULT_POLICY, SlaPolicy

#: Area columns (codes, nullable): what :class:`incidents.kpi.Area` filters on.
AREA_COLUMNS = (
    "town_code",
    "village_code",
    "grid_code",
    "beat_code",
    "station_code",
    "team_code",
    "department_code",
)
#: Time columns, tz-aware UTC (NaT when it has not happened).
TIME_COLUMNS = (
    "received_at",
    "dispatched_at",
    "last_dispatched_at",
    "on_scene_at",
    "first_resolved_at",
    "resolved_at",
    "callback_at",
    "closed_at",
    "returned_at",
    "deadline",
    "callback_due_at",
    "next_callback_at",
)
#: States in which an incident's latest resolution stands: reached only by ``resolve``, left
#: only by a reopen (``incidents._transitions``).
STANDING_STATES = ("resolved", "callback_due", "closed")
#: The store's column of the standing resolution (its ``resolved_at`` is the first one).
STORE_STANDING = "standing_resolved_at"
#: Every column of the KPI frame and what it holds.
COLUMNS: dict[str, str] = {
    "id": "incident id",
    "category": "first-level category code",
    "subcategory": "subcategory code or name (nullable)",
    "priority": "'normal' or 'key'",
    "state": "current lifecycle state (State value)",
    **{c: "area code (nullable)" for c in AREA_COLUMNS},
    "received_at": "受理 time",
    "dispatched_at": "first dispatch (派遣)",
    "last_dispatched_at": "latest dispatch (for the arrival overdue flag)",
    "on_scene_at": "first arrival (到场)",
    "first_resolved_at": "first resolution (处置完毕)",
    "resolved_at": "standing resolution: latest one, NaT if reopened since",
    "callback_at": "first reached callback (回访)",
    "closed_at": "standing closure (办结), NaT if reopened since",
    "returned_at": "return (退回) time",
    "deadline": "resolution deadline (explicit, else by category)",
    "callback_due_at": "start of the local day the first callback was due",
    "next_callback_at": "start of the local day the next pending callback is due",
    "satisfaction": "first reached callback's rating: 满意 / 基本满意 / 不满意 (nullable)",
    "reopen_count": "times reopened (int)",
    "repeat_of": "id of the incident this one repeats (nullable)",
    "supervised": "under supervision (督办) now (bool)",
    "escalation_level": "highest consultation level reached, 0-3 (int)",
}


def _midnight(d: object) -> pd.Timestamp | None:
    return None if d is None else pd.Timestamp(local_midnight(d))  # type: ignore[arg-type]


def status_row(status: IncidentStatus, policy: SlaPolicy = DEFAULT_POLICY) -> dict[str, object]:
    """One KPI-frame row of a folded status."""
    row: dict[str, object] = {
        c: getattr(status, c)
        for c in COLUMNS
        if c not in ("id", "deadline", "callback_due_at", "next_callback_at", "state")
    }
    row["id"] = status.incident_id
    row["state"] = status.state.value
    row["deadline"] = sla.deadline(status, policy)
    row["callback_due_at"] = _midnight(sla.first_callback_day(status))
    row["next_callback_at"] = _midnight(sla.next_callback(status, policy))
    return row


def status_frame(
    statuses: Iterable[IncidentStatus], policy: SlaPolicy = DEFAULT_POLICY
) -> pd.DataFrame:
    """The KPI frame (columns :data:`COLUMNS`, in order) of many folded statuses."""
    rows = [status_row(s, policy) for s in statuses]
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return _coerce(df)


def _coerce(df: pd.DataFrame) -> pd.DataFrame:
    for c in TIME_COLUMNS:
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    for c in ("reopen_count", "escalation_level"):
        df[c] = pd.to_numeric(df[c]).fillna(0).astype(np.int64)
    df["supervised"] = df["supervised"].astype("boolean").fillna(False).astype(bool)
    for c in ("id", "category", "subcategory", "priority", "state", "satisfaction", "repeat_of",
              *AREA_COLUMNS):  # fmt: skip
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def prepare(frame: pd.DataFrame, policy: SlaPolicy = DEFAULT_POLICY) -> pd.DataFrame:
    """A complete KPI frame from one that has at least id, category, state and received_at.

    The two resolution columns: a frame with ``standing_resolved_at`` and no
    ``first_resolved_at`` is a store query (:data:`store.QUERY_COLUMNS`), whose ``resolved_at``
    is the *first* resolution (the layer's 处置完毕时间): it becomes ``first_resolved_at`` and
    ``standing_resolved_at`` becomes ``resolved_at`` (that column is not kept, so preparing a
    prepared frame changes nothing). Otherwise a frame without ``first_resolved_at`` (the demo
    layer) has only the first resolution, in ``resolved_at``: it is ``first_resolved_at``, and
    the standing ``resolved_at`` where the state is ``resolved``, ``callback_due`` or ``closed``
    (an incident is in those states exactly while its latest resolution stands; a reopen leaves
    them), else NaT — exact unless the incident was re-resolved, when the first resolution
    stands in for the latest.

    Other missing columns are derived, in this order: ``last_dispatched_at`` ←
    ``dispatched_at``; ``returned_at`` ← ``received_at`` where the state is ``returned`` (the
    demo layer records no return time); ``reopen_count`` ← a boolean ``reopened`` column, else
    0; ``deadline`` (and its gaps) ← :func:`incidents.sla.deadlines`; ``callback_due_at`` ← the
    day after ``commitment_due`` if that column is set, else after ``first_resolved_at``;
    ``next_callback_at`` ← ``callback_due_at`` while resolved or awaiting callback with no
    callback yet; other columns ← null / False / 0 / ``normal``. The input is not modified;
    extra columns are kept after the documented ones.
    """
    missing = [c for c in ("id", "category", "state", "received_at") if c not in frame]
    if missing:
        raise ValueError(f"KPI 数据缺少列 / KPI frame lacks columns: {', '.join(missing)}")
    df = frame.copy()
    times = {c: pd.to_datetime(df[c], utc=True) for c in TIME_COLUMNS if c in df}
    nat = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    get = times.get
    times.setdefault("dispatched_at", nat)
    times.setdefault("last_dispatched_at", times["dispatched_at"])
    times.setdefault("resolved_at", nat)
    if "first_resolved_at" not in times:
        times["first_resolved_at"] = times["resolved_at"]
        if STORE_STANDING in frame:
            times["resolved_at"] = pd.to_datetime(df.pop(STORE_STANDING), utc=True)
        else:
            standing = df["state"].isin(STANDING_STATES)
            times["resolved_at"] = times["resolved_at"].where(standing)
    if get("returned_at") is None:
        times["returned_at"] = times["received_at"].where(df["state"] == "returned")
    for c in TIME_COLUMNS:
        df[c] = times.get(c, nat)
    if "reopen_count" not in frame:
        flag = frame["reopened"] if "reopened" in frame else pd.Series(False, index=df.index)
        df["reopen_count"] = flag.astype("boolean").fillna(False).astype(np.int64)
    df["deadline"] = sla.deadlines(df, policy)
    if "callback_due_at" not in frame or df["callback_due_at"].isna().all():
        first = sla.local_day_start(df["first_resolved_at"], 1)
        if "commitment_due" in frame:
            due = sla.local_day_start(frame["commitment_due"], 1)
            first = due.where(due.notna() & df["first_resolved_at"].notna(), first)
        df["callback_due_at"] = first
    if "next_callback_at" not in frame:
        waiting = df["state"].isin(["resolved", "callback_due"]) & df["callback_at"].isna()
        df["next_callback_at"] = df["callback_due_at"].where(waiting)
    defaults: dict[str, object] = {"priority": "normal", "supervised": False, "escalation_level": 0}
    for c in COLUMNS:
        if c not in df:
            df[c] = defaults.get(c)
    df = _coerce(df)
    extra = [c for c in df.columns if c not in COLUMNS]
    return df[[*COLUMNS, *extra]]
