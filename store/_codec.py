"""Rows of the ``incidents`` and ``events`` tables, shared by every backend.

The ``incidents`` table is the point layer QGIS opens: its first columns are exactly those of the
``incidents`` layer spec (``layers.incidents_layer.SPEC``), then the rest of the current status
and what is needed to give back the incident as received. Columns fall in three groups:

- **intake** (written once): id, source, texts, caller columns and ``parties`` (JSON);
- ``intake`` (JSON, rewritten with the projection): of the incident's category, priority,
  deadline, codes, team, department, links, place and point as received, those the status
  columns of the same names have since changed — ``{}`` while they hold the values received (a
  new incident), so the columns are not written twice. Rows written before 2026-12-04 hold every
  key, which reads back the same;
- **projection** (rewritten with every event, in the same transaction): what
  :func:`incidents.lifecycle.fold` derives — state, version, codes, key timestamps, satisfaction,
  the first commitment. Events are the truth; the projection is for queries and maps. Two
  resolution times: ``resolved_at`` (the layer's 处置完毕时间) keeps the *first* resolution, and
  ``standing_resolved_at`` (schema step 8, the table's last column) the standing one, null
  while the incident is reopened and not resolved again.

Times are stored to the millisecond (the GeoPackage DATETIME form), in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from incidents.commitments import commitment_to_dict
from incidents.lifecycle import IncidentStatus
from incidents.model import Commitment, Event, Incident, Party
from layers.incidents_layer import CATEGORIES
from layers.incidents_layer import SPEC as FLAT_SPEC

#: Logical column types: str, int, float, bool, datetime, json.
_EXTRA = (
    ("version", "int"),
    ("deadline", "datetime"),
    ("town_code", "str"),
    ("supervised", "bool"),
    ("escalation_level", "int"),
    ("returned_at", "datetime"),
    ("reopen_count", "int"),
    ("callback_count", "int"),
    ("last_event_at", "datetime"),
    ("related", "json"),
    ("geocode_confidence", "float"),
    ("parties", "json"),
    ("intake", "json"),
    ("standing_resolved_at", "datetime"),  # schema step 8: added last, after ``intake``
)
#: Every non-geometry column of the incidents table, in table order.
COLUMNS: tuple[tuple[str, str], ...] = (
    *((f.name, f.type) for f in FLAT_SPEC.fields),
    *_EXTRA,
)
NAMES = tuple(name for name, _ in COLUMNS)
TYPES = dict(COLUMNS)
#: Columns derived from the status (rewritten with every event).
PROJECTED = (
    "category", "category_zh", "subcategory", "grid_code", "village_code", "beat_code",
    "station_code", "priority", "team_code", "department_code", "state", "dispatched_at",
    "on_scene_at", "resolved_at", "callback_at", "closed_at", "satisfaction",
    "commitment_amount", "commitment_due", "commitment_kept", "reopened", "repeat_of",
    "version", "deadline", "town_code", "supervised", "escalation_level", "returned_at",
    "reopen_count", "callback_count", "last_event_at", "related", "address", "description",
    "geocode_level", "geocode_confidence", "standing_resolved_at",
)  # fmt: skip
#: What :meth:`query_incidents` returns besides geometry (no JSON, nothing internal). Of the
#: resolution times, ``resolved_at`` is the layer's 处置完毕时间, the *first* resolution (kept
#: after a reopen), and ``standing_resolved_at`` the standing one (the status's ``resolved_at``:
#: the latest resolution, null when reopened since), which the KPIs need (docs/kpi.md).
QUERY_COLUMNS = (
    *FLAT_SPEC.field_names, "version", "deadline", "supervised", "escalation_level",
    "returned_at", "reopen_count", "standing_resolved_at",
)  # fmt: skip
#: Intake values that the status may change later; kept as received in the ``intake`` column.
_INTAKE_KEYS = (
    "category", "subcategory", "priority", "deadline", "grid_code", "village_code",
    "beat_code", "station_code", "team_code", "department_code", "related", "address",
    "description", "geocode_level", "geocode_confidence", "lon", "lat",
)  # fmt: skip
_PLACE = ("address", "description", "geocode_level", "geocode_confidence")
EVENT_COLUMNS = ("incident_id", "seq", "action", "at", "actor", "reason", "lon", "lat", "data")


# --- SQL text (the same statements for every backend, with its parameter marker) ---------


def insert_sql(table: str, columns: Sequence[str], ph: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([ph] * len(columns))})"


def update_sql(ph: str, geom: str) -> str:
    """The projection update (columns, then the point as ``geom``, a backend expression, then
    the ``intake`` JSON, see :func:`intake_json`), conditional on the version the change was
    based on."""
    sets = ", ".join(f"{n} = {ph}" for n in PROJECTED)
    return (
        f"UPDATE incidents SET {sets}, geom = {geom}, intake = {ph} "
        f"WHERE id = {ph} AND version = {ph}"
    )


def select_sql(columns: Sequence[str], *extra: str) -> str:
    """``SELECT`` of incident columns (aliased ``i``) and backend expressions (geometry)."""
    return f"SELECT {', '.join([*(f'i.{c}' for c in columns), *extra])} FROM incidents i"


def events_sql(ph: str) -> str:
    return f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE incident_id = {ph} ORDER BY seq"


AUDIT_COLUMNS = ("actor", "action", "incident_id", "detail")


# --- times -------------------------------------------------------------------------------


def utc_ms(t: datetime) -> datetime:
    """``t`` in UTC, truncated to the millisecond (the precision both backends keep)."""
    if t.tzinfo is None:
        raise ValueError(f"时间缺少时区 / time has no UTC offset: {t.isoformat()}")
    t = t.astimezone(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000) if t.microsecond % 1000 else t


def iso_ms(t: datetime) -> str:
    """GeoPackage DATETIME text: ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, truncated to the ms)."""
    if t.tzinfo is None:
        raise ValueError(f"时间缺少时区 / time has no UTC offset: {t.isoformat()}")
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    return t.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from a stored value (datetime or ISO text); ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


# --- JSON --------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):  # subclasses such as pandas.Timestamp
        return value.isoformat()
    if isinstance(value, Commitment):
        return commitment_to_dict(value)
    if isinstance(value, Party):
        return dict(vars(value))
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


# orjson (about 10x the standard encoder on the ingest path) writes datetimes, enums, tuples and
# numpy scalars itself; dataclasses pass through to ``_json_default`` so commitments keep the form
# incidents.commitments reads back.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> str:
    """Compact JSON, Chinese kept readable; datetimes as ISO-8601 with their offset,
    commitments in the form :mod:`incidents.commitments` reads back."""
    if not value and isinstance(value, (dict, list, tuple)):
        return "{}" if isinstance(value, dict) else "[]"
    try:
        return orjson.dumps(value, default=_json_default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None


def from_json(text: Any) -> Any:
    if text is None:
        return None
    return orjson.loads(text) if isinstance(text, (str, bytes)) else text  # jsonb arrives decoded


# --- personal data -----------------------------------------------------------------------


def caller_of(incident: Incident) -> Party | None:
    """The party shown in the caller columns: the first with role ``caller``."""
    return next((p for p in incident.parties if p.role == "caller"), None)


# --- incidents ---------------------------------------------------------------------------


def _first_commitment(status: IncidentStatus) -> tuple[float | None, datetime | None, Any]:
    if not status.commitments:
        return None, None, None
    c = status.commitments[0]
    kept = {"kept": True, "broken": False}.get(c.status)
    return c.commitment.amount, utc_ms(c.commitment.due), kept


def _t(t: datetime | None) -> datetime | None:
    return None if t is None else utc_ms(t)


def projection(status: IncidentStatus) -> dict[str, Any]:
    """The projected columns for ``status`` (datetimes UTC, JSON as text)."""
    amount, due, kept = _first_commitment(status)
    s = status
    return {
        "category": s.category,
        "category_zh": CATEGORIES.get(s.category or "", s.category),
        "subcategory": s.subcategory,
        "grid_code": s.grid_code,
        "village_code": s.village_code,
        "beat_code": s.beat_code,
        "station_code": s.station_code,
        "priority": s.priority,
        "team_code": s.team_code,
        "department_code": s.department_code,
        "state": s.state.value,
        "dispatched_at": _t(s.dispatched_at),
        "on_scene_at": _t(s.on_scene_at),
        # the layer's 处置完毕时间 is the first resolution, even after a reopen
        "resolved_at": _t(s.first_resolved_at),
        "callback_at": _t(s.callback_at),
        "closed_at": _t(s.closed_at),
        "satisfaction": s.satisfaction,
        "commitment_amount": amount,
        "commitment_due": due,
        "commitment_kept": kept,
        "reopened": s.reopen_count > 0,
        "repeat_of": s.repeat_of,
        "version": s.version,
        "deadline": _t(s.deadline),
        "town_code": s.town_code,
        "supervised": s.supervised,
        "escalation_level": s.escalation_level,
        "returned_at": _t(s.returned_at),
        "reopen_count": s.reopen_count,
        "callback_count": s.callback_count,
        "last_event_at": _t(s.last_event_at),
        "related": to_json(list(s.related)),
        "address": s.address,
        "description": s.description,
        "geocode_level": s.geocode_level,
        "geocode_confidence": s.geocode_confidence,
        # the standing resolution (cleared by a reopen), what on-time and overdue are about
        "standing_resolved_at": _t(s.resolved_at),
    }


def point(status: IncidentStatus) -> tuple[float | None, float | None]:
    """The incident's current point (as received or as last amended)."""
    return status.lon, status.lat


