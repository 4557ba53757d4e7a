"""Quarantine rows and the (source, source_id) lookup, shared by both backends.

:class:`QuarantineMixin` holds the :class:`~store.quarantine.QuarantineStore` methods, on top of
:class:`store._users.AccountsMixin` (parameter marker, time binding, ``_tx``). The backends
differ only in how they insert many rows (``_quarantine_insert``) and in whose clock stamps a
write (``_now_sql``: GeoPackage binds the app's time, PostGIS asks the server); the statements
and the decoding of a row into a :class:`~store.quarantine.QuarantineEntry` live here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from store import _codec as codec
from store._users import AccountsMixin
from store.base import QuarantineNotFound, SourceKey
from store.quarantine import QuarantineEntry, QuarantineRow

STATUSES = ("open", "resolved", "discarded")
#: Columns written by :func:`values`, in order (``at`` is the backend's).
INSERT_COLUMNS = (
    "source", "source_id", "file", "line", "column_name", "code", "reason_zh", "reason_en",
    "problems", "raw", "raw_hash",
)  # fmt: skip
SELECT_COLUMNS = (
    "id", "at", "source", "source_id", "file", "line", "column_name", "code", "reason_zh",
    "reason_en", "problems", "raw", "raw_hash", "status", "resolved_at", "resolved_by",
    "incident_id", "note",
)  # fmt: skip
SELECT = f"SELECT {', '.join(SELECT_COLUMNS)} FROM quarantine"
#: Lookup chunk: well under SQLite's default limit of bound parameters.
CHUNK = 5000
#: What a text column or JSON value cannot keep: a NUL, a lone surrogate.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")
#: The same, less the surrogates that stand for undecodable bytes (U+DC80..U+DCFF): what a
#: feed's reader finds in a row (``ingest._raw.mark_unstorable``) and this shows as U+FFFD.
UNSTORABLE = re.compile("[\x00\ud800-\udc7f\udd00-\udfff]")


def raw_hash(source: str, raw: Mapping[str, Any]) -> str:
    """A stable digest of a raw row (key order and surrounding blanks do not matter)."""
    items = sorted((str(k).strip(), "" if v is None else str(v).strip()) for k, v in raw.items())
    text = json.dumps([source, items], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def row_hash(row: QuarantineRow) -> str:
    """The raw hash a row is kept under (its own, else :func:`raw_hash` of its raw row)."""
    return row.raw_hash or raw_hash(row.source, row.raw)


def values(row: QuarantineRow) -> tuple[Any, ...]:
    """Insert values of one row, in :data:`INSERT_COLUMNS` order (JSON as text)."""
    if not row.problems:
        raise ValueError("隔离行须说明原因 / a quarantined row needs at least one problem")
    first = row.problems[0]
    zh = "；".join(p["zh"] for p in row.problems)
    en = "; ".join(p["en"] for p in row.problems)
    raw = {clean(str(k)): (None if v is None else clean(str(v))) for k, v in row.raw.items()}
    return (
        row.source,
        None if row.source_id is None else clean(row.source_id),
        row.file,
        row.line,
        first.get("column"),
        first["code"],
        zh,
        en,
        codec.to_json(list(row.problems)),
        codec.to_json(raw),
        row_hash(row),
    )


def clean(text: str) -> str:
    """Undecodable bytes (kept as surrogates by the reader), other lone surrogates and NULs
    shown as U+FFFD, storable anywhere (PostgreSQL's text and jsonb refuse a NUL)."""
    if not _UNSAFE.search(text):
        return text
    text = UNSTORABLE.sub("\ufffd", text)  # what is left are undecodable bytes
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def entry(row: Sequence[Any]) -> QuarantineEntry:
    v = dict(zip(SELECT_COLUMNS, row, strict=True))
    at = codec.parse_time(v["at"])
    assert at is not None
    return QuarantineEntry(
        id=int(v["id"]),
        at=at,
        source=v["source"],
        source_id=v["source_id"],
        file=v["file"],
        line=v["line"],
        column=v["column_name"],
        code=v["code"],
        reason_zh=v["reason_zh"],
        reason_en=v["reason_en"],
        problems=tuple(codec.from_json(v["problems"]) or ()),
        raw=dict(codec.from_json(v["raw"]) or {}),
        raw_hash=v["raw_hash"],
        status=v["status"],
        resolved_at=codec.parse_time(v["resolved_at"]),
        resolved_by=v["resolved_by"],
        incident_id=v["incident_id"],
        note=v["note"],
    )


def list_sql(
    ph: str, status: str | None, source: str | None, limit: int | None
) -> tuple[str, list[Any]]:
    where, params = [], []
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"状态无效 / status must be one of {', '.join(STATUSES)}: {status!r}")
        where.append(f"status = {ph}")
        params.append(status)
    if source is not None:
        where.append(f"source = {ph}")
        params.append(source)
    sql = SELECT + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def check_resolution(status: str) -> None:
    if status not in ("resolved", "discarded"):
        raise ValueError(
            f"只能标记为 resolved 或 discarded / status must be resolved or discarded: {status!r}"
        )


