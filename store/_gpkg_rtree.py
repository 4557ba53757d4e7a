"""The incidents' R-tree (the GeoPackage spatial index) during and after a bulk load.

An insert into SQLite's R*-tree costs ~8 µs a point (it rewrites the leaf it lands in, and
its parents): 0.8 s of a 100,000-row import. A bulk load therefore writes its incidents with
the index left *pending* (fid ranges in ``ember_rtree_pending``, in the same transaction as the
rows) and brings the index up to date once, at its end (:func:`index_pending`): by ordinary
inserts when little is pending, else by rebuilding the whole tree packed (Sort-Tile-Recursive)
and writing its nodes straight into the R-tree's shadow tables — what GDAL does when it
creates a GeoPackage's spatial index, and what no maintained Python library does (the node
layout is SQLite's own, documented in ``ext/rtree/rtree.c``; ``rtreecheck()`` verifies it in
the tests).

Every new connection to the file tries :func:`catch_up` first (``GeoPackageStore``), so a
load killed before its end is repaired by whoever opens the store next. It does not wait for
the write lock: while a load writes a batch, a reader goes on with the index as it is (the
load's incidents are found by place once it ends) rather than queue behind it — WAL readers
never wait for a writer, and this keeps it so. Between two batches a reader may find the lock
free and catch up itself (~0.3 s for 100,000 incidents).
"""

from __future__ import annotations

import sqlite3
import struct
from typing import Any

import numpy as np
import numpy.typing as npt

RTREE = "rtree_incidents_geom"
#: Bytes of one cell of a 2-D R-tree node: a 64-bit id and four 32-bit floats, big-endian.
_CELL = np.dtype([("id", ">i8"), ("x0", ">f4"), ("x1", ">f4"), ("y0", ">f4"), ("y1", ">f4")])
#: Share of a node's cells a packed tree fills: room for the inserts that follow (a full node
#: splits at the first insert into it; SQLite's own R*-tree keeps its nodes about this full).
FILL = 0.75
#: Pending entries from which the index is rebuilt packed rather than inserted into (per entry
#: already indexed: a packed rebuild costs ~2 µs an entry, an insert ~8 µs).
REBUILD_SHARE = 0.5


def defer(conn: sqlite3.Connection, first: int, last: int) -> None:
    """Record fids ``first..last`` as not yet in the R-tree (inside the caller's transaction)."""
    conn.execute("INSERT INTO ember_rtree_pending (fid_from, fid_to) VALUES (?, ?)", (first, last))


