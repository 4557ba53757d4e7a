"""What both backends do alike in Python: validate a batch by folding its events, type a query
result as a GeoDataFrame, mask personal data, describe changes for the audit log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from incidents import masking
from incidents.lifecycle import IncidentStatus, fold
from incidents.model import Event, Incident, State
from store._codec import QUERY_COLUMNS, TYPES, receive_event
from store.base import (
    DuplicateIncident,
    IncidentQuery,
    IncidentRecord,
    Scope,
    StoreBusy,
    StoreError,
)

#: Layer names the store keeps for itself (``incidents`` is written through ``add_incidents``).
RESERVED = frozenset(
    {
        "events",
        "audit_log",
        "schema_migrations",
        "quarantine",
        "users",
        "login_attempts",
        "api_keys",
        "ember_layers_version",
        "ember_rtree_pending",
    }
)
INCIDENT_TABLES = ("incidents", "events")


def busy(exc: BaseException, wait_s: float) -> StoreBusy:
    """The error of a write that waited ``wait_s`` seconds for another connection's lock."""
    return StoreBusy(
        f"数据库正被其他操作占用（已等待 {wait_s:g} 秒），未写入，请稍后重试 / the store is "
        f"held by another writer (waited {wait_s:g} s): nothing was written, try again: {exc}"
    )


def prepare_batch(
    incidents: Sequence[Incident], events: Sequence[Event], actor: str
) -> list[tuple[Incident, IncidentStatus, list[Event]]]:
    """Each incident with its status and events, every event folded (validated) first.

    Raises
    ------
    DuplicateIncident
        An id or (source, source_id) appears twice in the batch.
    StoreError
        Events name an incident not in the batch.
    IllegalTransition, InvalidEvent
        From the fold.
    """
    by_id: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_id[e.incident_id].append(e)
    ids: set[str] = set()
    keys: set[tuple[str, str]] = set()
    out = []
    for inc in incidents:
        key = (inc.source, inc.source_id)
        if inc.id in ids or key in keys:
            raise DuplicateIncident(
                f"批次中重复的事项：{inc.id}（{inc.source} {inc.source_id}）/ "
                f"incident {inc.id} ({inc.source} {inc.source_id}) appears twice in the batch"
            )
        ids.add(inc.id)
        keys.add(key)
        evs = sorted(by_id.pop(inc.id, ()), key=lambda e: e.seq) or [receive_event(inc, actor)]
        out.append((inc, fold(evs, inc), evs))
    if by_id:
        stray = ", ".join(sorted(by_id)[:5])
        raise StoreError(
            f"事件所属事项不在本批次中：{stray} / events name incidents not in the batch: {stray}"
        )
    return out


def duplicate_error(found: tuple[str, str, str] | None) -> DuplicateIncident:
    """The error for a batch that collides with a stored incident ``(id, source, source_id)``."""
    if found is None:
        return DuplicateIncident("事项已存在 / an incident of this batch is already stored")
    inc_id, source, source_id = found
    return DuplicateIncident(
        f"事项已存在：{inc_id}（{source} {source_id}）/ "
        f"already stored: incident {inc_id} or {source} {source_id}"
    )


def query_read(query: IncidentQuery, scope: Scope) -> tuple[tuple[str, ...], bool]:
    """What ``query_incidents`` reads for ``scope``: the columns (``id`` and ``query.columns``
    in :data:`QUERY_COLUMNS` order; every column when none is named), and whether the read is
    audited as ``view_personal`` (only when the scope sees personal data and the columns hold
    some: what :func:`seen_frame` masks)."""
    columns = QUERY_COLUMNS
    if query.columns:
        keep = {"id", *query.columns}
        columns = tuple(c for c in QUERY_COLUMNS if c in keep)
    audited = scope.personal_data and any(c in masking.PERSONAL_COLUMNS for c in columns)
    return columns, audited


def typed_frame(
    rows: Sequence[Sequence[Any]], geometry: Any, columns: Sequence[str] = QUERY_COLUMNS
) -> gpd.GeoDataFrame:
    """A query result (rows in ``columns`` order, by default :data:`QUERY_COLUMNS`) as a typed
    point GeoDataFrame.

    Built a column at a time from the transposed rows: ``DataFrame.from_records`` first infers a
    type for every column of object values, then each was converted again (at 100,000 incidents
    and every column, 0.77 s instead of 0.91 s)."""
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    data: dict[str, Any] = {}
    for name, cells in zip(columns, values, strict=True):
        kind = TYPES[name]
        col = pd.Series(cells, dtype=object)
        if kind == "datetime":
            data[name] = pd.to_datetime(col, utc=True, format="ISO8601").astype(
                "datetime64[ms, UTC]"
            )
        elif kind == "bool":
            data[name] = col.astype("boolean")
        elif kind == "int":
            data[name] = pd.to_numeric(col).astype("Int64")
        elif kind == "float":
            data[name] = pd.to_numeric(col).astype("float64")
        else:
            data[name] = col.where(col.notna(), None)
    frame = pd.DataFrame(data, columns=list(columns))
    geoms = np.asarray(geometry, dtype=object) if len(frame) else np.empty(0, dtype=object)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


