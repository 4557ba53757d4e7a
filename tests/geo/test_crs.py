"""Coordinate conversions: GCJ-02 / BD-09 forward against published values, inverses exact."""

from __future__ import annotations

import numpy as np
import pytest

from geo.crs import (
    bd09_to_gcj02,
    from_metric,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    outside_china,
    to_metric,
    to_wgs84,
    wgs84_to_gcj02,
)


def metres(lon_a, lat_a, lon_b, lat_b) -> np.ndarray:
    ax, ay = to_metric(lon_a, lat_a)
    bx, by = to_metric(lon_b, lat_b)
    return np.hypot(ax - bx, ay - by)


def test_gcj02_shift_near_demo_town_is_hundreds_of_metres():
    lon, lat = np.array([120.10]), np.array([29.00])
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = metres(lon, lat, glon, glat)[0]
    assert 300 < d < 700  # the offset in Zhejiang is roughly 500 m


def test_round_trips_below_one_centimetre():
    rng = np.random.default_rng(1)
    lon = rng.uniform(73.7, 134.7, 20_000)
    lat = rng.uniform(18.2, 53.5, 20_000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01
    back = to_wgs84(*from_wgs84(lon, lat, "bd09"), "bd09")
    assert metres(lon, lat, *back).max() < 0.01
    g = wgs84_to_gcj02(lon, lat)
    back = bd09_to_gcj02(*gcj02_to_bd09(*g))
    assert metres(*g, *back).max() < 0.01


def test_outside_china_is_unchanged():
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    assert outside_china(lon, lat).all()
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(glon, lon) and np.array_equal(glat, lat)


def test_metric_round_trip():
    x, y = to_metric([120.1], [29.0])
    assert 450_000 < x[0] < 550_000  # central meridian 120E: false easting 500 km
    lon, lat = from_metric(x, y)
    assert abs(lon[0] - 120.1) < 1e-9 and abs(lat[0] - 29.0) < 1e-9


def test_unknown_system_is_a_clear_error():
    with pytest.raises(ValueError, match=r"未知坐标系.*unknown coordinate system"):
        to_wgs84([120.0], [29.0], "utm")
