"""The GeoPackage file itself: a new store is laid out in :data:`store._gpkg_sql.PAGE_SIZE`
pages, an existing file keeps its own page size and takes writes, and GDAL reads both."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pyogrio

from store import open_store
from store._gpkg_sql import PAGE_SIZE, connect
from tests.store.conftest import make_incident

V1 = Path(__file__).resolve().parent.parent / "data" / "store_v1.gpkg"


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_new_store_uses_large_pages_and_gdal_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "new.gpkg"
    store = open_store(str(path))
    store.add_incidents([make_incident(1)])
    store.close()
    assert PAGE_SIZE == 16384 != 4096  # SQLite's default
    assert _page_size(path) == PAGE_SIZE
    assert pyogrio.read_dataframe(path, layer="incidents")["id"].tolist() == ["I0001"]


def test_existing_store_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    shutil.copy(V1, path)
    before = _page_size(path)
    assert before != PAGE_SIZE
    store = open_store(str(path))
    store.add_incidents([make_incident(9001)])
    store.close()
    assert _page_size(path) == before
    assert "I9001" in pyogrio.read_dataframe(path, layer="incidents")["id"].tolist()


def test_new_file_waits_for_another_opener_to_switch_to_wal(tmp_path: Path) -> None:
    """Two processes opening a new file at once (an ingest run and its writer process): the
    switch to WAL finds the file locked and is retried instead of failing."""
    path = tmp_path / "new.gpkg"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")  # the other opener migrating (SQLite does not wait here)
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        conn = connect(path, timeout_s=10)
    finally:
        release.join()
        other.close()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