def intake_json(incident: Incident, status: IncidentStatus) -> str:
    """The ``intake`` column: the values ``incident`` was received with that ``status`` (the
    projection beside it) no longer holds; ``{}`` when it holds them all."""
    differ = {}
    for k in _INTAKE_KEYS:
        was, now = getattr(incident, k), getattr(status, k)
        if k == "deadline":
            was, now = (None if t is None else iso_ms(t) for t in (was, now))
        elif k == "related":
            was, now = list(was), list(now)
        if was != now:
            differ[k] = was
    return to_json(differ)


def intake(incident: Incident) -> dict[str, Any]:
    """The intake columns of ``incident`` (datetimes UTC, JSON as text), ``intake`` apart (it
    depends on the status: :func:`intake_json`)."""
    caller = caller_of(incident)
    return {
        "id": incident.id,
        "source": incident.source,
        "source_id": incident.source_id,
        "received_at": utc_ms(incident.received_at),
        "involves_migrant": incident.involves_migrant,
        "caller_name": caller.name if caller else None,
        "caller_phone": caller.phone if caller else None,
        "caller_id_number": caller.id_number if caller else None,
        "parties": to_json([dict(vars(p)) for p in incident.parties]),
    }


def row_values(incident: Incident, status: IncidentStatus) -> tuple[Any, ...]:
    """All columns of one incident row in :data:`NAMES` order (geometry apart)."""
    values = {**intake(incident), **projection(status), "intake": intake_json(incident, status)}
    return tuple(values[n] for n in NAMES)


