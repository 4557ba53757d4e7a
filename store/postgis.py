"""PostGIS backend (psycopg 3), selected by ``EMBER_DB=postgresql://…``.

Same contract and tests as the GeoPackage backend. Bulk loads use COPY; an event is appended
under ``SELECT … FOR UPDATE`` of its incident row, so a second dispatcher waits, then finds the
version moved and gets :class:`~store.base.StaleVersion`. Connections come from a small pool
(several app threads per process; nothing kept between requests that breaks with several
workers); every session runs in UTC. Migrations run when the store is opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg_pool import ConnectionPool

from incidents.lifecycle import IncidentStatus, apply, fold
from incidents.model import Event, Incident
from layers.io import conform
from store import _codec as codec
from store import _common as common
from store import _pg_sql as q
from store import _quarantine as qr
from store._apikeys import ApiKeysMixin
from store._filters import count_sql, order_page, query_clause, scope_clause
from store._flat import from_frame
from store._quarantine import QuarantineMixin
from store._stats import StatsMixin
from store.base import (
    WAIT_S,
    AuditEntry,
    Frame,
    IncidentNotFound,
    IncidentQuery,
    IncidentRecord,
    LayerNotFound,
    ReadOnlyScope,
    Scope,
    SourceKey,
    StaleVersion,
    StoreError,
    WriteRefused,
    _hook,
)
from store.received import ReceivedBatch, received_rows


def _refused(exc: psycopg.errors.IntegrityError) -> WriteRefused:
    """A constraint violation without PostgreSQL's DETAIL, which quotes the row (personal data).
    Raise it ``from None`` so that the original does not reach a traceback or a log either."""
    return WriteRefused(
        f"数据库拒绝写入 / the database refused the write: {exc.diag.message_primary} "
        f"({exc.diag.constraint_name or exc.sqlstate})"
    )


#: Array types of :data:`store._quarantine.INSERT_COLUMNS`, for ``unnest``.
_QUARANTINE_TYPES = (
    "text", "text", "text", "int", "text", "text", "text", "text", "jsonb", "jsonb", "text",
)  # fmt: skip


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


class PostGISStore(ApiKeysMixin, QuarantineMixin, StatsMixin):  # shared: see the mixins
    """Layers, incidents and their events in a PostgreSQL database with PostGIS."""

    _ph = "%s"
    _time_as_text = False
    _now_sql = "clock_timestamp()"

    def __init__(self, url: str, *, max_connections: int = 8, wait_s: float = WAIT_S):
        self.url = url
        self.wait_s = wait_s  # for another session's lock (lock_timeout), then StoreBusy
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"options": f"-c TimeZone=UTC -c lock_timeout={int(wait_s * 1000)}"},
            check=ConnectionPool.check_connection,
            open=False,
            name="ember-store",
        )
        try:
            self._pool.open(wait=True, timeout=15)
            with self._pool.connection() as conn:
                q.migrate(conn)
        except Exception as exc:
            self._pool.close()
            raise StoreError(
                f"无法打开 PostGIS 数据库 {_redact(url)}：{exc} / "
                f"cannot open the PostGIS store {_redact(url)}: {exc}"
            ) from exc

    @contextmanager
    def _tx(self, point: str | None) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction (committed on success); ``point`` names a write for the test hook.
        A lock another session holds past ``wait_s`` (``lock_timeout``): :class:`StoreBusy`."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
                if point:
                    _hook(point)
        except psycopg.errors.LockNotAvailable as exc:
            raise common.busy(exc, self.wait_s) from exc

    @contextmanager
    def pinned(self) -> Iterator[None]:
        yield  # connections are pooled already: nothing to pin

    @contextmanager
    def deferred_index(self) -> Iterator[None]:
        yield  # not deferred here: the server keeps its GiST index as the rows arrive

    def index_deferred(self) -> int:
        return 0

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostGISStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- layers ----------------------------------------------------------------------------

    def exists(self) -> bool:
        if len(self.layer_names()) > len(common.INCIDENT_TABLES):
            return True
        with self._tx(None) as cur:
            row = cur.execute("SELECT EXISTS (SELECT 1 FROM incidents)").fetchone()
        return bool(row and row[0])

    def layer_names(self) -> list[str]:
        with self._tx(None) as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'layers' "
                "ORDER BY table_name"
            )
            return [*common.INCIDENT_TABLES, *(r[0] for r in cur.fetchall())]

    def read_layer(self, name: str) -> Frame:
        if name == "incidents":  # personal data masked: a layer read is not an audited view
            return self.query_incidents(IncidentQuery(), Scope.everything("layers"))
        if name == "events":
            with self._tx(None) as cur:
                cur.execute(
                    f"SELECT {', '.join(codec.EVENT_COLUMNS)} FROM events ORDER BY incident_id, seq"
                )
                rows = [codec.event_values(codec.event_from_row(r)) for r in cur.fetchall()]
            frame = pd.DataFrame.from_records(rows, columns=list(codec.EVENT_COLUMNS))
            frame["at"] = pd.to_datetime(frame["at"], utc=True).astype("datetime64[ms, UTC]")
            return frame
        if name not in self.layer_names():
            raise LayerNotFound(f"图层不存在 / no layer {name!r} in {_redact(self.url)}")
        with self._tx(None) as cur:
            return conform(q.read_layer(cur, name), name)

    def write_layers(self, frames: Mapping[str, Frame]) -> None:
        reserved = sorted(common.RESERVED & set(frames))
        if reserved:
            raise StoreError(f"图层名保留给存储 / layer names reserved by the store: {reserved}")
        with self._tx("write_layers") as cur:
            for name, frame in frames.items():
                if name != "incidents":
                    q.write_layer(cur, name, frame)
            if any(name != "incidents" for name in frames):
                cur.execute(
                    "UPDATE ember_layers_version SET version = greatest(version + 1, "
                    "extract(epoch FROM now())::bigint), changed_at = now() WHERE id = 1"
                )
        if "incidents" in frames:
            self.add_incidents(*from_frame(frames["incidents"]), actor="layers")

    def layers_version(self) -> int:
        with self._tx(None) as cur:
            row = cur.execute("SELECT version FROM ember_layers_version WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    # --- incidents -------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            return q.schema_version(conn)

    def add_incidents(
        self, incidents: Sequence[Incident], events: Sequence[Event] = (), *, actor: str = "system"
    ) -> int:
        batch = common.prepare_batch(incidents, events, actor)
        if not batch:
            return 0
        try:
            with self._tx("add_incidents") as cur:
                with cur.copy(q.INCIDENT_COPY) as copy:
                    for inc, status, _ in batch:
                        copy.write_row(
                            (*codec.row_values(inc, status), q.ewkb_point(*codec.point(status)))
                        )
                with cur.copy(q.EVENT_COPY) as copy:
                    for _, _, evs in batch:
                        for e in evs:
                            copy.write_row(codec.event_values(e))
                with cur.copy(q.AUDIT_COPY) as copy:
                    for inc, _, evs in batch:
                        copy.write_row(
                            (actor, "add", inc.id, codec.to_json(common.add_detail(inc, len(evs))))
                        )
        except psycopg.errors.IntegrityError as exc:
            if not isinstance(exc, psycopg.errors.UniqueViolation):
                raise _refused(exc) from None
            with self._tx(None) as cur:
                found = cur.execute(
                    q.FIRST_STORED,
                    (
                        [i.id for i in incidents],
                        [i.source for i in incidents],
                        [i.source_id for i in incidents],
                    ),
                ).fetchone()
            raise common.duplicate_error(found) from None
        return len(batch)

    def add_received(self, batch: ReceivedBatch, *, actor: str = "ingest") -> int:
        if not len(batch):
            return 0
        rows = received_rows(batch, actor)
        try:
            with self._tx("add_incidents") as cur:
                q.copy_received(cur, rows)
        except psycopg.errors.IntegrityError as exc:
            if not isinstance(exc, psycopg.errors.UniqueViolation):
                raise _refused(exc) from None
            with self._tx(None) as cur:
                keys = (list(batch.id), [batch.source] * len(batch), list(batch.source_id))
                found = cur.execute(q.FIRST_STORED, keys).fetchone()
            raise common.duplicate_error(found) from None
        return len(batch)

    def _load(
        self, cur: psycopg.Cursor[Any], incident_id: str, scope: Scope, *, lock: bool = False
    ) -> tuple[Incident, dict[str, Any], list[Event]]:
        where, params = scope_clause(scope, q.DIALECT)
        sql = f"{q.INCIDENT_SELECT} WHERE i.id = %s AND {where}" + (" FOR UPDATE" if lock else "")
        found = cur.execute(sql, [incident_id, *params]).fetchone()
        if found is None:
            raise IncidentNotFound(incident_id)
        values = dict(zip(codec.NAMES, found, strict=False))
        incident = codec.incident_from_row(values, found[-2], found[-1])
        rows = cur.execute(q.EVENT_SELECT, (incident_id,)).fetchall()
        return incident, values, [codec.event_from_row(r) for r in rows]

    def append_event(self, event: Event, expected_version: int, scope: Scope) -> IncidentStatus:
        try:
            return self._append(event, expected_version, scope)
        except psycopg.errors.IntegrityError as exc:
            raise _refused(exc) from None

    def _append(self, event: Event, expected_version: int, scope: Scope) -> IncidentStatus:
        with self._tx("append_event") as cur:
            incident, values, events = self._load(cur, event.incident_id, scope, lock=True)
            if scope.read_only:
                raise ReadOnlyScope(scope.actor, event.incident_id)
            if values["version"] != expected_version:
                raise StaleVersion(event.incident_id, expected_version, values["version"])
            status = apply(fold(events, incident), event)
            cur.execute(q.INSERT_EVENT, codec.event_values(event))
            proj = codec.projection(status)
            cur.execute(
                q.UPDATE,
                [
                    *(proj[n] for n in codec.PROJECTED),
                    q.ewkb_point(*codec.point(status)),
                    codec.intake_json(incident, status),
                    event.incident_id,
                    expected_version,
                ],
            )
            if cur.rowcount != 1:  # cannot happen under FOR UPDATE; never pass silently
                raise StaleVersion(event.incident_id, expected_version, -1)
            detail = codec.to_json(common.event_detail(event, expected_version))
            cur.execute(q.INSERT_AUDIT, (event.actor, "event", event.incident_id, detail))
        seen = common.seen_status(status, scope)  # as the caller may see it
        return common.hide_unseen_in_status(self, seen, scope)

    def get_incident(self, incident_id: str, scope: Scope) -> IncidentRecord:
        with self._tx("view" if scope.personal_data else None) as cur:
            incident, _, events = self._load(cur, incident_id, scope)
            if scope.personal_data:
                detail = codec.to_json({"via": "get_incident"})
                cur.execute(q.INSERT_AUDIT, (scope.actor, "view_personal", incident_id, detail))
        record = common.seen_record(incident, fold(events, incident), events, scope)
        return common.hide_unseen_record(self, record, scope)

    def events(self, incident_id: str, scope: Scope) -> list[Event]:
        with self._tx(None) as cur:
            events = self._load(cur, incident_id, scope)[2]
        return common.hide_unseen_in_events(self, common.seen_events(events, scope), scope)

    def query_incidents(self, query: IncidentQuery, scope: Scope) -> gpd.GeoDataFrame:
        where, params = query_clause(query, scope, q.DIALECT)
        columns, audited = common.query_read(query, scope)
        select = codec.select_sql(columns, q.QUERY_GEOMETRY)
        sql = f"{select} WHERE {where}{order_page(query, q.DIALECT)}"
        with self._tx("view" if audited else None) as cur:
            rows = cur.execute(sql, params).fetchall()
            if audited and rows:
                detail = codec.to_json({"via": "query_incidents"})
                with cur.copy(q.AUDIT_COPY) as copy:
                    for r in rows:
                        copy.write_row((scope.actor, "view_personal", r[0], detail))
        geoms = shapely.from_wkb([None if r[-1] is None else bytes(r[-1]) for r in rows])
        frame = common.typed_frame([r[:-1] for r in rows], geoms, columns)
        return common.hide_unseen_links(self, common.seen_frame(frame, scope), scope)

    def count_incidents(self, query: IncidentQuery, scope: Scope) -> int:
        sql, params = count_sql(query, scope, q.DIALECT)
        with self._tx(None) as cur:
            found = cur.execute(sql, params).fetchone()
        return int(found[0]) if found else 0

    # --- ingest: lookup and quarantine ------------------------------------------------------

    def repeat_candidates(self, since: datetime, until: datetime) -> pd.DataFrame:
        columns = (
            "id, received_at, category, ST_X(geom), ST_Y(geom), caller_phone, closed_at, state"
        )
        sql = common.candidate_sql(columns, "%s")
        to = codec.utc_ms(until)
        with self._tx(None) as cur:
            rows = cur.execute(sql, (to, codec.utc_ms(since), to)).fetchall()
        return common.candidates_frame(rows)

    def source_keys(self, source: str, source_ids: Sequence[str]) -> dict[str, SourceKey]:
        out: dict[str, SourceKey] = {}
        with self._tx(None) as cur:
            for chunk in qr.chunks(source_ids):
                rows = cur.execute(
                    "SELECT i.source_id, i.id, i.version, (SELECT array_agg(e.data->>"
                    "'content_hash' ORDER BY e.seq) FROM events e WHERE e.incident_id = i.id "
                    "AND e.data ? 'content_hash') FROM incidents i "
                    "WHERE i.source = %s AND i.source_id = ANY(%s)",
                    (source, chunk),
                ).fetchall()
                out.update(qr.source_key(r) for r in rows)
        return out

    def _quarantine_insert(
        self, cur: psycopg.Cursor[Any], values: Sequence[tuple[Any, ...]], at: tuple[Any, ...]
    ) -> int:
        """One ``INSERT … SELECT FROM unnest`` of typed arrays; ``at`` is empty (the column's
        default, the server's clock)."""
        arrays = list(zip(*values, strict=True))
        unnest = ", ".join(f"%s::{t}[]" for t in _QUARANTINE_TYPES)
        sql = (
            f"INSERT INTO quarantine ({', '.join(qr.INSERT_COLUMNS)}) SELECT * FROM "
            f"unnest({unnest}) ON CONFLICT (source, raw_hash) DO NOTHING"
        )
        try:
            cur.execute(sql, [list(a) for a in arrays])
        except psycopg.errors.IntegrityError as exc:
            raise _refused(exc) from None
        return max(cur.rowcount, 0)

    # --- audit -----------------------------------------------------------------------------

    def audit(
        self,
        actor: str,
        action: str,
        *,
        incident_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        with self._tx("audit") as cur:
            cur.execute(q.INSERT_AUDIT, (actor, action, incident_id, codec.to_json(detail or {})))

    def audit_log(self, *, incident_id: str | None = None) -> list[AuditEntry]:
        sql = "SELECT seq, at, actor, action, incident_id, detail FROM audit_log"
        params: list[Any] = []
        if incident_id is not None:
            sql, params = sql + " WHERE incident_id = %s", [incident_id]
        with self._tx(None) as cur:
            rows = cur.execute(sql + " ORDER BY seq", params).fetchall()
        return [
            AuditEntry(seq, codec.parse_time(at), actor, action, inc, codec.from_json(detail))  # type: ignore[arg-type]
            for seq, at, actor, action, inc, detail in rows
        ]
