"""Fixtures of the hotspot tests: the demo town with a year of incidents and its planted spots."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest

from layers.demo import build_demo, read_meta


@pytest.fixture(scope="session")
def demo() -> dict[str, Any]:
    """``build_demo(7, 6000)`` frames plus ``meta`` (decoded ``demo_meta``), built once (~3 s)."""
    frames: dict[str, Any] = dict(build_demo(7, n_incidents=6000))
    frames["meta"] = read_meta(frames["demo_meta"])
    return frames


@pytest.fixture(scope="session")
def planted(demo: dict[str, Any]) -> gpd.GeoDataFrame:
    """The planted hotspots as points in EPSG:4549 with id, category, radius_m, count."""
    spots = demo["meta"]["hotspots"]
    frame = gpd.GeoDataFrame(
        [{k: s[k] for k in ("id", "category", "radius_m", "count")} for s in spots],
        geometry=gpd.points_from_xy([s["lon"] for s in spots], [s["lat"] for s in spots]),
        crs=4326,
    )
    return frame.to_crs(4549)