def incident_from_row(row: Mapping[str, Any], lon: float | None, lat: float | None) -> Incident:
    """The incident as received, from its stored row and current point: the status columns,
    with the values the ``intake`` JSON keeps in their place (:func:`intake_json`)."""
    kept = {k: row[k] for k in _INTAKE_KEYS if k not in ("related", "lon", "lat")}
    kept.update(related=from_json(row["related"]), lon=lon, lat=lat)
    kept.update(from_json(row["intake"]))
    deadline = parse_time(kept.pop("deadline"))
    place = {k: kept.pop(k) for k in (*_PLACE, "lon", "lat")}
    parties = tuple(Party(**p) for p in from_json(row["parties"]))
    received_at = parse_time(row["received_at"])
    assert received_at is not None
    return Incident(
        id=row["id"],
        source=row["source"],
        source_id=row["source_id"],
        received_at=received_at,
        parties=parties,
        deadline=deadline,
        **place,
        **{**kept, "related": tuple(kept["related"])},
    )


# --- events ------------------------------------------------------------------------------


def event_values(e: Event) -> tuple[Any, ...]:
    """One events row in :data:`EVENT_COLUMNS` order (time UTC, data as JSON text)."""
    return (
        e.incident_id, e.seq, e.action, utc_ms(e.at), e.actor, e.reason, e.lon, e.lat,
        to_json(e.data),
    )  # fmt: skip


def event_from_row(row: Sequence[Any]) -> Event:
    at = parse_time(row[3])
    assert at is not None
    return Event(
        incident_id=row[0],
        seq=int(row[1]),
        action=row[2],
        at=at,
        actor=row[4],
        reason=row[5],
        lon=row[6],
        lat=row[7],
        data=from_json(row[8]) or {},
    )


def receive_event(incident: Incident, actor: str) -> Event:
    """The first event of an incident stored without events."""
    return Event(incident.id, 1, "receive", incident.received_at, actor)
