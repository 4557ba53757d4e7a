"""SQLite plumbing of the GeoPackage backend: connections, GeoPackage geometry blobs, migrations.

Why sqlite3 and not GDAL for incidents: GDAL (pyogrio) writes whole layers well, but incidents
need what only SQL gives — one transaction for an event, its projection row and its audit line,
``BEGIN IMMEDIATE`` so that two writers queue instead of both winning, a version-conditional
update, triggers that keep events and the audit log append-only. So the store writes through
sqlite3, in the GeoPackage's own formats: geometry as GeoPackage blobs (``GP`` header + WKB),
times as ``YYYY-MM-DDTHH:MM:SS.sssZ``, and the standard R-tree triggers, whose ``ST_*`` functions
GDAL and QGIS define for themselves and :func:`connect` defines here.
"""

from __future__ import annotations

import sqlite3
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from store import _codec as codec
from store import _gpkg_rtree
from store._filters import Dialect
from store.base import StoreError
from store.migrations import load, newer_schema

SRS_ID = 4326
GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400  # GeoPackage 1.4
_POINT = struct.Struct("<2sBBiBIdd")  # header (no envelope, little-endian) + WKB point
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def point_blob(lon: float | None, lat: float | None) -> bytes | None:
    """A GeoPackage geometry blob of a WGS84 point (``None`` for no location)."""
    if lon is None or lat is None:
        return None
    return _POINT.pack(b"GP", 0, 0x01, SRS_ID, 1, 1, lon, lat)


def blob_wkb(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob."""
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07] :]


def blobs_to_geometry(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Shapely geometries (``None`` stays ``None``) of GeoPackage blobs."""
    return shapely.from_wkb([None if b is None else blob_wkb(b) for b in blobs])


def _bounds(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a blob, from its envelope, its point, or shapely."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0x10:
        return None  # empty geometry
    envelope = (flags >> 1) & 0x07
    order = "<" if flags & 0x01 else ">"
    if envelope:
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
        return minx, maxx, miny, maxy
    wkb = blob[8:]
    wkb_order = "<" if wkb[0] == 1 else ">"
    if struct.unpack_from(wkb_order + "I", wkb, 1)[0] == 1:
        x, y = struct.unpack_from(wkb_order + "2d", wkb, 5)
        if x != x:
            return None  # POINT EMPTY
        return x, x, y, y
    geom = shapely.from_wkb(wkb)
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


def _bound(i: int) -> Callable[[bytes | None], float | None]:
    def fn(blob: bytes | None) -> float | None:
        b = _bounds(blob)
        return None if b is None else b[i]

    return fn


def _is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(_bounds(blob) is None)


RTREE_TRIGGER = f"{_gpkg_rtree.RTREE}_insert"


def insert_points(
    conn: sqlite3.Connection,
    insert_sql: str,
    rows: Sequence[Sequence[Any]],
    points: Sequence[tuple[float | None, float | None]],
    *,
    defer: bool = False,
) -> tuple[int, int] | None:
    """Insert incident rows (``insert_sql`` takes the fid first) and index their points; the
    fids given them, first and last (None: no rows).

    A bulk load as GDAL does it: the R-tree insert trigger is set aside for the batch and the
    index rows are written straight from the coordinates (the trigger would call back into
    Python five times a row), then the trigger is put back — all inside the caller's
    transaction, so a rollback restores it too. With ``defer`` the index rows are left pending
    for the end of the load (:mod:`store._gpkg_rtree`).
    """
    found = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (RTREE_TRIGGER,)
    ).fetchone()
    start = conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'incidents'), 0), "
        "coalesce((SELECT max(fid) FROM incidents), 0))"
    ).fetchone()[0]
    fids = range(start + 1, start + 1 + len(rows))
    if found:
        conn.execute(f"DROP TRIGGER {RTREE_TRIGGER}")
    conn.executemany(insert_sql, [(fid, *row) for fid, row in zip(fids, rows, strict=True)])
    span = (fids[0], fids[-1]) if len(rows) else None
    if not found:
        return span
    if defer and span is not None:
        _gpkg_rtree.defer(conn, *span)
    elif span is not None:  # the boxes as the index's catch-up makes them from known points
        xy = ([x for x, _ in points], [y for _, y in points])
        conn.executemany(
            f"INSERT INTO {_gpkg_rtree.RTREE} VALUES (?, ?, ?, ?, ?)",
            _gpkg_rtree.known_boxes(*span, xy),
        )
    conn.execute(found[0])  # the trigger back, for every other write
    return span


