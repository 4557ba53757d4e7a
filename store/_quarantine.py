"""Quarantine rows and the (source, source_id) lookup, shared by both backends.

The backends differ only in their parameter marker and in how they insert many rows; the
statements and the decoding of a row into a :class:`~store.base.QuarantineEntry` live here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from store import _codec as codec
from store.base import QuarantineEntry, QuarantineRow, SourceKey

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


def raw_hash(source: str, raw: Mapping[str, Any]) -> str:
    """A stable digest of a raw row (key order and surrounding blanks do not matter)."""
    items = sorted((str(k).strip(), "" if v is None else str(v).strip()) for k, v in raw.items())
    text = json.dumps([source, items], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def values(row: QuarantineRow) -> tuple[Any, ...]:
    """Insert values of one row, in :data:`INSERT_COLUMNS` order (JSON as text)."""
    if not row.problems:
        raise ValueError("隔离行须说明原因 / a quarantined row needs at least one problem")
    first = row.problems[0]
    zh = "；".join(p["zh"] for p in row.problems)
    en = "; ".join(p["en"] for p in row.problems)
    raw = {str(k): (None if v is None else _clean(str(v))) for k, v in row.raw.items()}
    return (
        row.source,
        row.source_id,
        row.file,
        row.line,
        first.get("column"),
        first["code"],
        zh,
        en,
        codec.to_json(list(row.problems)),
        codec.to_json(raw),
        row.raw_hash or raw_hash(row.source, row.raw),
    )


def _clean(text: str) -> str:
    """Undecodable bytes (kept as surrogates by the reader) shown as U+FFFD, storable anywhere."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


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
