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


# Published reference points.
# eviltransform (github.com/googollee/eviltransform, python/test.py and go/transform_test.go, the
# same table): (wgs_lat, wgs_lng, gcj_lat, gcj_lng) for Shanghai, Shenzhen and Beijing.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# coordtransform (github.com/wandergis/coordtransform, README "result" block; npm coordtransform):
# each function applied to (116.404, 39.915). Its inverses are the one-step approximations.
CT_INPUT = (116.404, 39.915)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)  # one-step approximation
CT_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)  # one-step approximation


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM)
def test_eviltransform_reference_points(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lon, lat = wgs84_to_gcj02([wgs_lng], [wgs_lat])
    assert abs(lon[0] - gcj_lng) < 1e-9 and abs(lat[0] - gcj_lat) < 1e-9  # ~0.1 mm
    back = gcj02_to_wgs84([gcj_lng], [gcj_lat])
    assert metres([wgs_lng], [wgs_lat], *back)[0] < 0.01


def test_coordtransform_forward_reference_points():
    lon, lat = wgs84_to_gcj02(*CT_INPUT)
    assert abs(lon - CT_WGS84_TO_GCJ02[0]) < 1e-9 and abs(lat - CT_WGS84_TO_GCJ02[1]) < 1e-9
    lon, lat = gcj02_to_bd09(*CT_INPUT)
    assert abs(lon - CT_GCJ02_TO_BD09[0]) < 1e-9 and abs(lat - CT_GCJ02_TO_BD09[1]) < 1e-9


def test_inverses_beat_the_published_one_step_approximations():
    """coordtransform's inverses are a few centimetres off; ours invert the forward exactly."""
    for inverse, forward, published in (
        (gcj02_to_wgs84, wgs84_to_gcj02, CT_GCJ02_TO_WGS84),
        (bd09_to_gcj02, gcj02_to_bd09, CT_BD09_TO_GCJ02),
    ):
        ours = inverse([CT_INPUT[0]], [CT_INPUT[1]])
        assert 0.01 < metres(*ours, [published[0]], [published[1]])[0] < 1.0
        assert metres(*forward(*ours), [CT_INPUT[0]], [CT_INPUT[1]])[0] < 1e-3
        off = forward([published[0]], [published[1]])
        assert metres(*off, [CT_INPUT[0]], [CT_INPUT[1]])[0] > 0.01
