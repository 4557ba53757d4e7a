"""Use cases of the officer and callback views: task lists, arrive, resolve, photo, callback.

Each function takes the store and the caller's :class:`~store.Scope` (from
:func:`app.auth.current_scope`) and does one thing; the store enforces the scope (an incident
outside it is :class:`~store.IncidentNotFound`, a read-only scope raises
:class:`~store.ReadOnlyScope`) and the lifecycle refuses what does not fit. Pages parse input,
call one of these, and render the result. Nothing here writes SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from pyproj import Geod

# Photos live in app.officer_photos; re-exported so that pages call one module of use cases.
from app.officer_photos import (
    PHOTO_NAME,
    PHOTO_TYPES,
    ActionError,
    add_photo,
    decode_upload,
    photo_path,
    photos_of,
    sniff,
)
from incidents import sla
from incidents._time import local_date
from incidents.commitments import apply_checks, commitment_from, commitment_to_dict
from incidents.lifecycle import IncidentStatus, callback_result, normalise_satisfaction
from incidents.model import Event, State
from store import IncidentQuery, IncidentRecord, IncidentStore, Scope, StaleVersion

#: An arrival farther than this from the incident's point is recorded with a warning.
FAR_METRES = 500.0
_GEOD = Geod(ellps="WGS84")
#: States of the three task lists.
TO_ARRIVE = (State.DISPATCHED.value,)
TO_HANDLE = (State.ON_SCENE.value, State.REOPENED.value, State.ESCALATED.value)
AWAITING = (State.RESOLVED.value, State.CALLBACK_DUE.value)


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- task lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One incident in a task list (masked; no personal data)."""

    id: str
    version: int
    state: str
    category: str
    category_zh: str
    address: str
    description: str
    received_at: datetime
    lon: float | None
    lat: float | None
    deadline: datetime | None = None
    due: date | None = None


@dataclass(frozen=True)
class Tasks:
    """The officer's three lists."""

    to_arrive: tuple[Task, ...]
    to_handle: tuple[Task, ...]
    callbacks: tuple[Task, ...]

    @property
    def all(self) -> tuple[Task, ...]:
        return (*self.to_arrive, *self.to_handle, *self.callbacks)


def _text(value: Any) -> str:
    return "" if value is None or value != value else str(value)


def _time(value: Any) -> datetime | None:
    if value is None or value is pd.NaT or value != value:
        return None
    return pd.Timestamp(value).to_pydatetime()


def _tasks(frame: Any, due: Mapping[str, date] | None = None) -> tuple[Task, ...]:
    if not len(frame):  # the usual answer to a poll; itertuples alone costs milliseconds
        return ()
    out = []
    geom = frame.geometry if len(frame) else None
    for i, row in enumerate(frame.itertuples(index=False)):
        point = geom.iloc[i] if geom is not None else None
        lon = lat = None
        if point is not None and not point.is_empty:
            lon, lat = float(point.x), float(point.y)
        received = _time(row.received_at)
        assert received is not None
        out.append(
            Task(
                id=str(row.id),
                version=int(row.version),
                state=str(row.state),
                category=_text(row.category),
                category_zh=_text(row.category_zh),
                address=_text(row.address),
                description=_text(row.description),
                received_at=received,
                lon=lon,
                lat=lat,
                deadline=_time(row.deadline),
                due=(due or {}).get(str(row.id)),
            )
        )
    return tuple(out)


def due_callbacks(
    store: IncidentStore, scope: Scope, today: date, *, policy: sla.SlaPolicy = sla.DEFAULT_POLICY
) -> list[tuple[IncidentRecord, date]]:
    """Incidents within ``scope`` with a callback due on or before ``today`` (local day), the
    earliest first, with that day (next-day, periodic and commitment callbacks; see
    :func:`incidents.sla.callback_schedule`). Records are masked."""
    masked = _masked(scope)
    found = store.query_incidents(IncidentQuery(states=AWAITING), masked)
    return _due_of(store, masked, today, found["id"], policy)


