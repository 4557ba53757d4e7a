"""Upgrades: a store made by the first released schema (``tests/data/store_v1.gpkg``, written by
the store's first version) and an empty PostGIS database at step 1 come up to today's schema with
their data intact; a store from a newer Ember is refused; step 8 fills the standing resolution
of the incidents already stored from their events, on both backends."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest

from app.reports import load_frame
from incidents import kpi
from store import IncidentQuery, Scope, StoreError, open_store
from store.migrations import load
from store.upgrade import current_version, upgrade
from tests.store.conftest import make_incident
from tests.store.test_kpi_frame import DEADLINE_DAY, _scenario

V1 = Path(__file__).resolve().parent.parent / "data" / "store_v1.gpkg"
EVERYONE = Scope.everything("test")


def _v1_rows(path: Path) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT id, state, version FROM incidents ORDER BY id").fetchall()
    finally:
        conn.close()


def test_first_schema_gpkg_upgrades_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    shutil.copy(V1, path)
    latest = len(load("gpkg"))
    assert current_version(str(path)) == 1 < latest
    rows = _v1_rows(path)
    assert len(rows) == 40

    dry = upgrade(str(path), dry_run=True)
    assert (dry.before, dry.after, dry.latest) == (1, 1, latest)
    assert dry.steps[0].startswith("0002 ") and len(dry.steps) == latest - 1
    assert current_version(str(path)) == 1  # a dry run changes nothing

    done = upgrade(str(path))
    assert (done.before, done.after) == (1, latest) and done.steps == dry.steps
    assert upgrade(str(path)).steps == []  # idempotent

    store = open_store(str(path))
    try:
        frame = store.query_incidents(IncidentQuery(), EVERYONE).sort_values("id")
        assert list(zip(frame["id"], frame["state"], frame["version"], strict=True)) == rows
        first = store.get_incident(rows[0][0], EVERYONE)
        assert len(store.events(rows[0][0], EVERYONE)) == first.status.version
        assert "town" in store.layer_names()
        assert store.add_incidents([make_incident(1)]) == 1
        assert store.quarantine_list() == []  # a table of a later step
    finally:
        store.close()


@pytest.mark.postgis
def test_step_one_postgis_upgrades(pg_url: str) -> None:
    import psycopg

    from store import _pg_sql

    with psycopg.connect(pg_url) as conn:
        assert _pg_sql.migrate(conn, target=1) == 1
    assert current_version(pg_url) == 1
    done = upgrade(pg_url)
    assert (done.before, done.after) == (1, len(load("postgis")))
    store = open_store(pg_url)
    try:
        assert store.add_incidents([make_incident(1)]) == 1
        assert store.schema_version() == len(load("postgis"))
    finally:
        store.close()


def test_store_from_a_newer_ember_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.gpkg"
    shutil.copy(V1, path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer Ember"):
        upgrade(str(path))
    with pytest.raises(StoreError, match="newer Ember"):
        open_store(str(path)).schema_version()


def _standing_matches_the_fold(url: str) -> list[str]:
    """Assert that every incident's ``standing_resolved_at`` is its folded status's
    ``resolved_at``; return the ids whose standing resolution is not their first one."""
    store = open_store(url)
    try:
        frame = store.query_incidents(IncidentQuery(), EVERYONE)
        assert len(frame)
        later = []
        for row in frame.itertuples():
            folded = store.get_incident(row.id, EVERYONE).status.resolved_at
            stored = None if pd.isna(row.standing_resolved_at) else row.standing_resolved_at
            assert stored == folded, row.id
            if stored is not None and stored != row.resolved_at:
                later.append(row.id)
        return sorted(later)
    finally:
        store.close()


def test_step_eight_fills_the_first_schema_gpkg_from_its_events(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    shutil.copy(V1, path)
    assert any(s.startswith("0008 standing_resolution") for s in upgrade(str(path)).steps)
    # the four incidents reopened by an unsatisfied callback and resolved again
    assert len(_standing_matches_the_fold(str(path))) == 4
    info = pyogrio.read_info(path, layer="incidents")  # GDAL (QGIS) still reads the layer
    assert "standing_resolved_at" in list(info["fields"]) and info["features"] == 40


def test_step_nine_indexes_closures_of_the_first_schema_gpkg(tmp_path: Path) -> None:
    """Repeat-call candidates read recent closures through an index on ``closed_at``."""
    path = tmp_path / "old.gpkg"
    shutil.copy(V1, path)
    assert "0009 closed_at_index" in upgrade(str(path)).steps
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'incidents_closed_at'"
        ).fetchone()
    finally:
        conn.close()
    assert sql and "(closed_at)" in sql[0]


def test_step_ten_versions_the_layers_of_the_first_schema_gpkg(tmp_path: Path) -> None:
    """A store from before step 10 holding layers starts at version 0, raised by the next
    write of layers."""
    path = tmp_path / "old.gpkg"
    shutil.copy(V1, path)
    assert upgrade(str(path)).steps[-1] == "0010 layers_version"
    store = open_store(str(path))
    try:
        assert store.layers_version() == 0
        store.write_layers({"departments": pd.DataFrame({"code": ["D01"]})})
        assert store.layers_version() > 0
    finally:
        store.close()


def test_step_eight_fills_an_existing_store(
    store_url: str, raw_sql: Callable[[str], list[tuple[Any, ...]]]
) -> None:
    """A store at step 7 holding incidents (made here by dropping the column step 8 adds) gets
    the column filled from its events, and the KPI frames read it."""
    store = open_store(store_url)
    try:
        incidents, now = _scenario(store)
    finally:
        store.close()
    raw_sql("DROP TABLE ember_layers_version")  # step 10's
    raw_sql("DROP INDEX incidents_closed_at")  # step 9's
    raw_sql("ALTER TABLE incidents DROP COLUMN standing_resolved_at")
    raw_sql("DELETE FROM schema_migrations WHERE version >= 8")
    assert current_version(store_url) == 7
    assert upgrade(store_url).steps == [
        "0008 standing_resolution", "0009 closed_at_index", "0010 layers_version"
    ]  # fmt: skip
    assert _standing_matches_the_fold(store_url) == [incidents[0].id]  # E1: resolved again
    store = open_store(store_url)
    try:
        k = kpi.compute(load_frame(store, EVERYONE), kpi.Window.day(DEADLINE_DAY), as_of=now)
    finally:
        store.close()
    assert (k["on_time"].numerator, k["on_time"].denominator) == (0, 2)
    assert k["overdue"].value == 3
