"""Store fixtures: every test taking ``store`` runs once per backend.

The PostGIS backend runs on a throwaway server (``initdb`` on a temp dir, ``pg_ctl`` on a unix
socket; as the ``postgres`` user when we are root) started once per session, with a fresh
database per test made from a template that already has the ``postgis`` extension. Without
PostgreSQL + PostGIS the PostGIS tests skip, and fail under ``CI=true``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from incidents.model import Event, Incident, Party
from store import IncidentStore, open_store
from tests.conftest import unavailable

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=CST)
#: Two grid cells far enough apart for bbox tests: code -> (lon, lat, village, beat, team).
GRIDS = {
    "330784199001001": (120.10, 29.00, "330784199001", "330784199J01", "T01"),
    "330784199002001": (120.20, 29.10, "330784199002", "330784199J02", "T02"),
}
GRID_A, GRID_B = GRIDS
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A throwaway PostgreSQL server with a ``ember_template`` database holding PostGIS."""
    from store.pgtemp import TempPostgres, find_postgis

    bin_dir, why = find_postgis()
    if bin_dir is None:
        unavailable(f"PostGIS tests need a local PostgreSQL with PostGIS: {why}")
    import psycopg

    server = TempPostgres(bin_dir).start()
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE ember_template")
        with psycopg.connect(server.url("ember_template"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield server
    finally:
        server.stop()


@contextmanager
def template_copy(server: Any, name: str) -> Iterator[str]:
    """A database ``name`` copied from the PostGIS template for the block; its URL."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE ember_template")
    yield server.url(name)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_server: Any) -> Iterator[str]:
    """A fresh database (copy of the PostGIS template) for one test."""
    with template_copy(pg_server, f"ember_t{os.getpid()}_{next(_db_counter)}") as url:
        yield url


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A URL of an empty store: a GeoPackage path, or a PostGIS database."""
    if request.param == "gpkg":
        return str(tmp_path / "ember.gpkg")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[IncidentStore]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def raw_sql(store_url: str) -> Callable[[str], list[tuple[Any, ...]]]:
    """Run one SQL statement on the store's database directly, bypassing the store's API."""

    def run(sql: str) -> list[tuple[Any, ...]]:
        if store_url.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(store_url, autocommit=True) as conn:
                cur = conn.execute(sql)
                return cur.fetchall() if cur.description else []
        from pathlib import Path

        from store._gpkg_sql import connect

        lite = connect(Path(store_url))
        try:
            return lite.execute(sql).fetchall()
        finally:
            lite.close()

    return run


def make_incident(n: int, grid: str = GRID_A, **kw: Any) -> Incident:
    """Incident ``I{n:04d}`` in ``grid``, received ``n`` hours after :data:`T0`."""
    lon, lat, village, beat, team = GRIDS[grid]
    fields: dict[str, Any] = {
        "id": f"I{n:04d}",
        "source": "110",
        "source_id": f"J330784{n:08d}",
        "received_at": T0 + timedelta(hours=n),
        "category": "neighbour",
        "description": f"邻里纠纷 {n}",
        "address": f"演示镇测试路{n}号",
        "lon": lon + n * 1e-5,
        "lat": lat + n * 1e-5,
        "geocode_level": "door",
        "geocode_confidence": 0.9,
        "grid_code": grid,
        "village_code": village,
        "beat_code": beat,
        "station_code": "330784199X01",
        "team_code": team,
        "parties": (
            Party(
                name="罗小明",
                phone="13812345678",
                id_number="330784199001011234",
                residency="migrant",
            ),
        ),
    }
    fields.update(kw)
    return Incident(**fields)


def event(incident: Incident, seq: int, action: str, minutes: float, **data: Any) -> Event:
    """Event ``seq`` of ``incident``, ``minutes`` after it was received."""
    at = incident.received_at + timedelta(minutes=minutes)
    return Event(incident.id, seq, action, at, actor="dispatcher-1", data=data)


_pair_counter = itertools.count()
Raw = Callable[[IncidentStore, str], list[Any]]


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def two_stores(
    request: pytest.FixtureRequest, tmp_path: Any
) -> Iterator[tuple[IncidentStore, IncidentStore, Raw]]:
    """Two empty stores of one backend and a raw-SQL runner (``raw(store, sql)``)."""
    if request.param == "gpkg":
        urls = [str(tmp_path / "a.gpkg"), str(tmp_path / "b.gpkg")]
    else:
        import psycopg

        server = request.getfixturevalue("pg_server")
        urls = []
        with psycopg.connect(server.url(), autocommit=True) as conn:
            for _ in range(2):
                name = f"ember_p{os.getpid()}_{next(_pair_counter)}"
                conn.execute(f"CREATE DATABASE {name} TEMPLATE ember_template")
                urls.append(server.url(name))
    stores = [open_store(u) for u in urls]

    def raw(store: IncidentStore, sql: str) -> list[Any]:
        if store.url.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(store.url) as conn:
                return conn.execute(sql).fetchall()
        from pathlib import Path

        from store._gpkg_sql import connect

        lite = connect(Path(store.url))
        try:
            return lite.execute(sql).fetchall()
        finally:
            lite.close()

    try:
        yield stores[0], stores[1], raw
    finally:
        for s in stores:
            s.close()


def snapshot(store: IncidentStore, raw: Raw, now: datetime | None = None) -> Any:
    """Every stored row of incidents, events, audit lines (without their time), quarantine,
    and on a GeoPackage the R-tree and the layer extent; times from ``now`` on (written by the
    run itself, such as an amend's) replaced by ``"<now>"``."""
    pg = store.url.startswith("postgresql://")
    geom = "ST_AsEWKT(geom)" if pg else "geom"
    tables = [
        f"SELECT *, {geom} FROM incidents ORDER BY id",
        "SELECT * FROM events ORDER BY incident_id, seq",
        "SELECT actor, action, incident_id, detail FROM audit_log ORDER BY seq",
        "SELECT source, source_id, file, line, column_name, code, reason_zh, reason_en, "
        "problems, raw, raw_hash, status FROM quarantine ORDER BY id",
    ]
    if not pg:
        tables += [
            "SELECT * FROM rtree_incidents_geom ORDER BY id",
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'incidents'",
        ]
    out = [raw(store, sql) for sql in tables]
    if now is None:
        return out
    cut = now.astimezone(UTC)
    text = cut.strftime("%Y-%m-%dT%H:%M:%S")

    def fix(v: Any) -> Any:
        if isinstance(v, datetime) and v >= cut:
            return "<now>"
        if isinstance(v, str) and len(v) == 24 and v.endswith("Z") and v[:19] >= text:
            return "<now>"
        return v

    return [[tuple(fix(v) for v in row) for row in rows] for rows in out]
