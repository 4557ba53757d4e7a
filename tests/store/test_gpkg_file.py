"""The GeoPackage file itself: a new store is laid out in :data:`store._gpkg_sql.PAGE_SIZE`
pages, an existing file keeps its own page size and takes writes, and GDAL reads both."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyogrio

from store import open_store
from store._gpkg_sql import PAGE_SIZE
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
