"""The wall's hotspot layers (Gi* hot cells, KDE heat grid) on the demo store."""

from __future__ import annotations

import dataclasses
import gzip
import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from app import wall_data as wd
from app import wall_hotspots as wh
from app.basemap import IDENTITY, Display
from geo.crs import METRIC_EPSG
from layers.demo import read_meta
from store import open_store

#: The demo year ends here (``ember demo`` without --end); a cut on the hour.
END = pd.Timestamp("2026-12-01T00:00:00+08:00").tz_convert("UTC")
CUT = END.isoformat()


@pytest.fixture(scope="module")
def url(demo_gpkg) -> str:
    return str(demo_gpkg)


@pytest.fixture(scope="module")
def frame(url) -> pd.DataFrame:
    return wd.history_frame(url, CUT)


@pytest.fixture(scope="module")
def cells(url) -> gpd.GeoDataFrame:
    return wh.grid_cells(url)


@pytest.fixture(scope="module")
def wage_spot(url) -> dict[str, Any]:
    spots: Any = read_meta(open_store(url).read_layer("demo_meta"))["hotspots"]
    return next(s for s in spots if s["category"] == "wage")


def spot_filters(spot: dict[str, Any]) -> wd.WallFilters:
    start = pd.Timestamp(spot["start"]).date().isoformat()
    last = (pd.Timestamp(spot["end"]) - pd.Timedelta(days=1)).date().isoformat()
    return wd.WallFilters(window="custom", start=start, end=last, category=spot["category"])


def metres(a: shapely.Point, b: shapely.Point) -> float:
    pts = gpd.GeoSeries([a, b], crs=4326).to_crs(METRIC_EPSG)
    return float(pts.iloc[0].distance(pts.iloc[1]))


def test_the_planted_wage_hotspot_is_hot_and_the_heat_peaks_on_it(frame, cells, wage_spot):
    layers = wh.hotspots(frame, cells, spot_filters(wage_spot), END)
    where = shapely.Point(wage_spot["lon"], wage_spot["lat"])
    hot = gpd.GeoDataFrame.from_features(layers.hot["features"], crs=4326)
    assert len(hot) and set(hot["bin"]) <= {-3, -2, -1, 1, 2, 3}
    assert (hot["bin"] > 0).any()
    holding = cells[cells.contains(where)].geometry.iloc[0]
    # The cell holding the spot, or one touching it, is hot at 95% or more.
    assert (hot[hot.intersects(holding)]["bin"] >= 2).any()
    assert layers.hot["meta"]["bins"] == dict(zip(hot["code"], hot["bin"], strict=True))

    heat = layers.heat["features"]
    peak = max(heat, key=lambda f: f["properties"]["v"])
    assert peak["properties"]["v"] == 1.0 and peak["properties"]["c"] == 5
    assert metres(shapely.Point(peak["geometry"]["coordinates"]), where) <= wage_spot["radius_m"]


def test_heat_grid_format(frame, cells):
    f = wd.WallFilters(window="year")
    layers = wh.hotspots(frame, cells, f, END)
    meta = layers.heat["meta"]
    assert meta["cell_m"] == wh.CELL_M and meta["bandwidth_m"] == wh.BANDWIDTH_M
    assert meta["n"] == len(wd.filtered(frame, f, END)) > 1000
    assert meta["window"][1] == END.isoformat()
    props = pd.DataFrame([x["properties"] for x in layers.heat["features"]])
    assert props["v"].between(wh.MIN_SHARE - 1e-3, 1).all()
    assert set(props["c"]) == {1, 2, 3, 4, 5}
    # Class c is the fifth of the peak that v falls in.
    expected = np.minimum(5, 1 + np.floor(props["v"] * 5 + 1e-9)).astype(int)
    assert (np.abs(props["c"] - expected) <= 1).all()
    assert props["d"].max() == pytest.approx(meta["max_km2"], rel=1e-3)
    xy = np.array([x["geometry"]["coordinates"] for x in layers.heat["features"]])
    assert (np.round(xy, 6) == xy).all()
    assert (xy[:, 0] > 119).all() and (xy[:, 0] < 121).all()  # lon/lat, not metres
    assert (xy[:, 1] > 28).all() and (xy[:, 1] < 30).all()
    # A town's year of incidents fits in a small payload.
    assert len(layers.heat["features"]) < 10_000


def test_few_incidents_give_empty_layers(frame, cells):
    f = wd.WallFilters(window="custom", start="2031-01-01", end="2031-01-02")
    layers = wh.hotspots(frame, cells, f, END)
    assert layers.hot["features"] == [] and layers.hot["meta"]["bins"] == {}
    assert layers.heat["features"] == [] and layers.heat["meta"]["n"] == 0