def _due_of(
    store: IncidentStore, masked: Scope, today: date, ids: Any, policy: sla.SlaPolicy
) -> list[tuple[IncidentRecord, date]]:
    """:func:`due_callbacks` of the awaiting incidents ``ids``."""
    out = []
    for incident_id in ids:
        record = store.get_incident(str(incident_id), masked)
        days = sla.callback_schedule(record.status, policy, until=today)
        if days and days[0] <= today:
            out.append((record, days[0]))
    out.sort(key=lambda pair: (pair[1], pair[0].status.received_at))
    return out


def my_tasks(store: IncidentStore, scope: Scope, now: datetime | None = None) -> Tasks:
    """To arrive (dispatched), to handle (on scene, reopened, escalated) and callbacks due
    today, within ``scope`` (the officer's grid cells, beat, team, station or department)."""
    today = local_date(now or utc_now())
    masked = _masked(scope)
    # One query for the three lists (officers poll this): split by state, order kept.
    found = store.query_incidents(IncidentQuery(states=(*TO_ARRIVE, *TO_HANDLE, *AWAITING)), masked)
    state = found["state"]
    arrive = found.loc[state.isin(TO_ARRIVE).to_numpy(bool)]
    handle = found.loc[state.isin(TO_HANDLE).to_numpy(bool)]
    waiting = found.loc[state.isin(AWAITING).to_numpy(bool)]
    policy = sla.DEFAULT_POLICY
    due = {r.incident.id: d for r, d in _due_of(store, masked, today, waiting["id"], policy)}
    waiting = waiting.loc[waiting["id"].isin(list(due)).to_numpy(bool)]
    callbacks = sorted(_tasks(waiting, due), key=lambda t: (t.due or today, t.received_at))
    return Tasks(_tasks(arrive), _tasks(handle), tuple(callbacks))