#: Page size of a new file. An incident row is ~0.9 KB: with SQLite's default 4 KiB pages a bulk
#: load of 100,000 incidents wrote ~4× as many pages (each a WAL frame, written again by the
#: checkpoint) as with 16 KiB pages, and took ~1 s longer (``bench/bench_ingest.py``). GDAL
#: and QGIS read any page size; an existing file keeps its own.
PAGE_SIZE = 16384


def connect(path: Path, *, timeout_s: float = 30.0) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with the GeoPackage SQL
    functions the R-tree triggers call, WAL, foreign keys and a busy timeout."""
    new = not path.exists() or path.stat().st_size == 0
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
    if new:  # only before the first page is written (and before WAL): see PAGE_SIZE
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _bound(i), deterministic=True)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    conn.execute("PRAGMA cache_size = -131072")  # 128 MiB at most, for bulk loads
    conn.execute("PRAGMA foreign_keys = ON")
    _wal(conn, timeout_s)
    return conn


def _wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch the file to WAL. The switch needs the file to itself and SQLite does not wait for
    it (no busy handler): two processes opening a new file at once (an ingest run and its
    writer process) saw "database is locked", so it is retried until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies hold semicolons)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement: {buf.strip()[:80]}")
    return out


def schema_version(conn: sqlite3.Connection) -> int:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not found:
        return 0
    return int(
        conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
    )


def migrate(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Apply the GeoPackage steps not yet recorded (up to ``target``, default all); return the
    schema version. A file from a newer Ember is refused: this code would misread it."""
    steps = load("gpkg")[:target]
    found = schema_version(conn)
    if found > len(load("gpkg")):
        raise newer_schema(found, len(load("gpkg")))
    if found >= len(steps):
        return found
    if conn.execute("PRAGMA application_id").fetchone()[0] == 0:
        conn.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
    for step in steps:
        conn.execute("BEGIN IMMEDIATE")  # one opener migrates; the others wait, then skip
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at DATETIME NOT NULL)"
            )
            if schema_version(conn) >= step.version:
                conn.execute("COMMIT")
                continue
            if step.version == 1:
                _refuse_foreign_incidents(conn)
            for stmt in statements(step.sql):
                conn.execute(stmt)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (step.version, step.name, datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(steps)


def _refuse_foreign_incidents(conn: sqlite3.Connection) -> None:
    """A file from before the store owned incidents has a plain ``incidents`` layer: say so."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'"
    ).fetchone()
    if found:
        raise StoreError(
            "该文件中的 incidents 图层是旧格式，请重新生成（ember demo）或另存后导入 / "
            "this file holds an old-style 'incidents' layer; rebuild it (`ember demo`) "
            "or move that layer out before using the store"
        )


def _in_list(column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def _bbox(b: tuple[float, float, float, float]) -> tuple[str, list[Any]]:
    west, south, east, north = b
    # The R-tree holds float32 boxes rounded outwards: it finds candidates, the exact test decides.
    sql = (
        "i.fid IN (SELECT id FROM rtree_incidents_geom WHERE minx <= ? AND maxx >= ? "
        "AND miny <= ? AND maxy >= ?) AND ST_MinX(i.geom) <= ? AND ST_MaxX(i.geom) >= ? "
        "AND ST_MinY(i.geom) <= ? AND ST_MaxY(i.geom) >= ?"
    )
    return sql, [east, west, north, south] * 2


DIALECT = Dialect(ph="?", in_list=_in_list, bbox=_bbox, time=codec.iso_ms, false="0", no_limit="-1")