def test_village_filter_keeps_gi_within_the_village(frame, cells, wage_spot):
    where = shapely.Point(wage_spot["lon"], wage_spot["lat"])
    village = str(cells.loc[cells.contains(where), "village_code"].iloc[0])
    f = dataclasses.replace(spot_filters(wage_spot), village=village)
    layers = wh.hotspots(frame, cells, f, END)
    codes = {x["properties"]["code"] for x in layers.hot["features"]}
    assert codes and codes <= set(cells.loc[cells["village_code"] == village, "code"])
    located = wd.filtered(frame, f, END)["lon"].notna()
    assert layers.heat["meta"]["n"] == int(located.sum()) > 0


def test_gcj02_display_shifts_both_layers(frame, cells, wage_spot):
    f = spot_filters(wage_spot)
    plain = wh.hotspots(frame, cells, f, END)
    shifted = wh.hotspots(frame, cells, f, END, display=Display("gcj02"))
    a = np.array(plain.heat["features"][0]["geometry"]["coordinates"])
    b = np.array(shifted.heat["features"][0]["geometry"]["coordinates"])
    assert 0.001 < np.abs(b - a).max() < 0.01  # GCJ-02 moves by a few hundred metres
    ring_a = np.array(plain.hot["features"][0]["geometry"]["coordinates"][0])
    ring_b = np.array(shifted.hot["features"][0]["geometry"]["coordinates"][0])
    assert 0.001 < np.abs(ring_b - ring_a).max() < 0.01
    assert shifted.hot["meta"] == plain.hot["meta"]


def test_for_wall_matches_the_pure_function_and_is_shared(url, frame, cells):
    args = {"window": "30d", "category": "neighbour"}
    got = wh.for_wall(url, CUT, args, IDENTITY, now=END)
    again = wh.for_wall(url, CUT, args, IDENTITY, now=END + pd.Timedelta(seconds=1))
    assert again is got  # one computation per bucket, shared by clients
    bucket_end = pd.Timestamp(wh._bucket(END)) + pd.Timedelta(seconds=wh.BUCKET_SECONDS)
    direct = wh.hotspots(frame, cells, wd.WallFilters.from_args(args), bucket_end)
    assert got.hot["meta"]["bins"] == direct.hot["meta"]["bins"]
    assert got.heat["meta"]["n"] == direct.heat["meta"]["n"] > 0


def test_legend_lists_hot_bins_then_heat_classes(frame, cells):
    layers = wh.hotspots(frame, cells, wd.WallFilters(window="year"), END)
    rows = layers.legend()
    assert [c for c, _ in rows[:3]] == [wh.HOT_COLOURS[b] for b in (3, 2, 1)]
    assert [c for c, _ in rows[3:6]] == [wh.HOT_COLOURS[b] for b in (-1, -2, -3)]
    assert len(rows) == 11 and "件/km²" in rows[-1][1] and "km²" in rows[-1][1]
    assert layers.legend("en")[0][1] == "hot spot 99%" and layers.legend("zh")[5][1] == "冷点 99%"


def test_cold_cells_are_sent_with_negative_bins():
    # A 12 x 12 grid of 500 m cells, 20 incidents each, a 4 x 4 block with 60 and one with 0.
    size, rng = 500.0, np.random.default_rng(1)
    boxes, xs, ys = [], [], []
    for i in range(12):
        for j in range(12):
            x0, y0 = 500_000 + i * size, 3_300_000 + j * size
            boxes.append(shapely.box(x0, y0, x0 + size, y0 + size))
            n = 60 if i < 4 and j < 4 else 0 if i >= 8 and j >= 8 else 20
            xs += list(x0 + rng.uniform(10, size - 10, n))
            ys += list(y0 + rng.uniform(10, size - 10, n))
    codes = [f"G{k:03d}" for k in range(len(boxes))]
    cells = gpd.GeoDataFrame(
        {"code": codes, "name": codes, "village_code": "V1"}, geometry=boxes, crs=METRIC_EPSG
    ).to_crs(4326)
    points = gpd.GeoDataFrame(
        {"received_at": [pd.Timestamp("2026-11-01", tz="UTC")] * len(xs)},
        geometry=gpd.points_from_xy(xs, ys),
        crs=METRIC_EPSG,
    ).to_crs(4326)
    fc = wh.gi_layer(points, cells)
    bins = [x["properties"]["bin"] for x in fc["features"]]
    assert any(b > 0 for b in bins) and any(b < 0 for b in bins)
    labels = {x["properties"]["label"] for x in fc["features"]}
    assert labels <= set(wh.HOT_LABELS.values()) and any("cold" in x for x in labels)
    assert fc["meta"]["bins"] == {
        x["properties"]["code"]: x["properties"]["bin"] for x in fc["features"]
    }


def test_payload_is_gzipped_geojson_with_a_stable_etag(frame, cells):
    layers = wh.hotspots(frame, cells, wd.WallFilters(window="year"), END)
    body, tag = wh.payload(layers, "heat")
    assert json.loads(gzip.decompress(body)) == layers.heat
    assert wh.payload(layers, "heat")[1] == tag != wh.payload(layers, "hot")[1]
    with pytest.raises(ValueError, match="unknown layer"):
        wh.payload(layers, "points")
