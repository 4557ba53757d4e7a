"""Embedded backend: one GeoPackage file (SQLite, WAL), the default store.

Layers are written and read through GDAL (pyogrio). Incidents, events and the audit log are
written through sqlite3 (see :mod:`store._gpkg_sql` for why), into tables GDAL and QGIS open as
they are: ``incidents`` is a point feature table with an R-tree index, ``events`` an attribute
table. Every write is one ``BEGIN IMMEDIATE`` transaction: writers queue, readers are not
blocked (WAL), and a version check inside the transaction decides who wins. Migrations run on
the first connection (and again if the file was replaced).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from incidents.lifecycle import IncidentStatus, apply, fold
from incidents.model import Event, Incident
from store import _codec as codec
from store import _common as common
from store import _gpkg_rtree
from store import _quarantine as qr
from store._apikeys import ApiKeysMixin
from store._filters import count_sql, order_page, query_clause, scope_clause
from store._gpkg_bulk import first_stored, touch, write_received
from store._gpkg_layers import GpkgLayersMixin
from store._gpkg_sql import (
    DIALECT,
    blobs_to_geometry,
    connect,
    insert_points,
    migrate,
    point_blob,
    schema_version,
)
from store._quarantine import QuarantineMixin
from store._stats import StatsMixin
from store.base import (
    WAIT_S,
    AuditEntry,
    IncidentNotFound,
    IncidentQuery,
    IncidentRecord,
    ReadOnlyScope,
    Scope,
    SourceKey,
    StaleVersion,
    StoreError,
    WriteRefused,
    _hook,
)
from store.received import ReceivedBatch, received_rows

_DATETIMES = [i for i, n in enumerate(codec.NAMES) if codec.TYPES[n] == "datetime"]
_PROJECTED_DATETIMES = [i for i, n in enumerate(codec.PROJECTED) if codec.TYPES[n] == "datetime"]
_INSERT_INCIDENT = codec.insert_sql("incidents", ("fid", "geom", *codec.NAMES), "?")
_INSERT_EVENT = codec.insert_sql("events", codec.EVENT_COLUMNS, "?")
_INSERT_AUDIT = codec.insert_sql("audit_log", ("at", *codec.AUDIT_COLUMNS), "?")
_UPDATE = codec.update_sql("?", "?")
_INCIDENT_SELECT = codec.select_sql(codec.NAMES, "ST_MinX(i.geom)", "ST_MinY(i.geom)")


def _sqlite_values(values: Sequence[Any], datetimes: Sequence[int]) -> list[Any]:
    out = list(values)
    for i in datetimes:
        if out[i] is not None:
            out[i] = codec.iso_ms(out[i])
    return out


def _now() -> str:
    return codec.iso_ms(datetime.now(UTC))


class GeoPackageStore(GpkgLayersMixin, ApiKeysMixin, QuarantineMixin, StatsMixin):  # see the mixins
    """Layers, incidents and their events in one GeoPackage file that GDAL and QGIS open."""

    def __init__(self, path: str | Path, *, create: bool = True, wait_s: float = WAIT_S):
        self.path = Path(path)
        self.url = str(self.path)
        #: False: the file must exist, at every connection (see :func:`store.open_store`)
        self.create = create
        self.wait_s = wait_s  # for another writer's lock, then StoreBusy
        self._pin = threading.local()  # this thread's connection inside pinned()

    # --- connections ---------------------------------------------------------------------

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """This thread's pinned connection when it is between transactions, else a new one
        (closed after: the last close checkpoints the WAL into the file); a store call made
        inside another's transaction gets a connection of its own, pinned or not."""
        held = getattr(self._pin, "conn", None)
        if held is not None and not held.in_transaction:
            yield held
            return
        if not self.create and not self.path.is_file():  # removed, or its disk gone, since
            raise StoreError(f"存储文件已不在 / the store file is gone: {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path, timeout_s=self.wait_s)
        try:
            migrate(conn)
            if not self._deferring and _gpkg_rtree.has_pending(conn):
                _gpkg_rtree.catch_up(conn)  # a bulk load's, running or killed
            yield conn
        finally:
            conn.close()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        if getattr(self._pin, "conn", None) is not None:
            yield  # nested: the outer block's connection
            return
        with self._conn() as conn:
            self._pin.conn = conn
            try:
                yield
            finally:
                self._pin.conn = None

    @contextmanager
    def deferred_index(self) -> Iterator[None]:
        """This thread's new incidents (:meth:`add_received`) leave their R-tree entries
        pending until :meth:`index_deferred` or the end of the block (:mod:`store._gpkg_rtree`:
        one packed rebuild instead of an insert a point). A connection opened meanwhile, in
        another process or not, brings the index up to date first."""
        if self._deferring:
            yield
            return
        self._pin.defer = True
        held = getattr(self._pin, "conn", None)  # its points are kept (see _gpkg_rtree.Known)
        self._pin.known = None if held is None else _gpkg_rtree.Known(held)
        try:
            yield
        finally:
            self._pin.defer = False
        try:
            self.index_deferred()
        finally:
            self._pin.known = None

    @property
    def _deferring(self) -> bool:
        """Whether this thread is inside :meth:`deferred_index`."""
        return bool(getattr(self._pin, "defer", False))

    def index_deferred(self) -> int:
        known = getattr(self._pin, "known", None)
        try:
            with self._conn() as conn:
                written = _gpkg_rtree.index_pending(conn, known and known.usable(conn))
            if known is not None:
                known.indexed()
            return written
        except sqlite3.Error as exc:  # locked, disk full: the pending entries stay recorded
            raise StoreError(
                f"空间索引未能更新（下次打开时补齐）/ the spatial index could not be brought up "
                f"to date (the next opener will): {exc}"
            ) from exc

    @contextmanager
    def _tx(self, point: str | None) -> Iterator[sqlite3.Connection]:
        """A write transaction (``point`` names it for the test hook), or a read snapshot."""
        with self._conn() as conn:
            known = getattr(self._pin, "known", None)
            if point and known is not None:
                known.wrote(point)
            try:
                conn.execute("BEGIN IMMEDIATE" if point else "BEGIN")
            except sqlite3.OperationalError as exc:  # another writer's, past the busy timeout
                if point and ("locked" in str(exc) or "busy" in str(exc)):
                    raise common.busy(exc, self.wait_s) from exc
                raise
            try:
                yield conn
                if point:
                    _hook(point)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # --- incidents -------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._conn() as conn:
            return schema_version(conn)

    def add_incidents(
        self, incidents: Sequence[Incident], events: Sequence[Event] = (), *, actor: str = "system"
    ) -> int:
        batch = common.prepare_batch(incidents, events, actor)
        if not batch:
            return 0
        rows, event_rows, audit_rows = [], [], []
        now = _now()
        for inc, status, evs in batch:
            values = _sqlite_values(codec.row_values(inc, status), _DATETIMES)
            rows.append([point_blob(*codec.point(status)), *values])
            event_rows += [_sqlite_values(codec.event_values(e), (3,)) for e in evs]
            detail = codec.to_json(common.add_detail(inc, len(evs)))
            audit_rows.append((now, actor, "add", inc.id, detail))
        try:
            with self._tx("add_incidents") as conn:
                insert_points(conn, _INSERT_INCIDENT, rows, [codec.point(s) for _, s, _ in batch])
                conn.executemany(_INSERT_EVENT, event_rows)
                conn.executemany(_INSERT_AUDIT, audit_rows)
                touch(conn, [codec.point(s) for _, s, _ in batch], now)
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise WriteRefused(f"无法保存事项 / cannot store the incidents: {exc}") from exc
            with self._tx(None) as conn:  # rolled back: look for what was there before
                keys = [(i.id, i.source, i.source_id) for i in incidents]
                raise common.duplicate_error(first_stored(conn, keys)) from None
        return len(batch)

    def add_received(self, batch: ReceivedBatch, *, actor: str = "ingest") -> int:
        if not len(batch):
            return 0
        rows = received_rows(batch, actor)
        try:
            with self._tx("add_incidents") as conn:
                span = write_received(conn, rows, _now(), defer=self._deferring)
            if self._deferring and getattr(self._pin, "known", None) is not None:
                self._pin.known.add(span, rows.lon, rows.lat)
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise WriteRefused(f"无法保存事项 / cannot store the incidents: {exc}") from exc
            with self._tx(None) as conn:  # rolled back: look for what was there before
                keys = [
                    (i, batch.source, s) for i, s in zip(batch.id, batch.source_id, strict=True)
                ]
                raise common.duplicate_error(first_stored(conn, keys)) from None
        return len(batch)

    def _load(
        self, conn: sqlite3.Connection, incident_id: str, scope: Scope
    ) -> tuple[Incident, dict[str, Any], list[Event]]:
        where, params = scope_clause(scope, DIALECT)
        row = conn.execute(f"{_INCIDENT_SELECT} WHERE i.id = ? AND {where}", [incident_id, *params])
        found = row.fetchone()
        if found is None:
            raise IncidentNotFound(incident_id)
        values = dict(zip(codec.NAMES, found, strict=False))
        incident = codec.incident_from_row(values, found[-2], found[-1])
        cur = conn.execute(codec.events_sql("?"), (incident_id,))
        return incident, values, [codec.event_from_row(r) for r in cur]

    def append_event(self, event: Event, expected_version: int, scope: Scope) -> IncidentStatus:
        try:
            with self._tx("append_event") as conn:
                incident, values, events = self._load(conn, event.incident_id, scope)
                if scope.read_only:
                    raise ReadOnlyScope(scope.actor, event.incident_id)
                if values["version"] != expected_version:
                    raise StaleVersion(event.incident_id, expected_version, values["version"])
                status = apply(fold(events, incident), event)
                conn.execute(_INSERT_EVENT, _sqlite_values(codec.event_values(event), (3,)))
                proj = codec.projection(status)
                update = _sqlite_values([proj[n] for n in codec.PROJECTED], _PROJECTED_DATETIMES)
                blob = point_blob(*codec.point(status))
                intake = codec.intake_json(incident, status)
                cur = conn.execute(
                    _UPDATE, [*update, blob, intake, event.incident_id, expected_version]
                )
                if cur.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; never pass silently
                    raise StaleVersion(event.incident_id, expected_version, -1)
                detail = codec.to_json(common.event_detail(event, expected_version))
                conn.execute(
                    _INSERT_AUDIT, (_now(), event.actor, "event", event.incident_id, detail)
                )
                touch(conn, [codec.point(status)], _now())
        except sqlite3.IntegrityError as exc:
            raise WriteRefused(f"数据库拒绝写入 / the database refused the write: {exc}") from exc
        seen = common.seen_status(status, scope)  # as the caller may see it
        return common.hide_unseen_in_status(self, seen, scope)

    def get_incident(self, incident_id: str, scope: Scope) -> IncidentRecord:
        with self._tx("view" if scope.personal_data else None) as conn:
            incident, _, events = self._load(conn, incident_id, scope)
            if scope.personal_data:
                detail = codec.to_json({"via": "get_incident"})
                conn.execute(
                    _INSERT_AUDIT, (_now(), scope.actor, "view_personal", incident_id, detail)
                )
        record = common.seen_record(incident, fold(events, incident), events, scope)
        return common.hide_unseen_record(self, record, scope)

    def events(self, incident_id: str, scope: Scope) -> list[Event]:
        with self._tx(None) as conn:
            events = self._load(conn, incident_id, scope)[2]
        return common.hide_unseen_in_events(self, common.seen_events(events, scope), scope)

    def query_incidents(self, query: IncidentQuery, scope: Scope) -> gpd.GeoDataFrame:
        where, params = query_clause(query, scope, DIALECT)
        columns, audited = common.query_read(query, scope)
        select = codec.select_sql(columns, "i.geom")
        sql = f"{select} WHERE {where}{order_page(query, DIALECT)}"
        with self._tx("view" if audited else None) as conn:
            rows = conn.execute(sql, params).fetchall()
            if audited and rows:
                now, detail = _now(), codec.to_json({"via": "query_incidents"})
                audit = [(now, scope.actor, "view_personal", r[0], detail) for r in rows]
                conn.executemany(_INSERT_AUDIT, audit)
        frame = common.typed_frame(
            [r[:-1] for r in rows], blobs_to_geometry(r[-1] for r in rows), columns
        )
        return common.hide_unseen_links(self, common.seen_frame(frame, scope), scope)

    def count_incidents(self, query: IncidentQuery, scope: Scope) -> int:
        sql, params = count_sql(query, scope, DIALECT)
        with self._tx(None) as conn:
            return int(conn.execute(sql, params).fetchone()[0])

    # --- audit -----------------------------------------------------------------------------

    def audit(
        self,
        actor: str,
        action: str,
        *,
        incident_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        with self._tx("audit") as conn:
            conn.execute(
                _INSERT_AUDIT, (_now(), actor, action, incident_id, codec.to_json(detail or {}))
            )

    def audit_log(self, *, incident_id: str | None = None) -> list[AuditEntry]:
        sql = "SELECT seq, at, actor, action, incident_id, detail FROM audit_log"
        params: list[Any] = []
        if incident_id is not None:
            sql, params = sql + " WHERE incident_id = ?", [incident_id]
        with self._tx(None) as conn:
            rows = conn.execute(sql + " ORDER BY seq", params).fetchall()
        return [
            AuditEntry(seq, codec.parse_time(at), actor, action, inc, codec.from_json(detail))  # type: ignore[arg-type]
            for seq, at, actor, action, inc, detail in rows
        ]

    # --- ingest: lookup and quarantine ------------------------------------------------------

    def repeat_candidates(self, since: datetime, until: datetime) -> pd.DataFrame:
        columns = "id, received_at, category, geom, caller_phone, closed_at, state"
        sql = common.candidate_sql(columns, "?", unindexed="+")
        to = codec.iso_ms(until)
        with self._tx(None) as conn:
            rows = conn.execute(sql, (to, codec.iso_ms(since), to)).fetchall()
        points = blobs_to_geometry(r[3] for r in rows)
        x, y = shapely.get_x(points), shapely.get_y(points)
        return common.candidates_frame([(*r[:3], x[i], y[i], *r[4:]) for i, r in enumerate(rows)])

    def source_keys(self, source: str, source_ids: Sequence[str]) -> dict[str, SourceKey]:
        out: dict[str, SourceKey] = {}
        with self._tx(None) as conn:
            for chunk in qr.chunks(source_ids):
                marks = ", ".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT i.source_id, i.id, i.version, (SELECT json_group_array(h) FROM "
                    "(SELECT json_extract(e.data, '$.content_hash') AS h FROM events e "
                    "WHERE e.incident_id = i.id AND h IS NOT NULL ORDER BY e.seq)) "
                    f"FROM incidents i WHERE i.source = ? AND i.source_id IN ({marks})",
                    [source, *chunk],
                )
                out.update(qr.source_key(r) for r in rows)
        return out

    def _quarantine_insert(
        self, conn: sqlite3.Connection, values: Sequence[tuple[Any, ...]], at: tuple[Any, ...]
    ) -> int:
        """``INSERT OR IGNORE`` of each row, ``at`` (the app's time) first; counts the changes."""
        cols = ("at", *qr.INSERT_COLUMNS)
        sql = codec.insert_sql("quarantine", cols, "?").replace("INSERT", "INSERT OR IGNORE", 1)
        before = conn.total_changes
        conn.executemany(sql, [(*at, *v) for v in values])
        return conn.total_changes - before

    def close(self) -> None:
        """Nothing to release: each operation opens and closes its own connection."""