def source_key(row: Sequence[Any]) -> tuple[str, SourceKey]:
    """``(source_id, key)`` of a lookup row ``(source_id, id, version, content hashes)``; the
    hashes arrive as a JSON array (GeoPackage), a list (PostGIS) or NULL."""
    sid, inc_id, version, hashes = row
    found = codec.from_json(hashes) or ()
    return str(sid), SourceKey(str(inc_id), int(version), tuple(str(h) for h in found if h))


def chunks(items: Sequence[str]) -> list[list[str]]:
    unique = sorted(set(items))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


class QuarantineMixin(AccountsMixin):
    """The :class:`~store.quarantine.QuarantineStore` methods, on top of a backend's ``_tx``."""

    #: SQL for the time of a write when the database's clock gives it (PostGIS:
    #: ``clock_timestamp()``); None binds the app's time, one value for the whole write.
    _now_sql: ClassVar[str | None] = None

    def _quarantine_insert(
        self, db: Any, values: Sequence[tuple[Any, ...]], at: tuple[Any, ...]
    ) -> int:  # pragma: no cover
        """Insert rows (:func:`values` of each), skipping those already held (same source and
        raw hash); return how many were added. ``at`` binds the write's time (empty when
        :attr:`_now_sql` gives it)."""
        raise NotImplementedError

    def _stamp(self) -> tuple[str, tuple[Any, ...]]:
        """The time of one write: the SQL that stands for it and the values that SQL binds."""
        if self._now_sql is not None:
            return self._now_sql, ()
        return "?", (self._time(datetime.now(UTC)),)

    def _audit_quarantine(
        self,
        db: Any,
        stamp: tuple[str, tuple[Any, ...]],
        actor: str,
        action: str,
        incident_id: str | None,
        detail: dict[str, Any],
    ) -> None:
        at_sql, at = stamp
        db.execute(
            self._sql(
                "INSERT INTO audit_log (at, actor, action, incident_id, detail) "
                f"VALUES ({at_sql}, ?, ?, ?, ?)"
            ),
            (*at, actor, action, incident_id, codec.to_json(detail)),
        )

    def quarantine_add(self, rows: Sequence[QuarantineRow], *, actor: str = "ingest") -> int:
        if not rows:
            return 0
        encoded = [values(r) for r in rows]
        stamp = self._stamp()
        with self._tx("quarantine_add") as db:
            added = self._quarantine_insert(db, encoded, stamp[1])
            if added:
                detail = {"added": added, "file": rows[0].file}
                self._audit_quarantine(db, stamp, actor, "quarantine_add", None, detail)
        return added

    def quarantine_held(self, source: str, hashes: Collection[str]) -> set[str]:
        wanted, held = sorted(set(hashes)), set[str]()
        with self._tx(None) as db:
            for k in range(0, len(wanted), CHUNK):
                part = wanted[k : k + CHUNK]
                marks = ", ".join("?" * len(part))
                sql = f"SELECT raw_hash FROM quarantine WHERE source = ? AND raw_hash IN ({marks})"
                held.update(r[0] for r in db.execute(self._sql(sql), (source, *part)).fetchall())
        return held

    def quarantine_list(
        self, *, status: str | None = "open", source: str | None = None, limit: int | None = None
    ) -> list[QuarantineEntry]:
        sql, params = list_sql(self._ph, status, source, limit)
        with self._tx(None) as db:
            return [entry(r) for r in db.execute(sql, params).fetchall()]

    def quarantine_get(self, entry_id: int) -> QuarantineEntry:
        with self._tx(None) as db:
            row = db.execute(self._sql(f"{SELECT} WHERE id = ?"), (int(entry_id),)).fetchone()
        if row is None:
            raise QuarantineNotFound(f"隔离记录不存在 / no quarantine entry {entry_id}")
        return entry(row)

    def quarantine_resolve(
        self,
        entry_id: int,
        *,
        actor: str,
        status: str = "resolved",
        incident_id: str | None = None,
        note: str = "",
    ) -> QuarantineEntry:
        check_resolution(status)
        stamp = self._stamp()
        at_sql, at = stamp
        with self._tx("quarantine_resolve") as db:
            cur = db.execute(
                self._sql(
                    f"UPDATE quarantine SET status = ?, resolved_at = {at_sql}, resolved_by = ?, "
                    "incident_id = ?, note = ? WHERE id = ? AND status = 'open'"
                ),
                (status, *at, actor, incident_id, note, int(entry_id)),
            )
            if cur.rowcount != 1:
                raise QuarantineNotFound(
                    f"没有待处理的隔离记录 / no open quarantine entry {entry_id}"
                )
            detail = {"quarantine_id": int(entry_id), "status": status}
            self._audit_quarantine(db, stamp, actor, "quarantine_resolve", incident_id, detail)
        return self.quarantine_get(entry_id)
