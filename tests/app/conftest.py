"""Fixtures for app tests: a tiny town GeoPackage and a live server for browser tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from dash import Dash
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import unary_union

from app.config import Settings
from app.server import create_app, serve_in_thread
from layers.io import write_layers
from tests._signin import with_account
from tests.store.conftest import pg_server, pg_url  # noqa: F401  (one PostGIS server per run)

TOWN_CODE = "330784199"
#: (code, name, west, east) of the two villages; each is split into a south and a north cell.
VILLAGES = (
    ("330784199001", "东山村", 120.00, 120.02),
    ("330784199002", "西溪社区", 120.02, 120.04),
)
SOUTH, MID, NORTH = 30.00, 30.01, 30.02


def _metric_buffer(point: Point, metres: float) -> Polygon:
    """A round buffer in metres (CGCS2000 / 3-degree GK CM 120E), back in WGS84."""
    metric = gpd.GeoSeries([point], crs="EPSG:4326").to_crs(4549).buffer(metres)
    return metric.to_crs(4326).iloc[0]


def tiny_town() -> dict[str, gpd.GeoDataFrame]:
    """Two villages × two grid cells, one police beat, one fire station, one road (EPSG:4326)."""
    crs = "EPSG:4326"
    villages = gpd.GeoDataFrame(
        {
            "code": [v[0] for v in VILLAGES],
            "name": [v[1] for v in VILLAGES],
            "kind": ["村", "社区"],
            "town_code": [TOWN_CODE] * 2,
            "registered_pop": [1200, 3400],
            "migrant_pop": [800, 2100],
        },
        geometry=[box(w, SOUTH, e, NORTH) for _, _, w, e in VILLAGES],
        crs=crs,
    )
    cells: list[dict[str, object]] = []
    for code, name, w, e in VILLAGES:
        for seq, (s, n) in enumerate(((SOUTH, MID), (MID, NORTH)), start=1):
            cells.append(
                {
                    "code": f"{code}{seq:03d}",
                    "name": f"{name}第{seq}网格",
                    "village_code": code,
                    "officer_id": f"G{code[-3:]}{seq}",
                    "officer_name": f"网格员{len(cells) + 1}号",
                    "officer_phone": "13800000000",
                    "registered_pop": 500,
                    "migrant_pop": 300,
                    "households": 180,
                    "geometry": box(w, s, e, n),
                }
            )
    grid = gpd.GeoDataFrame(cells, crs=crs)
    town_geom = unary_union(list(villages.geometry))
    # The beat holds three of the four cells (一警多格), so its outline differs from the town's.
    beat_geom = unary_union(list(grid.geometry.iloc[:3]))
    station = Point(120.02, 30.01)
    return {
        "town": gpd.GeoDataFrame(
            {"code": [TOWN_CODE], "name": ["测试镇"]}, geometry=[town_geom], crs=crs
        ),
        "villages": villages,
        "grid_cells": grid,
        "police_beats": gpd.GeoDataFrame(
            {
                "code": ["JG01"],
                "name": ["镇中警格"],
                "officer_id": ["P001"],
                "officer_name": ["李警官"],
                "officer_phone": ["13900000000"],
                "police_station": ["测试派出所"],
            },
            geometry=[beat_geom],
            crs=crs,
        ),
        "fire_stations": gpd.GeoDataFrame(
            {
                "code": ["XF01"],
                "name": ["镇区微型消防站"],
                "kind": ["微型消防站"],
                "crew": [6],
                "phone": ["0579-0000000"],
            },
            geometry=[station],
            crs=crs,
        ),
        "fire_station_coverage": gpd.GeoDataFrame(
            {"station_code": ["XF01"], "minutes": [3]},
            geometry=[_metric_buffer(station, 800.0)],
            crs=crs,
        ),
        "roads": gpd.GeoDataFrame(
            {"name": ["镇府路"], "kind": ["主干路"]},
            geometry=[LineString([(120.0, 30.012), (120.04, 30.008)])],
            crs=crs,
        ),
    }


@pytest.fixture(scope="session")
def town_frames() -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """The tiny town's layers, as written to :func:`town_gpkg`."""
    return dict(tiny_town())


@pytest.fixture(scope="session")
def town_gpkg(tmp_path_factory: pytest.TempPathFactory, town_frames: dict) -> Path:
    """The tiny town as a GeoPackage."""
    return write_layers(tmp_path_factory.mktemp("town") / "town.gpkg", town_frames)


@pytest.fixture(scope="session")
def town_settings(town_gpkg: Path) -> Settings:
    """Settings pointing at the tiny town, with no basemap."""
    return Settings(db=str(town_gpkg)).validate()


@pytest.fixture(scope="session")
def town_app(town_settings: Settings) -> Dash:
    """The Dash app built on the tiny town."""
    return create_app(town_settings)


def running(app: Dash) -> AbstractContextManager[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread; enter to get its base URL."""
    return serve_in_thread(app)


@pytest.fixture
def live_server() -> Callable[[Dash], AbstractContextManager[str]]:
    """``with live_server(app) as url:`` serves ``app`` on 127.0.0.1 for the block."""
    return running


@pytest.fixture(scope="module")
def wall_app(demo_gpkg: Path) -> Dash:
    """The app on the demo town (``demo_gpkg``), with a wall account to sign in as; one per
    test module."""
    return with_account(create_app(Settings(db=str(demo_gpkg)).validate()))


@pytest.fixture
def frozen_wall_clock(monkeypatch: pytest.MonkeyPatch) -> pd.Timestamp:
    """The wall's clock (``app.wall_data.now_utc``) stood still at the current time for the
    test, in every module of ``app`` that took it by name: what a test computes for "now" (a
    cut, a 60 s bucket) is what the app's requests compute, whenever the test runs."""
    import sys

    from app import wall_data

    real = wall_data.now_utc
    now = real()
    for module in [m for name, m in sys.modules.items() if name.split(".")[0] == "app"]:
        if getattr(module, "now_utc", None) is real:
            monkeypatch.setattr(module, "now_utc", lambda: now)
    return now
