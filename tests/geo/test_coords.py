"""Validation of incoming coordinates: one clear bilingual reason per bad point."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from geo.coords import REASON_CODES, REASONS, coordinate_reasons, reason_text, validate_coordinates
from geo.crs import from_metric, to_metric


def test_each_problem_has_its_reason():
    cases = {
        (120.10, 29.00): "ok",
        (np.nan, 29.0): "missing",
        (120.1, np.inf): "missing",
        (0.0, 0.0): "zero",
        (29.00, 120.10): "swapped",  # lat > 90: out of range, but swapped it is in China
        (35.0, 110.0): "swapped",
        (200.0, 29.0): "out_of_range",
        (-120.0, -95.0): "out_of_range",
        (2.35, 48.85): "outside_china",  # Paris
        (139.69, 35.69): "outside_china",  # Tokyo
        (120.1, 0.0): "outside_china",
    }
    lon, lat = np.array(list(cases)).T
    got = validate_coordinates(lon, lat)
    assert list(got["reason_code"]) == list(cases.values())
    assert list(got["ok"]) == [v == "ok" for v in cases.values()]
    swapped = got[got["reason_code"] == "swapped"].iloc[0]
    assert swapped["reason_zh"] == "经纬度颠倒"
    assert swapped["reason_en"] == "latitude and longitude swapped"
    assert got["reason_zh"].iloc[0] == "" and got["reason_en"].iloc[0] == ""


def test_every_reason_is_bilingual():
    for code in REASON_CODES[1:]:
        zh, en = REASONS[code]
        assert zh and en and zh != en
        assert " / " in reason_text(code)
    assert reason_text("swapped") == "经纬度颠倒 / latitude and longitude swapped"
    assert reason_text("ok") == ""


def test_correct_chinese_points_are_never_called_swapped():
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(73.5, 135.0, 50_000), rng.uniform(4.0, 53.5, 50_000)
    assert (coordinate_reasons(lon, lat) == 0).all()
    codes = coordinate_reasons(lat, lon)  # the same points swapped
    assert (codes == REASON_CODES.index("swapped")).all()


def test_town_margin_in_metres():
    cx, cy = to_metric([120.10], [29.00])
    town = Point(cx[0], cy[0]).buffer(2000.0)
    town_wgs = gpd.GeoSeries([town], crs=4549).to_crs(4326)
    # Points due east of the centre at 1,500 m (inside), 2,800 m (800 m out), 3,500 m (1,500 m out)
    lon, lat = from_metric(cx[0] + np.array([1500.0, 2800.0, 3500.0]), np.repeat(cy, 3))
    got = validate_coordinates(lon, lat, town_wgs, margin_m=1000)
    assert list(got["reason_code"]) == ["ok", "ok", "far_from_town"]
    assert got["reason_zh"].iloc[2] == "距镇界超过 1000 米"
    assert got["reason_en"].iloc[2] == "more than 1000 m outside the town"
    strict = validate_coordinates(lon, lat, town_wgs.iloc[0], margin_m=500)  # a bare geometry
    assert list(strict["reason_code"]) == ["ok", "far_from_town", "far_from_town"]
    # A bad point keeps its first reason; the town test is only for otherwise good points.
    assert validate_coordinates([29.0], [120.1], town_wgs)["reason_code"].iloc[0] == "swapped"


def test_shapes_must_match_and_scalars_work():
    assert validate_coordinates(120.1, 29.0)["ok"].tolist() == [True]
    with pytest.raises(ValueError, match=r"长度不一致.*one length"):
        validate_coordinates([120.1, 120.2], [29.0])
    with pytest.raises(ValueError, match=r"没有坐标系.*no CRS"):
        validate_coordinates([120.1], [29.0], gpd.GeoSeries([Point(0, 0).buffer(1)]))
