"""Use cases of the dispatcher console 坐席台 and the incident page: one function per action.

Each function takes the store, the caller's :class:`~store.Scope` and plain values, builds one
event and appends it (the store enforces the scope, the lifecycle and the version); the Dash
callbacks and the JSON API parse input, call one of these and render the result. Nothing here
writes SQL. Errors the user can act on are bilingual, Chinese first: :class:`ActionError` for bad
input here, and the store's ``IllegalTransition``, ``StaleVersion``, ``ReadOnlyScope`` and
``IncidentNotFound`` passed through (:func:`message_of` turns any of them into a message).

Reads for the console: :func:`queue` (incoming, newest first), :func:`supervision` (overdue and
supervised open incidents) and :func:`suggest` (the trinity and a team for one incident, from
the town's tables in :class:`~app.components.console_directory.Directory`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from app.components.console_directory import Directory, Person
from geo.geocode import REVIEW_THRESHOLD
from incidents import sla
from incidents.frame import prepare
from incidents.lifecycle import EventError, IncidentStatus
from incidents.masking import mask_text
from incidents.model import Event, State
from store import (
    IncidentNotFound,
    IncidentQuery,
    IncidentRecord,
    IncidentStore,
    ReadOnlyScope,
    Scope,
    StaleVersion,
    StoreBusy,
)

#: Geocode levels below :data:`geo.geocode.REVIEW_THRESHOLD` at an exact match: place by hand.
LOW_LEVELS = frozenset({"road", "village", "town"})
#: ``geocode_level`` of a point placed by hand on the console's map.
MANUAL_LEVEL = "manual"
CODES = ("grid_code", "village_code", "beat_code", "station_code")
#: Where a return (退回) sends the incident.
RETURN_TO = {"110": "退回110", "department": "退回部门", "12345": "退回12345"}


class ActionError(ValueError):
    """Input the action cannot take (no reason, unknown team, a point outside the town)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def message_of(exc: Exception) -> str:
    """The bilingual (Chinese first) message of an error the console shows to the user."""
    if isinstance(
        exc, (ActionError, EventError, StaleVersion, ReadOnlyScope, IncidentNotFound, StoreBusy)
    ):
        return str(exc)
    if isinstance(exc, PermissionError):
        return f"无权执行此操作 / not allowed: {exc}"
    raise exc


