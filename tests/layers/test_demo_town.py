"""The demo town: determinism, counts, schema, exact topology, people and gazetteer."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from layers import SPECS
from layers.demo.town import TOWN_CODE, TOWN_NAME, build_town
from layers.gazetteer import LEVELS
from layers.pois import POI_KINDS
from layers.tables import OFFICER_ROLES
from layers.villages import KINDS

LAYERS = (
    "town", "villages", "grid_cells", "police_beats", "fire_stations", "fire_station_coverage",
    "gazetteer", "pois", "industrial_zones", "roads", "departments", "teams", "officers",
)  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture(scope="module")
def town() -> dict[str, pd.DataFrame]:
    return build_town(7)


@pytest.fixture(scope="module")
def m(town) -> dict[str, gpd.GeoDataFrame]:
    """The spatial frames back in metres (EPSG:4549)."""
    return {k: v.to_crs(4549) for k, v in town.items() if isinstance(v, gpd.GeoDataFrame)}


def _geoms(geoms) -> np.ndarray:
    """Geometries of a frame or series as a plain numpy object array (for shapely)."""
    return np.asarray(getattr(geoms, "geometry", geoms).to_numpy(), dtype=object)


def _assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        if isinstance(a[name], gpd.GeoDataFrame):
            assert_geodataframe_equal(a[name], b[name], check_less_precise=False)
        else:
            assert_frame_equal(a[name], b[name])


def test_same_seed_gives_identical_frames_even_in_another_process(town, tmp_path):
    out = tmp_path / "town.pkl"
    code = (
        "import pickle, sys; from layers.demo.town import build_town; "
        "pickle.dump(build_town(7), open(sys.argv[1], 'wb'))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, cwd=ROOT, env=env)
    with out.open("rb") as fh:
        _assert_same(town, pickle.load(fh))


def test_different_seed_gives_a_different_town(town):
    other = build_town(8)
    with pytest.raises(AssertionError):
        assert_geodataframe_equal(town["grid_cells"], other["grid_cells"])
    assert town["gazetteer"]["address"].tolist() != other["gazetteer"]["address"].tolist()


def test_columns_and_dtypes_match_the_specs(town):
    assert tuple(town) == LAYERS
    for name, frame in town.items():
        spec = SPECS[name]
        expected = spec.field_names + (["geometry"] if spec.geometry else [])
        assert list(frame.columns) == expected, name
        if spec.geometry:
            assert isinstance(frame, gpd.GeoDataFrame) and frame.crs.to_epsg() == 4326, name
            assert set(frame.geom_type) == {spec.geometry}, name
            assert frame.is_valid.all(), name
        else:
            assert not isinstance(frame, gpd.GeoDataFrame), name
        for f in spec.fields:
            col = frame[f.name]
            if f.type == "int":
                assert str(col.dtype) in ("int64", "Int64"), (name, f.name, col.dtype)
                assert str(col.dtype) == "int64" or col.isna().any(), (name, f.name)
            else:
                assert pd.api.types.is_string_dtype(col), (name, f.name, col.dtype)
            if f.required:
                assert col.notna().all(), (name, f.name)


def test_counts(town):
    t = town
    assert len(t["town"]) == 1
    assert 20 <= len(t["villages"]) <= 30
    assert 150 <= len(t["grid_cells"]) <= 250
    assert 8 <= len(t["police_beats"]) <= 12
    assert 10 <= len(t["fire_stations"]) <= 15
    assert len(t["fire_station_coverage"]) == len(t["fire_stations"])
    assert 3000 <= len(t["gazetteer"]) <= 6000
    assert 3 <= len(t["industrial_zones"]) <= 5
    assert 4 <= len(t["roads"]) <= 8
    assert len(t["departments"]) == 14
    assert len(t["teams"]) == len(t["police_beats"])
    kinds = t["pois"]["kind"].value_counts()
    assert set(kinds.index) <= set(POI_KINDS)
    assert 60 <= kinds["factory"] <= 120
    assert 4 <= kinds["market"] <= 6
    assert 6 <= kinds["school"] <= 10
    assert 30 <= kinds["rental_housing"] <= 60
    assert kinds["village_office"] == len(t["villages"])


def test_codes_and_names(town):
    t = town
    assert t["town"].iloc[0].tolist()[:2] == [TOWN_CODE, TOWN_NAME]
    v = t["villages"]
    assert v["kind"].isin(KINDS).all() and (v["town_code"] == TOWN_CODE).all()
    assert v["code"].is_unique and v["name"].is_unique
    for code, name, kind in zip(v["code"], v["name"], v["kind"], strict=True):
        assert re.fullmatch(TOWN_CODE + (r"00[1-9]" if kind == "社区" else r"2\d\d"), code)
        assert name.endswith(kind) and len(name) == 2 + len(kind)
    g = t["grid_cells"]
    assert g["code"].is_unique and g["village_code"].isin(v["code"]).all()
    names = dict(zip(v["code"], v["name"], strict=True))
    for code, vcode, name in zip(g["code"], g["village_code"], g["name"], strict=True):
        assert re.fullmatch(r"\d{15}", code) and code.startswith(vcode)
        assert name == f"{names[vcode]}第{int(code[-3:])}网格"
    b = t["police_beats"]
    assert b["code"].tolist() == [f"{TOWN_CODE}J{i:02d}" for i in range(1, len(b) + 1)]
    assert (b["police_station"] == "演示镇派出所").all()
    s = t["fire_stations"]
    assert s["code"].tolist() == [f"{TOWN_CODE}X{i:02d}" for i in range(1, len(s) + 1)]
    assert s["kind"].isin(["智慧消防站", "微型消防站"]).all() and s["name"].is_unique
    assert all(n.endswith(k) for n, k in zip(s["name"], s["kind"], strict=True))
    cov = t["fire_station_coverage"]
    assert cov["station_code"].tolist() == s["code"].tolist() and (cov["minutes"] == 3).all()
    assert t["departments"]["code"].tolist() == [f"D{i:02d}" for i in range(1, 15)]
    assert t["pois"]["id"].is_unique and t["pois"]["name"].is_unique
    assert t["roads"]["name"].is_unique


def test_town_area_and_cells_tile_it_exactly(m):
    town = m["town"].geometry.iloc[0]
    assert 80e6 <= town.area <= 100e6
    cells = _geoms(m["grid_cells"])
    assert abs(shapely.area(cells).sum() - town.area) < len(cells)
    union = shapely.union_all(cells)
    assert town.difference(union).area < 1.0 and union.difference(town).area < 1.0
    i, j = shapely.STRtree(cells).query(cells, predicate="intersects")
    keep = i < j
    overlaps = shapely.area(shapely.intersection(cells[i[keep]], cells[j[keep]]))
    assert overlaps.max() < 1.0
    assert shapely.coverage_is_valid(cells)


def test_cells_nest_in_villages_and_villages_are_their_union(m):
    cells, villages = m["grid_cells"], m["villages"].set_index("code")
    inter = shapely.area(shapely.intersection(_geoms(cells)[:, None], _geoms(villages)[None, :]))
    best = inter.argmax(axis=1)
    assert (villages.index[best] == cells["village_code"].to_numpy()).all()
    assert (inter[np.arange(len(cells)), best] > cells.area.to_numpy() - 1.0).all()
    for code, group in cells.groupby("village_code"):
        union = shapely.union_all(_geoms(group))
        assert union.symmetric_difference(villages.geometry[code]).area < 1.0
    sums = cells.groupby("village_code")[["registered_pop", "migrant_pop"]].sum()
    assert_frame_equal(sums, villages[["registered_pop", "migrant_pop"]], check_names=False)


def test_every_cell_in_exactly_one_beat_and_beats_are_unions_of_cells(m):
    cells, beats = _geoms(m["grid_cells"]), _geoms(m["police_beats"])
    inter = shapely.area(shapely.intersection(cells[:, None], beats[None, :]))
    full = inter > shapely.area(cells)[:, None] - 1.0
    assert (full.sum(axis=1) == 1).all()
    assert (inter[~full] < 1.0).all()
    for k, beat in enumerate(beats):
        union = shapely.union_all(cells[full[:, k]])
        assert union.symmetric_difference(beat).area < 1.0


def test_population(m):
    cells = m["grid_cells"]
    assert 65_000 <= cells["migrant_pop"].sum() <= 75_000
    assert 50_000 <= cells["registered_pop"].sum() <= 60_000
    assert (cells["households"] > 0).all()
    # Smaller cells where people are dense.
    dens = (cells["registered_pop"] + cells["migrant_pop"]) / cells.area
    assert cells.area.rank().corr(dens.rank()) < -0.5
    # Migrants concentrate round the industrial zones.
    near = cells.intersects(m["industrial_zones"].buffer(500).union_all())
    mig = cells["migrant_pop"] / cells.area
    assert mig[near].mean() > 2 * mig[~near].mean()


def test_places_are_where_they_should_be(town, m):
    inside_town = m["town"].geometry.iloc[0]
    pois, villages = m["pois"], m["villages"].set_index("code")
    assert pois.within(inside_town).all()
    homes = _geoms(villages.geometry[pois["village_code"]])
    assert shapely.within(_geoms(pois), homes).all()
    zones = m["industrial_zones"].union_all()
    assert pois[pois["kind"] == "factory"].within(zones).all()
    rental = pois[pois["kind"] == "rental_housing"]
    assert (rental.distance(zones) < 1000).all()
    stations, cov = m["fire_stations"], m["fire_station_coverage"]
    assert stations.within(inside_town).all()
    assert shapely.contains(_geoms(cov), _geoms(stations)).all()
    assert (cov.difference(inside_town).area < 1.0).all()
    assert ((cov.area > np.pi * 1000**2 * 0.3) & (cov.area < 8e6)).all()
    assert (m["roads"].length > 3000).all()


def test_people(town):
    o, g, b = town["officers"], town["grid_cells"], town["police_beats"]
    assert o["id"].is_unique and o["name"].is_unique and o["phone"].is_unique
    assert o["role"].isin(OFFICER_ROLES).all()
    assert all(MOBILE.fullmatch(p) for p in o["phone"])
    by_id = o.set_index("id")
    for frame, role in ((g, "grid"), (b, "beat")):
        staff = by_id.loc[frame["officer_id"]]
        assert (staff["role"] == role).all()
        assert staff["name"].tolist() == frame["officer_name"].tolist()
        assert staff["phone"].tolist() == frame["officer_phone"].tolist()
        assert staff["area_code"].tolist() == frame["code"].tolist()
    fire = o[o["role"] == "fire"]
    assert sorted(fire["area_code"]) == sorted(town["fire_stations"]["code"])
    teams = town["teams"]
    assert teams["beat_code"].tolist() == b["code"].tolist()
    for t in teams["code"]:
        assert sorted(o.loc[o["team_code"] == t, "role"]) == ["enforcement", "mediator"]


def test_gazetteer_addresses_follow_the_canonical_forms(town):
    gz = town["gazetteer"]
    assert gz["id"].is_unique and gz["address"].is_unique
    assert set(gz["level"]) == set(LEVELS)
    counts = gz["level"].value_counts()
    assert counts["town"] == 1 and counts["village"] == len(town["villages"])
    assert counts["road"] == len(town["roads"]) and counts["poi"] == len(town["pois"])
    for row in gz.itertuples():
        if row.level == "town":
            assert row.address == TOWN_NAME
        elif row.level == "village":
            assert row.address == f"{TOWN_NAME}{row.village}"
        elif row.level == "road":
            assert row.address == f"{TOWN_NAME}{row.road}" and pd.isna(row.village_code)
        elif row.level == "group":
            assert row.address == f"{TOWN_NAME}{row.village}{row.group_no}组"
        elif row.level == "poi":
            text = row.poi if row.poi.startswith(row.village) else row.village + row.poi
            assert row.address == TOWN_NAME + text
        elif pd.isna(row.road):
            assert row.address == f"{TOWN_NAME}{row.village}{row.group_no}组{row.house_no}号"
        else:
            assert row.address == f"{TOWN_NAME}{row.road}{row.house_no}号"
            assert pd.isna(row.group_no)
    assert set(gz.loc[gz["level"] == "poi", "poi"]) == set(town["pois"]["name"])


def test_gazetteer_points_lie_in_their_village(town, m):
    gz, villages = town["gazetteer"], town["villages"].set_index("code")
    located = gz[gz["village_code"].notna()]
    polys = _geoms(villages.geometry[located["village_code"]])
    assert shapely.contains(polys, _geoms(located)).all()
    assert (villages["name"][located["village_code"]].values == located["village"].values).all()
    assert gz.within(town["town"].geometry.iloc[0]).all()


def test_houses_cluster_round_their_group_and_line_their_road(m):
    gz = m["gazetteer"]
    groups = gz[gz["level"] == "group"].set_index(["village_code", "group_no"]).geometry
    houses = gz[(gz["level"] == "house") & gz["road"].isna()]
    centre = _geoms(groups[list(zip(houses["village_code"], houses["group_no"], strict=True))])
    assert np.median(shapely.distance(centre, _geoms(houses))) < 200.0
    roads = m["roads"].set_index("name").geometry
    on_road = gz[(gz["level"] == "house") & gz["road"].notna()]
    assert len(on_road) > 200
    dist = shapely.distance(_geoms(roads[on_road["road"]]), _geoms(on_road))
    assert (dist < 8.5).all() and np.median(dist) > 7.0
