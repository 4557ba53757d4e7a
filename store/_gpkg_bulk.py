"""Bulk writes of the GeoPackage backend: new incidents as columns (the ingest fast path), the
layer extent kept true, and finding what a refused batch collided with.

Why the received rows' SQL has literals: the columns every new incident shares (state, version,
the empty timestamps, …) are written as SQL constants rather than bound per row — binding
``None`` and ``bool`` goes through sqlite3's adapter lookup, which costs more per value than
binding a string, and over 100,000 rows that was a good part of the write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from store._gpkg_sql import insert_points, point_blob
from store.received import CONSTANT, VARYING, ReceivedRows


def literal(value: Any) -> str:
    """An SQL constant for ``value`` (``None``, bool, number or text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


_INSERT_RECEIVED = (
    f"INSERT INTO incidents (fid, geom, {', '.join(VARYING)}, {', '.join(CONSTANT)}) "
    f"VALUES ({', '.join('?' * (2 + len(VARYING)))}, "
    f"{', '.join(literal(v) for v in CONSTANT.values())})"
)
_INSERT_RECEIVE_EVENT = (
    "INSERT INTO events (incident_id, seq, action, at, actor, reason, data) "
    "VALUES (?, 1, 'receive', ?, ?, '', ?)"
)
_INSERT_ADD_AUDIT = (
    "INSERT INTO audit_log (at, actor, action, incident_id, detail) VALUES (?, ?, ?, ?, ?)"
)


def write_received(
    conn: sqlite3.Connection, rows: ReceivedRows, now: str, *, defer: bool = False
) -> tuple[int, int] | None:
    """Insert the incidents, receive events and audit lines of ``rows`` (inside the caller's
    transaction), with their R-tree entries (``defer``: left pending, see
    :mod:`store._gpkg_rtree`) and the layer extent; the incidents' fids, first and last."""
    points = list(zip(rows.lon, rows.lat, strict=True))
    values = [(point_blob(x, y), *row) for (x, y), row in zip(points, rows.incidents, strict=True)]
    span = insert_points(conn, _INSERT_RECEIVED, values, points, defer=defer)
    conn.executemany(_INSERT_RECEIVE_EVENT, rows.events)
    conn.executemany(_INSERT_ADD_AUDIT, [(now, *a) for a in rows.audit])
    touch(conn, points, now)
    return span


def touch(
    conn: sqlite3.Connection, points: Iterable[tuple[float | None, float | None]], now: str
) -> None:
    """Keep the layer extent and last change in ``gpkg_contents`` true (QGIS reads them)."""
    xs = [x for x, y in points if x is not None and y is not None]
    ys = [y for x, y in points if x is not None and y is not None]
    if xs:
        conn.execute(
            "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, :x0), :x0), "
            "max_x = max(coalesce(max_x, :x1), :x1), min_y = min(coalesce(min_y, :y0), :y0), "
            "max_y = max(coalesce(max_y, :y1), :y1) WHERE table_name = 'incidents'",
            {"x0": min(xs), "x1": max(xs), "y0": min(ys), "y1": max(ys)},
        )
    conn.execute(
        "UPDATE gpkg_contents SET last_change = ? WHERE table_name IN ('incidents', 'events')",
        (now,),
    )


def first_stored(
    conn: sqlite3.Connection, keys: Sequence[tuple[str, str, str]]
) -> tuple[str, str, str] | None:
    """The first stored ``(id, source, source_id)`` among ``keys`` (same order), if any."""
    for inc_id, source, source_id in keys:
        found = conn.execute(
            "SELECT id, source, source_id FROM incidents WHERE id = ? "
            "OR (source = ? AND source_id = ?) LIMIT 1",
            (inc_id, source, source_id),
        ).fetchone()
        if found:
            return found  # type: ignore[no-any-return]
    return None


__all__ = ["first_stored", "literal", "touch", "write_received"]