def _append(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    version: int,
    action: str,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> IncidentStatus:
    event = Event(
        incident_id=incident_id,
        seq=int(version) + 1,
        action=action,
        at=at or utc_now(),
        actor=scope.actor,
        reason=reason,
        lon=lon,
        lat=lat,
        data=data or {},
    )
    return store.append_event(event, expected_version=int(version), scope=scope)


def _reason(text: str | None, what: str) -> str:
    value = (text or "").strip()
    if not value:
        raise ActionError(f"请填写{what}原因 / a reason is required")
    if len(value) > 500:
        raise ActionError("原因过长（最多500字）/ the reason is too long (500 characters at most)")
    return value


def accept(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    version: int,
    *,
    at: datetime | None = None,
) -> IncidentStatus:
    """Confirm the incident is the centre's to handle (确认受理): a ``note`` event."""
    reason = "坐席确认受理 / accepted by the dispatcher"
    return _append(
        store, scope, incident_id, version, "note", reason=reason, data={"kind": "accept"}, at=at
    )


def return_incident(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    version: int,
    reason: str | None,
    *,
    to: str = "110",
    at: datetime | None = None,
) -> IncidentStatus:
    """Return (退回) an incident that is not the centre's, with a reason, to 110 or a department."""
    if to not in RETURN_TO:
        raise ActionError(f"退回去向无效 / return to one of {', '.join(RETURN_TO)}: {to!r}")
    text = _reason(reason, "退回")
    return _append(
        store, scope, incident_id, version, "return", reason=text, data={"to": to}, at=at
    )


def dispatch(
    store: IncidentStore,
    scope: Scope,
    directory: Directory,
    incident_id: str,
    version: int,
    team_code: str | None,
    *,
    department_code: str | None = None,
    at: datetime | None = None,
) -> IncidentStatus:
    """Dispatch (派遣) to a rapid-handling team, optionally with a lead department."""
    if not team_code or team_code not in directory.teams:
        raise ActionError(f"请选择有效的处置队伍 / choose a known team (got {team_code!r})")
    if department_code and department_code not in directory.departments:
        raise ActionError(f"部门不存在 / unknown department {department_code!r}")
    data: dict[str, Any] = {"team_code": team_code}
    if department_code:
        data["department_code"] = department_code
    name = directory.teams[team_code]
    return _append(
        store,
        scope,
        incident_id,
        version,
        "dispatch",
        reason=f"派遣至{name} / dispatched to {team_code}",
        data=data,
        at=at,
    )


def place(
    store: IncidentStore,
    scope: Scope,
    directory: Directory,
    incident_id: str,
    version: int,
    lon: float,
    lat: float,
    *,
    at: datetime | None = None,
) -> IncidentStatus:
    """Place a low-confidence geocode by hand: an ``amend`` moving the point (WGS84) with the
    trinity codes re-derived for it (the old codes kept under ``previous``, as in
    :mod:`ingest.reassign`)."""
    codes = directory.trinity(lon, lat)
    record = store.get_incident(incident_id, _masked(scope))
    st = record.status
    previous = {c: getattr(st, c) for c in CODES}
    data: dict[str, Any] = {
        "lon": round(float(lon), 7),
        "lat": round(float(lat), 7),
        "geocode_level": MANUAL_LEVEL,
        "geocode_confidence": 1.0,
        **codes,
        "previous": previous,
    }
    reason = "坐席在地图上人工定位 / placed on the map by the dispatcher"
    return _append(
        store,
        scope,
        incident_id,
        version,
        "amend",
        reason=reason,
        data=data,
        at=at,
        lon=data["lon"],
        lat=data["lat"],
    )


def supervise(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    version: int,
    reason: str | None = None,
    *,
    at: datetime | None = None,
) -> IncidentStatus:
    """Put an open incident under supervision (督办)."""
    text = (reason or "").strip() or "超期督办 / overdue: under supervision"
    return _append(store, scope, incident_id, version, "supervise", reason=text, at=at)


def escalate(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    version: int,
    level: int | str | None,
    reason: str | None,
    *,
    at: datetime | None = None,
) -> IncidentStatus:
    """Escalate to consultation (三级会商) level 1 village, 2 town centre or 3 city."""
    try:
        n = int(level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        n = 0
    if n not in (1, 2, 3):
        raise ActionError(f"会商级别须为 1–3 / the level must be 1, 2 or 3 (got {level!r})")
    text = _reason(reason, "会商")
    return _append(
        store, scope, incident_id, version, "escalate", reason=text, data={"level": n}, at=at
    )


def _masked(scope: Scope) -> Scope:
    """The same scope without personal data (reads that need no names, and are not audited)."""
    return Scope(**{**scope.__dict__, "personal_data": False})


# --- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One incoming incident in the console's queue."""

    id: str
    received_at: pd.Timestamp
    minutes: int
    source: str
    category: str
    address: str
    needs_placement: bool
    version: int


def _needs_placement(level: object, lon: object, grid: object) -> bool:
    missing = lon is None or pd.isna(lon) or grid is None or pd.isna(grid)  # type: ignore[arg-type]
    return bool(missing or (isinstance(level, str) and level in LOW_LEVELS))


def needs_placement(status: IncidentStatus) -> bool:
    """Whether the incident's point is missing, outside any grid cell or of low confidence."""
    conf = status.geocode_confidence
    if status.geocode_level == MANUAL_LEVEL:
        return False
    low = conf is not None and conf < REVIEW_THRESHOLD
    return low or _needs_placement(status.geocode_level, status.lon, status.grid_code)


def queue(
    store: IncidentStore, scope: Scope, now: datetime | None = None, limit: int = 200
) -> list[QueueRow]:
    """Incidents in state ``received`` within ``scope``, newest first (masked)."""
    now = now or utc_now()
    found = store.query_incidents(IncidentQuery(states=(State.RECEIVED,)), _masked(scope))
    rows = []
    for r in found.iloc[::-1][:limit].itertuples():
        received = pd.Timestamp(r.received_at)
        lon = None if r.geometry is None or r.geometry.is_empty else r.geometry.x
        rows.append(
            QueueRow(
                id=str(r.id),
                received_at=received,
                minutes=max(0, int((pd.Timestamp(now) - received).total_seconds() // 60)),
                source=str(r.source),
                category=str(r.category),
                address=mask_text(str(r.address or "")) or "",
                needs_placement=_needs_placement(r.geocode_level, lon, r.grid_code),
                version=int(r.version),
            )
        )
    return rows


def supervision(
    store: IncidentStore, scope: Scope, now: datetime | None = None, limit: int | None = 200
) -> pd.DataFrame:
    """Open incidents that are overdue or supervised (督办 list), most overdue first (the first
    ``limit``; all with ``None``).

    Columns: id, state, category, received_at, deadline, supervised, escalation_level, version,
    flags (overdue flags, e.g. ``("resolution",)``) and needs_supervision.
    """
    now = now or utc_now()
    open_states = tuple(s for s in State if s.is_open)
    found = store.query_incidents(IncidentQuery(states=open_states), _masked(scope))
    cols = [
        "id",
        "state",
        "category",
        "received_at",
        "deadline",
        "supervised",
        "escalation_level",
        "version",
        "flags",
        "needs_supervision",
    ]
    if found.empty:
        return pd.DataFrame(columns=cols)
    frame = prepare(pd.DataFrame(found.drop(columns="geometry")))
    flags = sla.overdue_frame(frame, now)
    keep = (flags["any"] | frame["supervised"]).to_numpy(bool)
    out = frame.loc[keep].copy()
    out["flags"] = [tuple(f for f in sla.FLAGS if flags.at[i, f]) for i in out.index]
    out["needs_supervision"] = flags.loc[out.index, "needs_supervision"].to_numpy(bool)
    out["version"] = found.loc[out.index, "version"].astype(int).to_numpy()
    out = out.sort_values("deadline")
    out = out[cols] if limit is None else out[cols].head(limit)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Suggestion:
    """The trinity of an incident and whom to send: people, station, department, team."""

    grid: Person | None
    beat: Person | None
    station: Person | None
    station_distance_m: float | None
    department: tuple[str, str] | None
    team: tuple[str, str] | None


def suggest(directory: Directory, record: IncidentRecord) -> Suggestion:
    """The trinity suggestion for one incident (its codes; the nearest station by distance)."""
    st = record.status
    distance = None
    station_code = st.station_code
    if st.lon is not None and st.lat is not None and directory.index is not None:
        found = directory.index.assign([st.lon], [st.lat]).iloc[0]
        if not pd.isna(found["station_distance_m"]):
            distance = float(found["station_distance_m"])
        if station_code is None and not pd.isna(found["station_code"]):
            station_code = str(found["station_code"])
    dept = st.department_code or directory.department_for(st.category)
    team = st.team_code or directory.team_of_beat.get(st.beat_code or "")
    return Suggestion(
        grid=directory.grid.get(st.grid_code or ""),
        beat=directory.beats.get(st.beat_code or ""),
        station=directory.stations.get(station_code or ""),
        station_distance_m=distance,
        department=(dept, directory.departments.get(dept, dept)) if dept else None,
        team=(team, directory.teams.get(team, team)) if team else None,
    )


__all__ = [
    "ActionError",
    "QueueRow",
    "Suggestion",
    "accept",
    "dispatch",
    "escalate",
    "message_of",
    "needs_placement",
    "place",
    "queue",
    "return_incident",
    "suggest",
    "supervise",
    "supervision",
]
