"""The GeoPackage's R-tree after a bulk load: packed into SQLite's own node layout, consistent
(``rtreecheck``), finding what an exact filter finds (for SQLite and for GDAL); a little
pending is inserted. A load killed before its end: ``tests/store/test_received.py``."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest

from store import IncidentQuery, Scope, open_store
from store import _gpkg_rtree as rt
from store._gpkg_sql import connect
from store.base import StoreError
from tests.store.conftest import event
from tests.store.test_received import make_batch


def _random_batch(n: int, seed: int = 3, first: int = 0) -> Any:
    """``n`` incidents at random points of a 0.2° square (several R-tree levels)."""
    rng = np.random.default_rng(seed)
    batch = make_batch(n, first=first)
    return type(batch)(
        **{
            **vars(batch),
            "lon": 120.0 + rng.random(n) * 0.2,
            "lat": 29.0 + rng.random(n) * 0.2,
            "repeat_of": [None] * n,
            "data": [{k: v for k, v in d.items() if k != "repeat_of"} for d in batch.data],
        }
    )


def _raw(path: Path, sql: str, *args: Any) -> list[Any]:
    conn = connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_pack_writes_the_nodes_sqlite_itself_would_index_the_same_boxes_by() -> None:
    """The same entries (float32 rounded outwards as SQLite rounds them, negative values
    too) as SQLite's own inserts, in a tree ``rtreecheck`` accepts, over three levels."""
    rng = np.random.default_rng(7)
    n = 6_000
    x0 = rng.uniform(-180, 180, n)
    y0 = rng.uniform(-90, 90, n)
    x1, y1 = x0 + rng.uniform(0, 1, n) * (rng.random(n) < 0.5), y0 + rng.uniform(0, 1e-3, n)
    ids = rng.permutation(np.arange(1, 10 * n, 10))[:n].astype(np.int64)
    db = sqlite3.connect(":memory:")
    for t in ("inserted", "packed"):
        db.execute(f"CREATE VIRTUAL TABLE {t} USING rtree(id, minx, maxx, miny, maxy)")
    rows = list(zip(ids.tolist(), x0.tolist(), x1.tolist(), y0.tolist(), y1.tolist(), strict=True))
    db.executemany("INSERT INTO inserted VALUES (?, ?, ?, ?, ?)", rows)
    size = len(db.execute("SELECT data FROM packed_node WHERE nodeno = 1").fetchone()[0])
    nodes, leaves, parents = rt.pack(ids, x0, x1, y0, y1, node_size=size)
    db.execute("DELETE FROM packed_node")
    db.executemany("INSERT INTO packed_node VALUES (?, ?)", nodes)
    db.executemany("INSERT INTO packed_rowid VALUES (?, ?)", leaves)
    db.executemany("INSERT INTO packed_parent VALUES (?, ?)", parents)
    assert db.execute("SELECT rtreecheck('packed')").fetchone() == ("ok",)
    depth = int.from_bytes(dict(nodes)[1][:2], "big")
    assert depth == 2 and len(leaves) == n
    every = "SELECT * FROM {} ORDER BY id"
    assert (
        db.execute(every.format("packed")).fetchall()
        == db.execute(every.format("inserted")).fetchall()
    )
    for _ in range(50):  # and the same answers to window queries
        w, s = rng.uniform(-180, 170), rng.uniform(-90, 80)
        q = "SELECT id FROM {} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? "
        q += "ORDER BY id"
        args = (w + 10, w, s + 10, s)
        assert (
            db.execute(q.format("packed"), args).fetchall()
            == db.execute(q.format("inserted"), args).fetchall()
        )
    db.execute("INSERT INTO packed VALUES (?, 0, 1, 0, 1)", (10 * n + 7,))  # still a working tree
    db.execute("DELETE FROM packed WHERE id = ?", (int(ids[0]),))
    assert db.execute("SELECT rtreecheck('packed')").fetchone() == ("ok",)