#: Columns of :meth:`~store.base.IncidentStore.repeat_candidates`.
CANDIDATE_COLUMNS = ("id", "received_at", "category", "lon", "lat", "caller_phone", "closed_at",
                     "state")  # fmt: skip
#: States in which an incident is open (not closed, not returned): a repeat candidate however
#: long ago it was received.
OPEN_STATES = tuple(s.value for s in State if s.is_open)
_OPEN = ", ".join(f"'{s}'" for s in OPEN_STATES)


def candidate_sql(columns: str, ph: str, unindexed: str = "") -> str:
    """``repeat_candidates``' query, parameters ``(until, since, until)``: the incidents received
    before ``until`` that are open, or were closed on or after ``since``, by ``received_at``
    then ``id``.

    Two disjoint branches, each read through its own small index range (the open states in
    ``incidents_state``, the recent closures in ``incidents_closed_at``): an incident open for
    months is found without reading every incident received since. ``unindexed`` prefixes
    ``received_at`` where the planner must not use its index for ``< until`` (almost the whole
    table): ``+`` for SQLite, which has no statistics to know; PostgreSQL's planner does.
    """
    until = f"{unindexed}received_at < {ph}"
    return (
        f"SELECT {columns} FROM incidents WHERE state IN ({_OPEN}) AND {until} "
        f"UNION ALL SELECT {columns} FROM incidents "
        f"WHERE closed_at >= {ph} AND state NOT IN ({_OPEN}) AND {until} "
        "ORDER BY received_at, id"
    )


def utc_times(values: pd.Series) -> pd.Series:
    """Aware UTC times of stored values: the GeoPackage's ``YYYY-MM-DDTHH:MM:SS.sssZ`` text
    parsed by numpy (pandas' ISO 8601 parser took most of the read), anything else by pandas."""
    if len(values) and all(isinstance(v, str) and v.endswith("Z") for v in values if v is not None):
        try:
            text = ["NaT" if v is None else v[:-1] for v in values]
            ms = np.array(text, dtype="datetime64[ms]")
            return pd.Series(ms, index=values.index).dt.tz_localize("UTC")
        except ValueError:
            pass
    return pd.to_datetime(values, utc=True, format="ISO8601")


