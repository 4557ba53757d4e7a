"""Trinity assignment against a plain shapely ``covers`` ground truth on the demo town.

The ground truth does not use the index's machinery (no raster, no STRtree): for every polygon,
in descending code order, ``shapely.covers`` on the points inside its bounds; so the smallest
covering code wins, which is the documented boundary rule.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from geo.crs import to_metric
from geo.trinity import COLUMNS, MAX_PIXELS, OUTSIDE_TOWN, TrinityIndex, assign_trinity

N_RANDOM = 100_000


def covering(frame: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, ...]:
    """(smallest covering index in code order or -1, number of covering polygons, codes)."""
    frame = frame.sort_values("code")
    best = np.full(len(lon), -1)
    count = np.zeros(len(lon), dtype=int)
    for k in range(len(frame) - 1, -1, -1):
        geom = frame.geometry.iloc[k]
        x0, y0, x1, y1 = geom.bounds
        cand = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        hit = cand[shapely.covers(geom, shapely.points(lon[cand], lat[cand]))]
        best[hit] = k
        count[hit] += 1
    return best, count, frame["code"].to_numpy(dtype=object)


def truth(layers: dict, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """Expected grid, village and beat codes, inside flag and station (brute force)."""
    cell, n_cells, cell_codes = covering(layers["grid_cells"], lon, lat)
    beat, _, beat_codes = covering(layers["police_beats"], lon, lat)
    town = shapely.union_all(layers["town"].geometry.values)
    inside = shapely.covers(town, shapely.points(lon, lat))
    cells = layers["grid_cells"].sort_values("code")
    village = cells["village_code"].to_numpy(dtype=object)
    null = np.array([None], dtype=object)
    stations = layers["fire_stations"].sort_values("code")
    sx, sy = to_metric(stations.geometry.x, stations.geometry.y)
    x, y = to_metric(lon, lat)
    dist = np.hypot(x[:, None] - sx[None, :], y[:, None] - sy[None, :])
    return pd.DataFrame(
        {
            "grid_code": np.where(inside & (cell >= 0), np.append(cell_codes, null)[cell], None),
            "village_code": np.where(inside & (cell >= 0), np.append(village, null)[cell], None),
            "beat_code": np.where(inside & (beat >= 0), np.append(beat_codes, null)[beat], None),
            "inside": inside,
            "n_cells": n_cells,
            "station": np.where(inside, dist.argmin(axis=1), -1),
            "station_code": np.where(
                inside, stations["code"].to_numpy()[dist.argmin(axis=1)], None
            ),
            "distance": np.where(inside, dist.min(axis=1), np.nan),
        }
    )


def as_objects(values) -> np.ndarray:
    """Values as Python objects with every kind of null (None, NaN, NA) as None."""
    series = pd.Series(values).astype(object)
    return series.where(series.notna(), None).to_numpy(dtype=object)


def assert_matches(found: pd.DataFrame, expected: pd.DataFrame) -> None:
    for col in ("grid_code", "village_code", "beat_code"):
        got, want = as_objects(found[col]), as_objects(expected[col])
        bad = np.flatnonzero(got != want)
        assert len(bad) == 0, (
            f"{col}: {len(bad)} mismatches, e.g. {got[bad[:3]]} vs {want[bad[:3]]}"
        )
    assert ((found["reason"] == OUTSIDE_TOWN).to_numpy() == ~expected["inside"].to_numpy()).all()


@pytest.fixture(scope="module")
def layers(demo_town) -> dict:
    return {k: demo_town[k] for k in ("grid_cells", "police_beats", "fire_stations", "town")} | {
        "fire_station_coverage": demo_town["fire_station_coverage"]
    }


@pytest.fixture(scope="module")
def index(layers) -> TrinityIndex:
    return TrinityIndex.from_layers(**layers)


def random_points(layers: dict, n: int, seed: int = 20240603) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = layers["town"].total_bounds
    rng = np.random.default_rng(seed)
    pad = 0.01  # also points off the raster
    return rng.uniform(x0 - pad, x1 + pad, n), rng.uniform(y0 - pad, y1 + pad, n)


def test_random_points_match_covers_ground_truth(layers, index):
    lon, lat = random_points(layers, N_RANDOM)
    found = index.assign(lon, lat)
    expected = truth(layers, lon, lat)
    assert list(found.columns) == list(COLUMNS)
    assert_matches(found, expected)
    # Both paths were exercised: most points by the raster, some by the exact fallback.
    x, y = to_metric(lon, lat)
    flat, on = index.grid.locate(x, y)
    mixed = on & (index.area_labels[flat] == 0)
    assert 0 < mixed.sum() < 0.1 * N_RANDOM
    assert (~on).sum() > 0 and expected["inside"].mean() > 0.4


def test_officers_follow_their_cell_and_beat(layers, index):
    lon, lat = random_points(layers, 5000, seed=3)
    found = index.assign(lon, lat)
    cells = layers["grid_cells"].set_index("code")
    beats = layers["police_beats"].set_index("code")
    got = found.dropna(subset=["grid_code"])
    assert len(got) > 1000
    assert (
        got["grid_officer_id"].astype(str).to_numpy()
        == cells.loc[got["grid_code"].astype(str), "officer_id"].to_numpy()
    ).all()
    assert (
        got["grid_officer_name"].astype(str).to_numpy()
        == cells.loc[got["grid_code"].astype(str), "officer_name"].to_numpy()
    ).all()
    assert (
        got["beat_officer_name"].astype(str).to_numpy()
        == beats.loc[got["beat_code"].astype(str), "officer_name"].to_numpy()
    ).all()


def test_vertices_edges_and_outer_boundary_follow_the_rule(layers, index):
    geoms = np.concatenate(
        [layers[k].geometry.values for k in ("grid_cells", "police_beats", "town")]
    )
    verts = np.unique(shapely.get_coordinates(shapely.boundary(geoms)), axis=0)
    # Midpoints of every edge: some are exactly on the edge in floating point, some a hair off;
    # either way the ground truth is computed by shapely for exactly these coordinates.
    rings = shapely.get_parts(shapely.boundary(layers["grid_cells"].geometry.values))
    coords, part = shapely.get_coordinates(rings, return_index=True)
    same = part[1:] == part[:-1]
    mids = ((coords[1:] + coords[:-1]) / 2)[same]
    # Points one ulp off each vertex in the four directions.
    ulp = [
        np.column_stack([np.nextafter(verts[:, 0], d * np.inf), verts[:, 1]]) for d in (-1, 1)
    ] + [np.column_stack([verts[:, 0], np.nextafter(verts[:, 1], d * np.inf)]) for d in (-1, 1)]
    pts = np.concatenate([verts, mids, *ulp])
    lon, lat = pts[:, 0], pts[:, 1]
    found = index.assign(lon, lat)
    expected = truth(layers, lon, lat)
    assert_matches(found, expected)
    n = len(verts)
    # The test means something: shared vertices (3+ cells), edge points (2 cells) exist.
    assert (expected["n_cells"][:n] >= 3).sum() > 100
    assert (expected["n_cells"][n : n + len(mids)] == 2).sum() > 100
    # Every vertex of the town's outline is inside and gets a cell.
    town_verts = shapely.get_coordinates(layers["town"].geometry.values)
    on_edge = index.assign(town_verts[:, 0], town_verts[:, 1])
    assert on_edge["reason"].isna().all() and on_edge["grid_code"].notna().all()


def test_shared_vertex_goes_to_smallest_code(layers, index):
    cells = layers["grid_cells"].sort_values("code")
    polys = np.asarray(cells.geometry.values, dtype=object)
    verts = np.unique(shapely.get_coordinates(polys), axis=0)
    owners_per_vertex = shapely.covers(polys[:, None], shapely.points(verts)[None])
    vertex = verts[owners_per_vertex.sum(axis=0) >= 3][0]  # a vertex of three or more cells
    owners = cells[shapely.covers(cells.geometry.values, Point(vertex))]["code"]
    assert len(owners) >= 3
    got = index.assign([vertex[0]], [vertex[1]])
    assert got["grid_code"].iloc[0] == owners.min()


def test_nearest_station_and_coverage_match_brute_force(layers, index):
    lon, lat = random_points(layers, 20_000, seed=11)
    found = index.assign(lon, lat)
    expected = truth(layers, lon, lat)
    inside = expected["inside"].to_numpy()
    got_code = as_objects(found["station_code"])
    want_code = as_objects(expected["station_code"])
    assert (got_code == want_code).all()
    dist = found["station_distance_m"].to_numpy()
    assert np.allclose(dist[inside], expected["distance"][inside], rtol=0, atol=1e-6)
    assert np.isnan(dist[~inside]).all()
    cov = layers["fire_station_coverage"].set_index("station_code").geometry
    stations = layers["fire_stations"].sort_values("code")["code"].to_numpy()
    want_cov = np.array(
        [
            bool(cov[stations[s]].covers(Point(x, y))) if s >= 0 else False
            for s, x, y in zip(expected["station"], lon, lat, strict=True)
        ]
    )
    got_cov = found["in_station_coverage"]
    assert got_cov[~inside].isna().all()
    assert (got_cov[inside].to_numpy(dtype=bool) == want_cov[inside]).all()
    assert 0.1 < want_cov[inside].mean() < 0.9


def test_coverage_boundary_points_are_exact(layers, index):
    cov = layers["fire_station_coverage"]
    pts = shapely.get_coordinates(cov.geometry.values)
    found = index.assign(pts[:, 0], pts[:, 1])
    by_code = cov.set_index("station_code").geometry
    for code, flag, x, y in zip(
        found["station_code"], found["in_station_coverage"], *pts.T, strict=True
    ):
        if pd.notna(code):
            assert flag == by_code[code].covers(Point(x, y))


def test_station_ties_go_to_smallest_code(layers):
    stations = layers["fire_stations"]
    twin = stations.iloc[[0]].assign(code="000TWIN")  # same place, smaller code
    index = TrinityIndex.from_layers(
        layers["grid_cells"],
        layers["police_beats"],
        pd.concat([stations, twin]),
        town=layers["town"],
    )
    p = stations.geometry.iloc[0]
    got = index.assign([p.x + 1e-4], [p.y])
    assert got["station_code"].iloc[0] == "000TWIN"
    assert got["in_station_coverage"].isna().all()  # no coverage layer given


def test_beats_that_are_not_unions_of_cells_are_still_exact(layers):
    town = shapely.union_all(layers["town"].geometry.values)
    x0, y0, x1, y1 = town.bounds
    cut = x0 + 0.37 * (x1 - x0)  # a straight line through many cells
    halves = [town.intersection(box(x0, y0, cut, y1)), town.intersection(box(cut, y0, x1, y1))]
    beats = gpd.GeoDataFrame(
        {"code": ["B1", "B2"], "officer_id": ["M1", "M2"], "officer_name": ["甲", "乙"]},
        geometry=halves,
        crs=4326,
    )
    test_layers = {**layers, "police_beats": beats}
    index = TrinityIndex.from_layers(**test_layers)
    lon, lat = random_points(layers, 50_000, seed=5)
    on_cut = shapely.get_coordinates(shapely.boundary(np.array(halves, dtype=object)))
    lon, lat = np.append(lon, on_cut[:, 0]), np.append(lat, on_cut[:, 1])
    assert_matches(index.assign(lon, lat), truth(test_layers, lon, lat))


def test_gaps_and_overlaps_in_layers(layers):
    cells = layers["grid_cells"].sort_values("code")
    hole = cells.geometry.iloc[10]
    gap_cells = cells.drop(index=cells.index[10])
    index = TrinityIndex.from_layers(
        gap_cells, layers["police_beats"], layers["fire_stations"], town=layers["town"]
    )
    p = hole.representative_point()
    got = index.assign([p.x], [p.y]).iloc[0]
    assert pd.isna(got["grid_code"]) and pd.notna(got["beat_code"])
    assert got["reason"] == "不在任何网格内 / in no grid cell"
    assert pd.notna(got["station_code"])
    # An overlapping copy with a larger code never wins; one with a smaller code always does.
    for code, wins in (("999999999999999", False), ("000000000000000", True)):
        extra = cells.iloc[[10]].assign(code=code)
        index = TrinityIndex.from_layers(
            pd.concat([cells, extra]), layers["police_beats"], layers["fire_stations"]
        )
        got = index.assign([p.x], [p.y])["grid_code"].iloc[0]
        assert got == (code if wins else cells["code"].iloc[10])


def test_without_town_the_cells_are_the_town(layers):
    index = TrinityIndex.from_layers(
        layers["grid_cells"], layers["police_beats"], layers["fire_stations"]
    )
    lon, lat = random_points(layers, 20_000, seed=9)
    found = index.assign(lon, lat)
    expected = truth(layers, lon, lat)
    assert (
        (found["reason"] == OUTSIDE_TOWN).to_numpy() == (expected["grid_code"].isna()).to_numpy()
    ).all()


def test_invalid_coordinates_keep_their_reason(index):
    lon = [np.nan, 0.0, 29.0, 2.35, 120.1, 120.5]
    lat = [29.0, 0.0, 120.1, 48.85, 29.0, 29.5]
    got = index.assign(lon, lat)
    assert list(got["reason"].iloc[:4]) == [
        "坐标缺失或不是数字 / coordinate missing or not a number",
        "坐标为 (0, 0) / coordinates are (0, 0)",
        "经纬度颠倒 / latitude and longitude swapped",
        "坐标不在中国境内 / coordinates outside China",
    ]
    assert pd.isna(got["reason"].iloc[4]) and got["grid_code"].notna().iloc[4]
    assert got["reason"].iloc[5] == OUTSIDE_TOWN
    assert got.iloc[[0, 1, 2, 3, 5]][["grid_code", "beat_code", "station_code"]].isna().all().all()


def test_assign_trinity_keeps_the_frame_and_checks_crs(layers):
    lon, lat = random_points(layers, 500, seed=2)
    pts = gpd.GeoDataFrame(
        {"case": np.arange(500)},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
        index=np.arange(500) * 3,
    ).to_crs(4549)
    pts.loc[pts.index[0], "geometry"] = None
    out = assign_trinity(
        pts,
        layers["grid_cells"],
        layers["police_beats"],
        layers["fire_stations"],
        town=layers["town"],
    )
    assert list(out.index) == list(pts.index) and (out["case"] == pts["case"]).all()
    assert out.crs == pts.crs and set(COLUMNS) <= set(out.columns)
    assert out["reason"].iloc[0] == "坐标缺失或不是数字 / coordinate missing or not a number"
    back = pts.to_crs(4326)
    direct = TrinityIndex.from_layers(
        layers["grid_cells"], layers["police_beats"], layers["fire_stations"], town=layers["town"]
    ).assign(back.geometry.x, back.geometry.y)
    assert (as_objects(out["grid_code"]) == as_objects(direct["grid_code"])).all()

    with pytest.raises(ValueError, match=r"没有坐标系.*has no CRS"):
        assign_trinity(
            pts.set_crs(None, allow_override=True),
            layers["grid_cells"],
            layers["police_beats"],
            layers["fire_stations"],
        )
    with pytest.raises(ValueError, match=r"应为点.*must hold Point"):
        assign_trinity(
            layers["grid_cells"],
            layers["grid_cells"],
            layers["police_beats"],
            layers["fire_stations"],
        )
    with pytest.raises(ValueError, match=r"已含列.*already has columns"):
        assign_trinity(out, layers["grid_cells"], layers["police_beats"], layers["fire_stations"])


def test_bad_layers_are_clear_errors(layers):
    cells = layers["grid_cells"]
    dup = pd.concat([cells, cells.iloc[[0]]])
    with pytest.raises(ValueError, match=r"编码重复.*duplicate codes"):
        TrinityIndex.from_layers(dup, layers["police_beats"], layers["fire_stations"])
    with pytest.raises(ValueError, match=r"缺少字段.*lacks columns: officer_name"):
        TrinityIndex.from_layers(
            cells.drop(columns="officer_name"), layers["police_beats"], layers["fire_stations"]
        )
    with pytest.raises(ValueError, match=r"没有坐标系.*has no CRS"):
        TrinityIndex.from_layers(
            cells.set_crs(None, allow_override=True),
            layers["police_beats"],
            layers["fire_stations"],
        )


@pytest.mark.parametrize(("pixel_m", "grows"), [(2.0, True), (40.0, False)])
def test_exact_at_any_pixel_size(layers, pixel_m, grows):
    # 2 m pixels over the demo town would exceed MAX_PIXELS: the index coarsens them itself.
    index = TrinityIndex.from_layers(**layers, pixel_m=pixel_m)
    assert (index.pixel_m > pixel_m) == grows and index.grid.size <= 1.01 * MAX_PIXELS
    lon, lat = random_points(layers, 20_000, seed=int(pixel_m))
    assert_matches(index.assign(lon, lat), truth(layers, lon, lat))


def test_grid_grows_its_pixels_past_the_cap():
    from geo._raster import Grid

    x, y = np.array([0.0, 10_000.0]), np.array([0.0, 10_000.0])
    assert Grid.around(x, y, 5.0, 10_000_000).px == 5.0
    grown = Grid.around(x, y, 5.0, 1_000_000)
    assert grown.px == pytest.approx(10.0) and grown.size <= 1_000_000 * 1.02