def test_a_bulk_load_indexes_every_incident_for_sqlite_and_gdal(tmp_path: Path) -> None:
    path = tmp_path / "bulk.gpkg"
    store = open_store(str(path))
    batch = _random_batch(3_000)
    with store.pinned(), store.deferred_index():
        store.add_received(batch, actor="ingest")
        assert _raw(path, "SELECT count(*) FROM rtree_incidents_geom")[0][0] == 0
        assert _raw(path, "SELECT fid_from, fid_to FROM ember_rtree_pending") == [(1, 3_000)]
    assert _raw(path, "SELECT count(*) FROM ember_rtree_pending") == [(0,)]
    assert _raw(path, "SELECT rtreecheck('rtree_incidents_geom')") == [("ok",)]
    lon, lat = np.asarray(batch.lon), np.asarray(batch.lat)
    rng = np.random.default_rng(1)
    everyone = Scope.everything("t")
    for _ in range(20):
        w, s = rng.uniform(120.0, 120.18), rng.uniform(29.0, 29.18)
        box = (w, s, w + 0.02, s + 0.02)
        exact = {
            batch.id[i]
            for i in np.flatnonzero((lon >= w) & (lon <= w + 0.02) & (lat >= s) & (lat <= s + 0.02))
        }
        assert exact, "a box with nothing in it tests nothing"
        assert set(store.query_incidents(IncidentQuery(bbox=box), everyone)["id"]) == exact
        # GDAL (as QGIS reads the file) answers a bbox read from the R-tree
        read = pyogrio.read_dataframe(path, layer="incidents", bbox=box, columns=["id"])
        assert set(read["id"]) == exact
    store.close()


def test_a_little_pending_is_inserted_into_the_tree_not_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "small.gpkg"
    store = open_store(str(path))
    big = _random_batch(400)
    store.add_received(big, actor="ingest")  # indexed as written
    nodes_before = _raw(path, "SELECT count(*) FROM rtree_incidents_geom_node")

    def no_rebuild(*args: Any) -> int:
        raise AssertionError("rebuilt for a few pending entries")

    monkeypatch.setattr(rt, "_rebuild", no_rebuild)
    small = make_batch(20, prefix="S", first=1_000)
    with store.pinned(), store.deferred_index():
        store.add_received(small, actor="ingest")
    assert _raw(path, "SELECT count(*) FROM rtree_incidents_geom") == [(420,)]
    assert _raw(path, "SELECT rtreecheck('rtree_incidents_geom')") == [("ok",)]
    assert _raw(path, "SELECT count(*) FROM rtree_incidents_geom_node") >= nodes_before
    store.close()


def test_each_batch_of_a_load_is_left_pending_and_the_trigger_put_back(tmp_path: Path) -> None:
    """Every write inside the block records its fids and leaves the R-tree's insert trigger
    in place for other writers (a dispatcher's new incident during or after the load)."""
    path = tmp_path / "batches.gpkg"
    store = open_store(str(path))
    trigger = "SELECT count(*) FROM sqlite_master WHERE name = 'rtree_incidents_geom_insert'"
    with store.pinned(), store.deferred_index():
        store.add_received(make_batch(30), actor="ingest")
        store.add_received(make_batch(20, prefix="S", first=100), actor="ingest")
        assert _raw(path, trigger) == [(1,)]
        assert _raw(path, "SELECT fid_from, fid_to FROM ember_rtree_pending") == [(1, 30), (31, 50)]
        assert store.index_deferred() == 50  # mid-load, as the run does before its last batch
        store.add_received(make_batch(5, prefix="T", first=200), actor="ingest")
        assert _raw(path, "SELECT fid_from, fid_to FROM ember_rtree_pending") == [(51, 55)]
    store.add_received(make_batch(4, prefix="U", first=300), actor="ingest")  # after the load
    assert _raw(path, "SELECT count(*) FROM rtree_incidents_geom") == [(59,)]
    assert _raw(path, "SELECT rtreecheck('rtree_incidents_geom')") == [("ok",)]
    assert _raw(path, trigger) == [(1,)]
    store.close()


def test_a_reader_opening_during_a_write_does_not_wait_to_catch_up(tmp_path: Path) -> None:
    """Pending entries and the write lock held (a load writing its next batch): a new reader
    goes on at once with the index as it is; once the lock is free the next opener catches
    up."""
    path = tmp_path / "busy.gpkg"
    loader = open_store(str(path))
    with loader.pinned(), loader.deferred_index():
        loader.add_received(_random_batch(200), actor="ingest")
        writing = sqlite3.connect(path, timeout=0)
        writing.execute("BEGIN IMMEDIATE")  # the load's next batch, in progress
        reader = open_store(str(path))
        start = time.monotonic()
        everywhere = IncidentQuery(bbox=(119.0, 28.0, 121.0, 30.0))
        assert len(reader.query_incidents(everywhere, Scope.everything("t"))) == 0  # stale
        assert time.monotonic() - start < 2  # not the 30 s busy timeout
        writing.execute("ROLLBACK")
        writing.close()
        assert len(reader.query_incidents(everywhere, Scope.everything("t"))) == 200
        assert _raw(path, "SELECT count(*) FROM ember_rtree_pending") == [(0,)]
        reader.close()
    loader.close()