def candidates_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Rows in :data:`CANDIDATE_COLUMNS` order as a typed frame, phones masked."""
    frame = pd.DataFrame.from_records(list(rows), columns=list(CANDIDATE_COLUMNS))
    for name in ("received_at", "closed_at"):
        frame[name] = utc_times(frame[name])
    for name in ("lon", "lat"):
        frame[name] = pd.to_numeric(frame[name]).astype("float64")
    frame["caller_phone"] = masking.mask_series(frame["caller_phone"], "phone")
    return frame


def seen_frame(frame: gpd.GeoDataFrame, scope: Scope) -> gpd.GeoDataFrame:
    """``query_incidents``' rows as ``scope`` sees them: as stored (``personal_data``), caller
    columns and numbers in free text masked (罗某, 138****5678), or for a ``status_only`` scope
    without caller columns and free text (empty)."""
    if scope.status_only:
        out = frame.copy()
        for col in masking.PERSONAL_COLUMNS:
            if col in out:
                out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
        return out
    if scope.personal_data:
        return frame
    masked = masking.mask_frame(frame)
    return gpd.GeoDataFrame(masked, geometry=masked.geometry.name, crs=frame.crs)


def _unseen(store: Any, ids: set[str], scope: Scope) -> set[str]:
    """Which of ``ids`` ``scope`` does not find in ``store`` (none for a scope of everything)."""
    if (scope.all and scope.sources is None) or not ids:
        return set()
    masked = replace(scope, personal_data=False)
    query = IncidentQuery(ids=tuple(sorted(ids)), columns=("id",))
    return ids - set(store.query_incidents(query, masked)["id"])


def hide_unseen_links(store: Any, frame: gpd.GeoDataFrame, scope: Scope) -> gpd.GeoDataFrame:
    """``frame`` with each ``repeat_of`` outside ``scope`` left empty: an incident in scope
    does not name one the caller may not see (``store``: the one queried, asked which of the
    linked ids ``scope`` finds)."""
    if (scope.all and scope.sources is None) or "repeat_of" not in frame or frame.empty:
        return frame
    links = frame["repeat_of"]
    unseen = _unseen(store, {str(v) for v in links.dropna().tolist()}, scope)
    if not unseen:
        return frame
    out = frame.copy()
    out["repeat_of"] = links.where(~links.isin(unseen), None)
    return out


def hide_unseen_record(store: Any, record: IncidentRecord, scope: Scope) -> IncidentRecord:
    """``record`` without the ids of incidents outside ``scope`` (its ``repeat_of`` and
    ``related``, and those its events' data name), as :func:`hide_unseen_links` for rows."""
    inc, st = record.incident, record.status
    named = {*inc.related, *st.related, *(v for e in record.events for v in _links(e.data))}
    unseen = _unseen(store, {str(v) for v in (*named, st.repeat_of) if v}, scope)
    if not unseen:
        return record
    return IncidentRecord(
        replace(inc, related=tuple(r for r in inc.related if r not in unseen)),
        _unrelated(st, unseen),
        tuple(_unlinked(e, unseen) for e in record.events),
    )


def _unrelated(status: IncidentStatus, unseen: set[str]) -> IncidentStatus:
    return replace(
        status,
        repeat_of=None if status.repeat_of in unseen else status.repeat_of,
        related=tuple(r for r in status.related if r not in unseen),
    )


def hide_unseen_in_status(store: Any, status: IncidentStatus, scope: Scope) -> IncidentStatus:
    """``status`` without the ids of incidents outside ``scope`` (its repeat_of, related)."""
    unseen = _unseen(store, {str(v) for v in (*status.related, status.repeat_of) if v}, scope)
    return _unrelated(status, unseen) if unseen else status


def hide_unseen_in_events(store: Any, events: list[Event], scope: Scope) -> list[Event]:
    """``events`` without the ids of incidents outside ``scope`` that their data name."""
    unseen = _unseen(store, {str(v) for e in events for v in _links(e.data) if v}, scope)
    return [_unlinked(e, unseen) for e in events] if unseen else events


def _links(data: dict[str, Any]) -> list[Any]:
    """The incident ids an event's data names (``repeat_of``, ``related``: one or a list)."""
    out: list[Any] = []
    for key in ("repeat_of", "related"):
        value = data.get(key)
        out.extend(value if isinstance(value, (list, tuple)) else [value])
    return [v for v in out if v]


def _unlinked(event: Event, unseen: set[str]) -> Event:
    if not any(str(v) in unseen for v in _links(event.data)):
        return event
    data = dict(event.data)
    for key in ("repeat_of", "related"):
        value = data.get(key)
        if isinstance(value, (list, tuple)):
            data[key] = [v for v in value if str(v) not in unseen]
        elif value is not None and str(value) in unseen:
            data[key] = None
    return replace(event, data=data)


def seen_record(
    incident: Incident, status: IncidentStatus, events: Sequence[Event], scope: Scope
) -> IncidentRecord:
    """One incident as ``scope`` sees it (see :func:`seen_frame`); the status and events too,
    which carry the address, description and commitments an amend or a resolve wrote."""
    if scope.status_only:
        shown = masking.status_only_incident(incident)
    else:
        shown = incident if scope.personal_data else masking.mask_incident(incident)
    return IncidentRecord(
        shown, seen_status(status, scope), tuple(seen_events(list(events), scope))
    )


def seen_status(status: IncidentStatus, scope: Scope) -> IncidentStatus:
    """An incident's status as ``scope`` sees it (see :func:`seen_record`)."""
    if scope.status_only:
        return masking.status_only_status(status)
    return status if scope.personal_data else masking.mask_status(status)


def seen_events(events: list[Event], scope: Scope) -> list[Event]:
    """The events of one incident as ``scope`` sees them (see :func:`seen_record`)."""
    if scope.status_only:
        return list(map(masking.status_only_event, events))
    return events if scope.personal_data else list(map(masking.mask_event, events))


def add_detail(inc: Incident, n_events: int) -> dict[str, Any]:
    """Audit detail of a stored incident: no personal data."""
    return {"source": inc.source, "source_id": inc.source_id, "events": n_events}


def event_detail(event: Event, expected_version: int) -> dict[str, Any]:
    return {"seq": event.seq, "action": event.action, "expected_version": expected_version}