def has_pending(conn: sqlite3.Connection) -> bool:
    """Whether some incidents wait for their R-tree entries."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM ember_rtree_pending)").fetchone()[0] == 1


def catch_up(conn: sqlite3.Connection) -> int:
    """:func:`index_pending` if the write lock is free at once (else 0, nothing done)."""
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        return index_pending(conn)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return 0
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


#: Write transactions (test-hook names) that leave every stored incident as it is: a load's
#: points kept in memory (:class:`Known`) stay true through them, and through no other.
KEEP_INCIDENTS = frozenset(
    {"add_incidents", "quarantine_add", "quarantine_resolve", "view", "audit", "apikey_add",
     "apikey_set_disabled", "apikey_touch", "user_add", "user_set_password",
     "user_set_disabled", "login_attempt"}
)  # fmt: skip
Points = dict[tuple[int, int], tuple[Any, Any]]


class Known:
    """The points of the pending fid ranges one connection wrote during a bulk load, kept so
    that the index is built without reading the rows back (in a load, from the WAL: ~0.15 s
    of 100,000 incidents). True only while no other connection has written the file (``PRAGMA
    data_version``) and this one has written nothing that may move an incident
    (:data:`KEEP_INCIDENTS`); else the rows are read, as for a load killed before its end."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.version = _data_version(conn)
        self.points: Points | None = {}

    def add(self, span: tuple[int, int] | None, lon: Any, lat: Any) -> None:
        """Fids ``span`` were written (committed) with these coordinates (None: no point)."""
        if span is not None and self.points is not None:
            self.points[span] = (lon, lat)

    def wrote(self, point: str) -> None:
        """The connection wrote a transaction named ``point``."""
        if point not in KEEP_INCIDENTS:
            self.points = None

    def indexed(self) -> None:
        """Nothing is pending any more: the points written so far are needed no longer."""
        if self.points is not None:
            self.points.clear()

    def usable(self, conn: sqlite3.Connection) -> Points | None:
        """The points, when still true for an index built on ``conn``."""
        if conn is not self.conn or self.points is None:
            return None
        return self.points if _data_version(conn) == self.version else None


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def index_pending(conn: sqlite3.Connection, known: Points | None = None) -> int:
    """Bring the R-tree up to date with the pending incidents, in one transaction of its own;
    how many entries were written (0: nothing was pending). ``known``: the points of pending
    ranges as written (:class:`Known`), else they are read from the rows."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        ranges = conn.execute("SELECT fid_from, fid_to FROM ember_rtree_pending").fetchall()
        if not ranges:
            conn.execute("COMMIT")
            return 0
        pending = sum(b - a + 1 for a, b in ranges)
        indexed = conn.execute(f'SELECT count(*) FROM "{RTREE}_rowid"').fetchone()[0]
        if pending >= REBUILD_SHARE * indexed:
            written = _rebuild(conn, ranges, known or {})
        else:
            written = 0
            for a, b in ranges:
                box = known_boxes(a, b, known[a, b]) if known and (a, b) in known else None
                rows = _boxes(conn, "fid BETWEEN ? AND ?", (a, b)) if box is None else box
                conn.executemany(f"INSERT OR REPLACE INTO {RTREE} VALUES (?, ?, ?, ?, ?)", rows)
                written += len(rows)
        conn.execute("DELETE FROM ember_rtree_pending")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return written


Box = tuple[int, float, float, float, float]
_FIRST_FID, _LAST_FID = -(2**63) + 1, 2**63 - 2  # SQLite's rowids, one in from each end
#: A GeoPackage blob of a 2-D point as this store writes it: the 8-byte header (``GP``,
#: version 0, flags 0x01: little-endian, no envelope, SRS id 4326), then little-endian WKB.
_POINT_BLOB = np.dtype(
    [("head", "V8"), ("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")]
)
_POINT_HEAD = struct.pack("<2sBBi", b"GP", 0, 0x01, 4326)


def _boxes(conn: sqlite3.Connection, where: str = "1", params: tuple[int, ...] = ()) -> list[Box]:
    """``(fid, minx, maxx, miny, maxy)`` of the incidents with a geometry (``where`` filters).

    The points this store writes are read with numpy, all at once (half the time of reading
    them one by one); any other blob (an envelope, big-endian, not a point) one by one."""
    from store._gpkg_sql import _bounds  # the blob reader (kept with the other blob code)

    rows = conn.execute(f"SELECT fid, geom FROM incidents WHERE {where}", params).fetchall()
    size = _POINT_BLOB.itemsize
    plain = [r for r in rows if r[1] is not None and len(r[1]) == size]
    cells = np.frombuffer(b"".join(r[1] for r in plain), _POINT_BLOB)
    ours = (
        (cells["head"] == np.void(_POINT_HEAD))
        & (cells["order"] == 1)
        & (cells["type"] == 1)
        & ~np.isnan(cells["x"])  # POINT EMPTY
    )
    x, y = cells["x"][ours].tolist(), cells["y"][ours].tolist()
    mine = ours.tolist()
    fids = [r[0] for r, k in zip(plain, mine, strict=True) if k]
    out = list(zip(fids, x, x, y, y, strict=True))
    others = [r for r, k in zip(plain, mine, strict=True) if not k]
    others += [r for r in rows if r[1] is not None and len(r[1]) != size]
    for fid, blob in others:
        box = _bounds(blob)
        if box is not None:
            out.append((fid, *box))
    if others:
        out.sort()  # in fid order, as read
    return out


def known_boxes(a: int, b: int, points: tuple[Any, Any]) -> list[Box]:
    """``(fid, minx, maxx, miny, maxy)`` of fids ``a..b`` from their points as written."""
    rows = _known_array(a, b, points).tolist()
    return [(int(f), x0, x1, y0, y1) for f, x0, x1, y0, y1 in rows]


def _known_array(a: int, b: int, points: tuple[Any, Any]) -> npt.NDArray[np.float64]:
    """:func:`known_boxes` as an array of rows."""
    x, y = (np.asarray(v, dtype=float) for v in points)  # None: NaN
    rows = np.column_stack([np.arange(a, b + 1, dtype=float), x, x, y, y])
    return rows[~(np.isnan(x) | np.isnan(y))]


def _rebuild(conn: sqlite3.Connection, ranges: list[tuple[int, int]], known: Points) -> int:
    """Replace the whole R-tree by one packed from every incident's box (those of the
    ``known`` pending ranges from their points as written, the rest read from the rows)."""
    held = sorted((a, b) for a, b in ranges if (a, b) in known)
    # the rest by fid ranges (a rowid range is a seek; "NOT BETWEEN" read every row)
    ends = [_FIRST_FID - 1, *(v for span in held for v in span), _LAST_FID + 1]
    read = [
        box
        for lo, hi in zip(ends[::2], ends[1::2], strict=True)
        if lo + 1 <= hi - 1
        for box in _boxes(conn, "fid BETWEEN ? AND ?", (lo + 1, hi - 1))
    ]
    parts = [np.array(read, dtype=float).reshape(-1, 5)]
    parts += [_known_array(a, b, known[a, b]) for a, b in held]
    boxes = np.concatenate(parts)
    if held:
        boxes = boxes[np.argsort(boxes[:, 0], kind="stable")]  # in fid order, as read
    size = len(conn.execute(f'SELECT data FROM "{RTREE}_node" WHERE nodeno = 1').fetchone()[0])
    for part in ("node", "rowid", "parent"):
        conn.execute(f'DELETE FROM "{RTREE}_{part}"')
    if not len(boxes):
        conn.execute(f'INSERT INTO "{RTREE}_node" VALUES (1, ?)', (bytes(size),))
        return 0
    nodes, leaves, parents = pack(boxes[:, 0].astype(np.int64), *boxes[:, 1:].T, node_size=size)
    conn.executemany(f'INSERT INTO "{RTREE}_node" VALUES (?, ?)', nodes)
    conn.executemany(f'INSERT INTO "{RTREE}_rowid" VALUES (?, ?)', leaves)
    conn.executemany(f'INSERT INTO "{RTREE}_parent" VALUES (?, ?)', parents)
    return len(boxes)


Array = npt.NDArray[np.float64]


def pack(
    ids: npt.NDArray[np.int64], minx: Array, maxx: Array, miny: Array, maxy: Array, *,
    node_size: int,
) -> tuple[list[tuple[int, bytes]], list[tuple[int, int]], list[tuple[int, int]]]:  # fmt: skip
    """An R-tree of the boxes packed by Sort-Tile-Recursive, as SQLite's shadow-table rows.

    Parameters
    ----------
    ids : the entries' ids (fids)
    minx, maxx, miny, maxy : their boxes (float64; stored as float32 rounded outwards, as
        SQLite's R-tree does)
    node_size : bytes of a node, as the tree's root node has them (it fixes the fan-out)

    Returns
    -------
    nodes : ``(nodeno, data)``, the root is node 1
    leaves : ``(id, nodeno)`` of every entry (the ``_rowid`` table)
    parents : ``(nodeno, parent nodeno)`` of every node but the root (the ``_parent`` table)
    """
    fan = int((node_size - 4) // _CELL.itemsize * FILL)
    level: tuple[npt.NDArray[Any], ...] = (
        np.asarray(ids, np.int64),
        _down(minx),
        _up(maxx),
        _down(miny),
        _up(maxy),
    )
    nodes: list[tuple[int, bytes]] = []
    leaves: list[tuple[int, int]] = []
    parents: list[tuple[int, int]] = []
    depth, next_no = 0, 2
    while True:
        n = len(level[0])
        x0, x1, y0, y1 = level[1:]
        order = _tiles((x0 + x1) / 2, (y0 + y1) / 2, fan)
        cells = np.empty(n, _CELL)
        for name, values in zip(("id", "x0", "x1", "y0", "y1"), level, strict=True):
            cells[name] = values[order]
        count = -(-n // fan)
        root = count == 1
        numbers = np.array([1]) if root else np.arange(next_no, next_no + count)
        next_no += 0 if root else count
        owner = np.repeat(numbers, fan)[:n].tolist()
        (leaves if depth == 0 else parents).extend(zip(cells["id"].tolist(), owner, strict=True))
        raw = cells.tobytes()
        for g, no in enumerate(numbers.tolist()):
            k = min(fan, n - g * fan)
            head = struct.pack(">HH", depth if root else 0, k)  # the depth: in the root only
            body = raw[g * fan * _CELL.itemsize : (g * fan + k) * _CELL.itemsize]
            nodes.append((no, head + body + bytes(node_size - len(head) - len(body))))
        if root:
            return nodes, leaves, parents
        starts = np.arange(0, n, fan)
        level = (
            numbers.astype(np.int64),
            np.minimum.reduceat(cells["x0"], starts).astype(np.float32),
            np.maximum.reduceat(cells["x1"], starts).astype(np.float32),
            np.minimum.reduceat(cells["y0"], starts).astype(np.float32),
            np.maximum.reduceat(cells["y1"], starts).astype(np.float32),
        )
        depth += 1


def _tiles(cx: Array, cy: Array, fan: int) -> npt.NDArray[np.intp]:
    """Sort-Tile-Recursive order: vertical slices of ~sqrt(nodes) nodes by x, by y in each."""
    n = len(cx)
    if n <= fan:
        return np.arange(n)
    per = int(np.ceil(np.sqrt(-(-n // fan)))) * fan
    by_x = np.argsort(cx, kind="stable")
    out = np.empty(n, np.intp)
    for a in range(0, n, per):
        part = by_x[a : a + per]
        out[a : a + per] = part[np.argsort(cy[part], kind="stable")]
    return out


#: SQLite's R-tree rounds a box outwards to float32 by scaling the double by 1 ± 2⁻²³ and
#: rounding that (``rtreeValueDown`` / ``rtreeValueUp`` in ``rtree.c``), not to the next float:
#: the same formula here gives the bytes its inserts would have written.
_TOWARDS, _AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0


def _down(v: Array) -> npt.NDArray[np.float32]:
    """float32 not above each value, as SQLite rounds a box's minimum."""
    d = np.asarray(v, np.float64)
    f = d.astype(np.float32)
    above = f.astype(np.float64) > d
    f[above] = (d[above] * np.where(d[above] < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return f


def _up(v: Array) -> npt.NDArray[np.float32]:
    """float32 not below each value, as SQLite rounds a box's maximum."""
    d = np.asarray(v, np.float64)
    f = d.astype(np.float32)
    below = f.astype(np.float64) < d
    f[below] = (d[below] * np.where(d[below] < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return f


__all__ = [
    "KEEP_INCIDENTS",
    "RTREE",
    "Known",
    "catch_up",
    "defer",
    "has_pending",
    "index_pending",
    "known_boxes",
    "pack",
]