def test_an_index_catch_up_that_cannot_write_raises_a_store_error_and_keeps_the_entries(
    tmp_path: Path,
) -> None:
    """The write lock held elsewhere (no wait allowed): the catch-up fails as the store's own
    error, bilingual, and the pending entries are still there for the next try."""
    path = tmp_path / "locked.gpkg"
    store = open_store(str(path))
    with store.pinned(), store.deferred_index():
        store.add_received(make_batch(12), actor="ingest")
        with store._conn() as conn:  # the pinned connection: do not wait 30 s for the lock
            conn.execute("PRAGMA busy_timeout = 0")
        other = sqlite3.connect(path, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match=r"空间索引.*spatial index") as err:
            store.index_deferred()
        assert isinstance(err.value.__cause__, sqlite3.OperationalError)
        other.execute("ROLLBACK")
        other.close()
        assert _raw(path, "SELECT fid_from, fid_to FROM ember_rtree_pending") == [(1, 12)]
        assert store.index_deferred() == 12
    assert _raw(path, "SELECT rtreecheck('rtree_incidents_geom')") == [("ok",)]
    store.close()


def _tree(path: Path) -> list[list[Any]]:
    return [
        _raw(path, f"SELECT * FROM rtree_incidents_geom_{part} ORDER BY 1")
        for part in ("node", "rowid", "parent")
    ]


def _load(path: Path, trust: bool, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Three batches (one point missing) loaded in a deferred block; the fids read back from
    their rows when the index is built."""
    read: list[int] = []
    boxes = rt._boxes

    def spy(conn: sqlite3.Connection, where: str = "1", params: tuple[int, ...] = ()) -> Any:
        found = boxes(conn, where, params)
        read.extend(b[0] for b in found)
        return found

    monkeypatch.setattr(rt, "_boxes", spy)
    if not trust:
        monkeypatch.setattr(rt.Known, "usable", lambda self, conn: None)
    store = open_store(str(path))
    store.add_received(_random_batch(50, seed=9, first=9_000), actor="ingest")  # indexed as written
    first = _random_batch(700, seed=1)
    lon = np.asarray(first.lon)
    lon[5] = np.nan  # no point: no entry
    with store.pinned(), store.deferred_index():
        store.add_received(type(first)(**{**vars(first), "lon": lon}), actor="ingest")
        store.add_received(make_batch(40, prefix="S", first=5_000), actor="ingest")
        store.add_received(make_batch(30, prefix="T", first=6_000), actor="ingest")
    store.close()
    monkeypatch.undo()
    return read


def test_a_load_indexes_the_points_it_wrote_without_reading_its_rows_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's own points (kept while nothing else wrote the file) give the very tree
    that reading every row back gives; only the rows from before the load are read."""
    kept = _load(tmp_path / "kept.gpkg", True, monkeypatch)
    read = _load(tmp_path / "read.gpkg", False, monkeypatch)
    assert sorted(kept) == list(range(1, 51))  # indexed before the load: read
    assert len(read) == 50 + 699 + 40 + 30
    assert _tree(tmp_path / "kept.gpkg") == _tree(tmp_path / "read.gpkg")
    assert _raw(tmp_path / "kept.gpkg", "SELECT rtreecheck('rtree_incidents_geom')") == [("ok",)]


def test_an_incident_moved_during_a_load_is_indexed_where_it_is_now(tmp_path: Path) -> None:
    """An amend during the load (a changed re-delivery) may move a pending incident: the
    points as first written are not trusted after it; nor after another connection wrote."""
    path = tmp_path / "moved.gpkg"
    store = open_store(str(path))
    everyone = Scope.everything("t")
    batch = make_batch(40)
    with store.pinned(), store.deferred_index():
        store.add_received(batch, actor="ingest")
        inc = store.get_incident(batch.id[3], everyone).incident
        moved = {"lon": 121.5, "lat": 31.5, "geocode_level": "manual"}
        store.append_event(event(inc, 2, "amend", 5, **moved), 1, everyone)
    box = (121.49, 31.49, 121.51, 31.51)
    assert list(store.query_incidents(IncidentQuery(bbox=box), everyone)["id"]) == [inc.id]
    read = pyogrio.read_dataframe(path, layer="incidents", bbox=box, columns=["id"])
    assert list(read["id"]) == [inc.id]
    conn = connect(path)
    known = rt.Known(conn)
    known.add((1, 1), [120.0], [30.0])
    assert known.usable(conn) is not None
    other = connect(path)
    other.execute("UPDATE gpkg_contents SET last_change = '2026-12-05T00:00:00.000Z'")
    other.close()
    assert known.usable(conn) is None  # another connection wrote the file
    conn.close()
    store.close()