# --- actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """What :func:`arrive` recorded: the new status, the distance (None without a position)."""

    status: IncidentStatus
    distance_m: float | None

    @property
    def far(self) -> bool:
        return self.distance_m is not None and self.distance_m > FAR_METRES


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres between two WGS84 points."""
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _position(position: Mapping[str, Any] | None) -> tuple[float, float, float | None] | None:
    """``(lon, lat, accuracy)`` of a browser position, or None when absent or unusable."""
    if not position:
        return None
    try:
        lon, lat = float(position["lon"]), float(position["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    acc = position.get("accuracy")
    return lon, lat, float(acc) if isinstance(acc, (int, float)) else None


def arrive(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    expected_version: int,
    position: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Arrival:
    """Record arrival on scene (到场) now, with the browser's position (WGS84 ``lon``, ``lat``,
    ``accuracy`` in metres) when given; far arrivals (> :data:`FAR_METRES`) are recorded too.

    Raises
    ------
    IncidentNotFound, ReadOnlyScope, StaleVersion, IllegalTransition, InvalidEvent
    """
    record = store.get_incident(incident_id, _masked(scope))
    at = now or utc_now()
    pos = _position(position)
    data: dict[str, Any] = {"position": "browser" if pos else "unavailable"}
    dist = None
    if pos is not None:
        data["accuracy_m"] = None if pos[2] is None else round(pos[2], 1)
        if record.status.lon is not None and record.status.lat is not None:
            dist = distance_m(pos[0], pos[1], record.status.lon, record.status.lat)
            data["distance_m"] = round(dist, 1)
            data["far"] = dist > FAR_METRES
    event = Event(
        incident_id,
        expected_version + 1,
        "arrive",
        at,
        scope.actor,
        lon=pos[0] if pos else None,
        lat=pos[1] if pos else None,
        data=data,
    )
    return Arrival(store.append_event(event, expected_version, scope), dist)


def parse_commitment(
    who: str | None, what: str | None, amount: Any, due: str | None
) -> dict[str, Any] | None:
    """A commitment's JSON form from form fields, or None when all are empty.

    Raises
    ------
    ActionError
        Some fields given but the description or due date missing, or a bad amount or date.
    """
    fields = (who, what, amount, due)
    if all(f in (None, "") for f in fields):
        return None
    if not (what or "").strip() or not due:
        raise ActionError("承诺须填写内容和期限 / a commitment needs a description and a due date")
    try:
        value = amount if amount not in (None, "") else None
        c = commitment_from(
            {"who": (who or "").strip() or "责任方", "what": what, "due": due, "amount": value}
        )
    except (ValueError, TypeError) as exc:
        raise ActionError(str(exc)) from None
    return commitment_to_dict(c)


def resolve(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    expected_version: int,
    result: str,
    commitments: Sequence[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> IncidentStatus:
    """Record the resolution (处置完毕): what was done (``result``, required) and any
    commitments made at mediation (``{who, what, due, amount}``)."""
    text = (result or "").strip()
    if not text:
        raise ActionError("请填写处置结果 / describe what was done")
    data: dict[str, Any] = {"result_text": text[:2000]}
    if commitments:
        data["commitments"] = [dict(c) for c in commitments]
    event = Event(
        incident_id, expected_version + 1, "resolve", now or utc_now(), scope.actor, text[:500],
        data=data,
    )  # fmt: skip
    return store.append_event(event, expected_version, scope)


@dataclass(frozen=True)
class Callback:
    """What :func:`record_callback` recorded: ``result`` is close, continue or reopen."""

    status: IncidentStatus
    result: str


def callback_data(
    status: IncidentStatus,
    reached: bool,
    satisfaction: str | None,
    checks: Mapping[int, bool] | None = None,
    note: str = "",
    at: datetime | None = None,
) -> dict[str, Any]:
    """The data of a callback event, with its ``result`` decided: unreached → continue;
    unsatisfied or a broken commitment → reopen; satisfied with every commitment settled →
    close; satisfied with commitments still open (not yet due) → continue.

    Raises
    ------
    ActionError
        A reached callback without a satisfaction, or a bad check.
    """
    data: dict[str, Any] = {"reached": bool(reached)}
    if note.strip():
        data["note"] = note.strip()[:1000]
    if not reached:
        data["result"] = "continue"
        return data
    try:
        data["satisfaction"] = normalise_satisfaction(satisfaction)
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    if data["satisfaction"] is None:
        raise ActionError("请选择满意度 / choose the caller's satisfaction")
    data["checks"] = [{"index": int(i), "kept": bool(k)} for i, k in sorted((checks or {}).items())]
    try:
        records, _ = apply_checks(status.commitments, data, at or utc_now())
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    result = callback_result(data)
    if result == "close" and any(c.status == "open" for c in records):
        result = "continue"
    data["result"] = result
    return data


def preview_result(reached: bool, satisfaction: str | None, checks: Sequence[bool | None]) -> str:
    """What a callback will do, from the form alone (``checks``: one per open commitment,
    None when not checked), as :func:`callback_data` decides it; ``incomplete`` when a reached
    callback has no satisfaction yet."""
    if not reached:
        return "continue"
    if satisfaction is None:
        return "incomplete"
    if satisfaction == "不满意" or any(c is False for c in checks):
        return "reopen"
    if any(c is None for c in checks):
        return "continue"
    return "close"


def record_callback(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    expected_version: int,
    reached: bool,
    satisfaction: str | None = None,
    checks: Mapping[int, bool] | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Callback:
    """Record a callback (回访) in one event; unsatisfied or broken reopens the incident."""
    at = now or utc_now()
    record = store.get_incident(incident_id, _masked(scope))
    if record.status.version != expected_version:
        raise StaleVersion(incident_id, expected_version, record.status.version)
    data = callback_data(record.status, reached, satisfaction, checks, note, at)
    event = Event(incident_id, expected_version + 1, "callback", at, scope.actor, data=data)
    return Callback(store.append_event(event, expected_version, scope), data["result"])


def _masked(scope: Scope) -> Scope:
    return replace(scope, personal_data=False)


__all__ = [
    "PHOTO_NAME", "PHOTO_TYPES", "ActionError", "Arrival", "Callback", "Task", "Tasks",
    "add_photo", "arrive", "callback_data", "decode_upload", "distance_m", "due_callbacks",
    "my_tasks", "parse_commitment", "photo_path", "photos_of", "preview_result",
    "record_callback", "resolve", "sniff", "utc_now",
]  # fmt: skip
