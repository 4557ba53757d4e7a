"""Tests of the demo incident generator, on a small hand-made town (and the real demo town)."""

from __future__ import annotations

import importlib.util
import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from layers import SPECS
from layers.demo.incidents import DEMO_END, make_incidents
from layers.incidents_layer import CATEGORIES, SOURCES, STATES

LON0, LAT0, DX, DY = 120.05, 28.90, 0.005, 0.0045  # cells of about 490 m x 500 m
TIME_COLS = [
    "received_at",
    "dispatched_at",
    "on_scene_at",
    "resolved_at",
    "callback_at",
    "closed_at",
]
SPRING_FESTIVAL = pd.Timestamp("2026-02-17", tz="Asia/Shanghai")


def _cell(i: int, j: int) -> Polygon:
    return box(LON0 + i * DX, LAT0 + j * DY, LON0 + (i + 1) * DX, LAT0 + (j + 1) * DY)


def small_town() -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """A 3x3 grid of cells in 2 villages, 2 beats, 2 fire stations, houses and a few POIs."""
    crs = "EPSG:4326"
    vcode = {0: "330784199201", 1: "330784199202"}
    vname = {0: "青溪村", 1: "金塘村"}
    cells, gaz, pois = [], [], []
    for i in range(3):
        for j in range(3):
            v = 0 if i < 2 else 1
            k = len([c for c in cells if c["village_code"] == vcode[v]]) + 1
            cells.append(
                {
                    "code": f"{vcode[v]}{k:03d}",
                    "name": f"{vname[v]}第{k}网格",
                    "village_code": vcode[v],
                    "officer_id": f"G{i}{j}",
                    "officer_name": "王芳",
                    "officer_phone": "13800000000",
                    "registered_pop": 300 + 100 * j,
                    "migrant_pop": 900 if i == 0 else 300,
                    "households": 200,
                    "geometry": _cell(i, j),
                }
            )
            for a in range(5):
                for b in range(5):
                    no = a * 5 + b + 1
                    pt = Point(LON0 + (i + (a + 0.5) / 5) * DX, LAT0 + (j + (b + 0.5) / 5) * DY)
                    gaz.append(
                        {
                            "address": f"永康市示范镇{vname[v]}{k}组{no}号",
                            "level": "house",
                            "village_code": vcode[v],
                            "village": vname[v],
                            "group_no": k,
                            "house_no": str(no),
                            "geometry": pt,
                        }
                    )
    poi_rows = [
        ("宏达五金厂", "factory", 0.3, 0.3),
        ("恒盛工贸有限公司", "factory", 0.7, 0.4),
        ("金鼎门业有限公司", "factory", 0.4, 0.8),
        ("幸福公寓", "rental_housing", 2.3, 2.3),
        ("安居出租楼", "rental_housing", 2.5, 2.6),
        ("和谐员工宿舍", "rental_housing", 2.7, 2.4),
        ("示范农贸市场", "market", 1.5, 1.5),
        ("青溪村村委会", "village_office", 0.5, 2.5),
    ]
    for p, (name, kind, fx, fy) in enumerate(poi_rows):
        pt = Point(LON0 + fx * DX, LAT0 + fy * DY)
        v = 0 if fx < 2 else 1
        pois.append(
            {
                "id": f"P{p:03d}",
                "name": name,
                "kind": kind,
                "village_code": vcode[v],
                "geometry": pt,
            }
        )
        gaz.append(
            {
                "address": f"永康市示范镇{name}",
                "level": "poi",
                "village_code": vcode[v],
                "village": vname[v],
                "poi": name,
                "geometry": pt,
            }
        )
    for v in (0, 1):
        gaz.append(
            {
                "address": f"永康市示范镇{vname[v]}",
                "level": "village",
                "village_code": vcode[v],
                "village": vname[v],
                "geometry": Point(LON0 + (0.9 + 2 * v) * DX, LAT0 + 1.6 * DY),
            }
        )
    gaz.append(
        {
            "address": "永康市示范镇工业路",
            "level": "road",
            "road": "工业路",
            "geometry": Point(LON0 + 1.02 * DX, LAT0 + 0.55 * DY),
        }
    )
    gazetteer = gpd.GeoDataFrame(gaz, crs=crs)
    gazetteer.insert(0, "id", [f"A{i:05d}" for i in range(len(gazetteer))])
    villages = gpd.GeoDataFrame(
        [
            {
                "code": vcode[0],
                "name": vname[0],
                "kind": "村",
                "town_code": "330784199",
                "geometry": box(LON0, LAT0, LON0 + 2 * DX, LAT0 + 3 * DY),
            },
            {
                "code": vcode[1],
                "name": vname[1],
                "kind": "村",
                "town_code": "330784199",
                "geometry": box(LON0 + 2 * DX, LAT0, LON0 + 3 * DX, LAT0 + 3 * DY),
            },
        ],
        crs=crs,
    )
    beats = gpd.GeoDataFrame(
        [
            {
                "code": "JG01",
                "name": "一警格",
                "officer_id": "B1",
                "officer_name": "李强",
                "geometry": box(LON0, LAT0, LON0 + 3 * DX, LAT0 + DY),
            },
            {
                "code": "JG02",
                "name": "二警格",
                "officer_id": "B2",
                "officer_name": "陈明",
                "geometry": box(LON0, LAT0 + DY, LON0 + 3 * DX, LAT0 + 3 * DY),
            },
        ],
        crs=crs,
    )
    stations = gpd.GeoDataFrame(
        [
            {"code": "XF01", "name": "一号站", "geometry": Point(LON0 + 0.5 * DX, LAT0 + 1.5 * DY)},
            {"code": "XF02", "name": "二号站", "geometry": Point(LON0 + 2.5 * DX, LAT0 + 1.5 * DY)},
        ],
        crs=crs,
    )
    return {
        "town": gpd.GeoDataFrame(
            [
                {
                    "code": "330784199",
                    "name": "示范镇",
                    "geometry": box(LON0, LAT0, LON0 + 3 * DX, LAT0 + 3 * DY),
                }
            ],
            crs=crs,
        ),
        "villages": villages,
        "grid_cells": gpd.GeoDataFrame(cells, crs=crs),
        "police_beats": beats,
        "fire_stations": stations,
        "gazetteer": gazetteer,
        "pois": gpd.GeoDataFrame(pois, crs=crs),
        "industrial_zones": gpd.GeoDataFrame(
            [
                {
                    "code": "GY01",
                    "name": "示范工业区",
                    "geometry": box(LON0, LAT0, LON0 + 1.2 * DX, LAT0 + 1.0 * DY),
                }
            ],
            crs=crs,
        ),
        "departments": pd.DataFrame(
            {"code": ["D01", "D02", "D03"], "name": ["综合行政执法队", "劳动保障所", "司法所"]}
        ),
        "teams": pd.DataFrame(
            {"code": ["T01", "T02"], "name": ["一队", "二队"], "beat_code": ["JG01", "JG02"]}
        ),
    }


HAVE_DEMO_TOWN = importlib.util.find_spec("layers.demo.town") is not None


@pytest.fixture(
    scope="module",
    params=[
        "small",
        pytest.param(
            "demo", marks=pytest.mark.skipif(not HAVE_DEMO_TOWN, reason="no layers.demo.town yet")
        ),
    ],
)
def town(request) -> dict:
    """The hand-made small town, and the real demo town once it exists."""
    if request.param == "small":
        return small_town()
    from layers.demo.town import build_town

    return build_town(7)


@pytest.fixture(scope="module")
def made(town) -> tuple[gpd.GeoDataFrame, dict]:
    return make_incidents(town, seed=7, n=6000)


def _metric(gdf: gpd.GeoDataFrame) -> np.ndarray:
    g = gdf.geometry.to_crs("EPSG:4549")
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def test_deterministic_and_seeded(town, made):
    gdf, meta = made
    again, meta2 = make_incidents(town, seed=7, n=6000)
    pd.testing.assert_frame_equal(pd.DataFrame(gdf), pd.DataFrame(again))
    assert meta == meta2
    other, _ = make_incidents(town, seed=8, n=6000)
    assert not other["received_at"].equals(gdf["received_at"])


def test_columns_types_and_ids(made):
    gdf, meta = made
    assert list(gdf.columns) == [*SPECS["incidents"].field_names, "geometry"]
    assert len(gdf) == 6000 and gdf.crs.to_epsg() == 4326
    assert (gdf.geom_type == "Point").all()
    assert gdf["received_at"].is_monotonic_increasing
    assert gdf["id"].tolist() == [f"E{i:07d}" for i in range(1, 6001)]
    for col in (*TIME_COLS, "commitment_due"):
        assert str(gdf[col].dtype) == "datetime64[ms, UTC]", col
    for col in SPECS["incidents"].required:
        assert gdf[col].notna().all(), col
    assert set(gdf["source"]) <= set(SOURCES) and set(gdf["state"]) <= set(STATES)
    assert (gdf["category_zh"] == gdf["category"].map(CATEGORIES)).all()
    assert set(gdf["priority"]) == {"normal", "key"}
    start = pd.Timestamp(meta["start"])
    assert gdf["received_at"].min() >= start and gdf["received_at"].max() < DEMO_END
    assert start == DEMO_END - pd.Timedelta(days=365)
    json.dumps(meta)


def test_source_ids(made):
    gdf, _ = made
    day = gdf["received_at"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y%m%d")
    pattern = {"110": r"J330784\d{13}", "12345": r"GD\d{14}", "patrol": r"XC\d{13}"}
    for src, pat in pattern.items():
        ids = gdf.loc[gdf["source"] == src, "source_id"]
        assert ids.str.fullmatch(pat).all(), src
    ymd = gdf["source_id"].str.replace(r"^(J330784|GD|XC)", "", regex=True).str[:8]
    assert (ymd == day).all()
    assert gdf["source_id"].is_unique


def test_shares(made):
    gdf, meta = made
    share = gdf["source"].value_counts(normalize=True)
    assert abs(share["110"] - 0.6) < 0.04 and abs(share["12345"] - 0.3) < 0.04
    assert abs(share["patrol"] - 0.1) < 0.03
    cat = gdf["category"].value_counts(normalize=True)
    assert abs(cat["wage"] - 0.25) < 0.03 and abs(cat["neighbour"] - 0.20) < 0.03
    assert abs(gdf["involves_migrant"].mean() - 0.70) < 0.04
    by_cat = gdf.groupby("category")["involves_migrant"].mean()
    assert by_cat["wage"] > by_cat["neighbour"] and by_cat["rental"] > by_cat["family"]
    called = gdf["satisfaction"].notna()
    assert called.sum() == gdf["callback_at"].notna().sum()
    assert gdf.loc[called, "satisfaction"].isin(["满意", "基本满意"]).mean() >= 0.95
    arrive = gdf["on_scene_at"] - gdf["dispatched_at"]
    assert (arrive.dropna() <= pd.Timedelta(minutes=10)).mean() >= 0.85
    assert (arrive.dropna() <= pd.Timedelta(minutes=40)).all()
    ret = gdf["state"] == "returned"
    assert 0.015 < ret.mean() < 0.045
    assert gdf.loc[ret, TIME_COLS[1:]].isna().all().all()
    assert 0.03 < (gdf["priority"] == "key").mean() < 0.08
    assert 0.03 <= gdf["repeat_of"].notna().mean() <= 0.05
    patrol = gdf["source"] == "patrol"
    assert gdf.loc[patrol, "caller_phone"].isna().mean() > 0.4
    assert gdf.loc[~patrol, "caller_phone"].notna().all()
    assert meta["counts"]["source"] == gdf["source"].value_counts().sort_index().to_dict()


def test_callers(made):
    gdf, _ = made
    phones = gdf["caller_phone"].dropna()
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    ids = gdf["caller_id_number"].dropna()
    assert ids.str.fullmatch(r"\d{17}[\dX]").all()
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for value in ids.sample(300, random_state=0):
        total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
        assert value[17] == "10X98765432"[total % 11]
    migrant = gdf.loc[gdf["caller_id_number"].notna(), "involves_migrant"]
    local = ids.str[:6] == "330784"
    assert local[~migrant].mean() > 0.7 and local[migrant].mean() == 0
    assert gdf["caller_name"].dropna().str.len().between(2, 3).all()


def test_spring_festival_wage_peak(made):
    gdf, _ = made
    wage = gdf.loc[gdf["category"] == "wage", "received_at"].dt.tz_convert("Asia/Shanghai")
    week = (wage - pd.Timestamp(DEMO_END) + pd.Timedelta(days=365)).dt.days // 7
    weekly = week.value_counts().reindex(range(52), fill_value=0)
    before = (wage >= SPRING_FESTIVAL - pd.Timedelta(weeks=5)) & (wage < SPRING_FESTIVAL)
    assert before.sum() / 5 > 1.8 * weekly.median()
    holiday = (wage >= SPRING_FESTIVAL) & (wage < SPRING_FESTIVAL + pd.Timedelta(days=7))
    assert holiday.sum() < 0.6 * weekly.median()
    hour = wage.dt.hour
    assert hour.between(8, 17).mean() > 0.7
    fam = gdf.loc[gdf["category"] == "family", "received_at"].dt.tz_convert("Asia/Shanghai")
    assert fam.dt.hour.between(18, 23).mean() > 0.4


def test_times_ordered_and_states(town, made):
    gdf, _ = made
    for a, b in itertools.pairwise(TIME_COLS):
        both = gdf[a].notna() & gdf[b].notna()
        assert (gdf.loc[both, a] <= gdf.loc[both, b]).all(), (a, b)
        assert not (gdf[a].isna() & gdf[b].notna()).any(), (a, b)
    for col in TIME_COLS:
        assert (gdf[col].dropna() < DEMO_END).all()
    last = gdf["received_at"] >= DEMO_END - pd.Timedelta(days=1)
    assert (gdf.loc[last, "state"] != "closed").any()
    closed = gdf["state"] == "closed"
    assert gdf.loc[closed, "closed_at"].notna().all()
    assert gdf.loc[gdf["reopened"], "satisfaction"].eq("不满意").all()
    open_states = {"received", "dispatched", "on_scene", "resolved", "callback_due"}
    old = gdf["received_at"] < DEMO_END - pd.Timedelta(days=60)
    assert not gdf.loc[old, "state"].isin(open_states).any()
    assert (gdf.loc[gdf["state"] == "received", "dispatched_at"].isna()).all()
    assert gdf.loc[~gdf["state"].eq("returned"), "team_code"].notna().mean() > 0.99
    wage_dept = gdf.loc[gdf["category"] == "wage", "department_code"]
    depts = town["departments"]
    labour = depts.loc[depts["name"] == "劳动保障所", "code"].iloc[0]
    assert (wage_dept == labour).mean() > 0.6


def test_commitments_and_seed_case(made):
    gdf, meta = made
    has = gdf["commitment_amount"].notna()
    assert gdf.loc[has, "category"].isin(["wage", "rental", "consumer"]).all()
    share = has[gdf["category"].isin(["wage", "rental", "consumer"])].mean()
    assert 0.02 < share < 0.09
    assert gdf.loc[has, "commitment_due"].notna().all()
    broken = gdf["commitment_kept"].eq(False).fillna(False)
    assert broken.any() and gdf.loc[broken, "reopened"].all()
    case = gdf.set_index("id").loc[meta["seed_case"]["id"]]
    local = {k: case[k].tz_convert("Asia/Shanghai") for k in ("commitment_due", "callback_at")}
    assert case["commitment_amount"] == 7000 and "7000" in case["description"]
    assert local["commitment_due"].date().isoformat() == "2026-05-31"
    assert local["callback_at"].date().isoformat() == "2026-06-01"
    assert not case["commitment_kept"] and case["reopened"] and case["state"] == "closed"
    assert pd.Timedelta(0) < case["closed_at"] - case["callback_at"] <= pd.Timedelta(days=3)


def test_trinity_matches_polygons(town, made):
    gdf, _ = made
    assert gdf["grid_code"].notna().mean() > 0.99
    pts = gdf[["geometry"]]
    for col, layer in (
        ("grid_code", "grid_cells"),
        ("village_code", "villages"),
        ("beat_code", "police_beats"),
    ):
        joined = gpd.sjoin(pts, town[layer][["code", "geometry"]], predicate="within")
        joined = joined[~joined.index.duplicated()]
        assert (gdf.loc[joined.index, col] == joined["code"]).all(), col
    grid_village = town["grid_cells"].set_index("code")["village_code"]
    ok = gdf["grid_code"].notna()
    assert (gdf.loc[ok, "grid_code"].map(grid_village) == gdf.loc[ok, "village_code"]).all()
    xy = _metric(gdf)
    st = _metric(town["fire_stations"])
    nearest = np.argmin(((xy[:, None, :] - st[None, :, :]) ** 2).sum(axis=2), axis=1)
    assert (
        gdf["station_code"].to_numpy() == town["fire_stations"]["code"].to_numpy()[nearest]
    ).all()


def test_addresses(town, made):
    gdf, _ = made
    standard = set(town["gazetteer"]["address"])
    is_std = gdf["address"].isin(standard)
    assert 0.55 < is_std.mean() < 0.85
    assert set(gdf["geocode_level"]) <= {"house", "poi", "road", "group", "village"}
    assert (gdf["geocode_level"] == "house").mean() > 0.5
    messy = gdf.loc[~is_std, "address"]
    assert messy.str.contains("[一二三四五六七八九]组").any()
    assert messy.str.contains("[０-９]").any()
    assert messy.str.contains("附近|对面|旁边").any()
    town_name = town["town"]["name"].iloc[0]
    assert (~messy.str.contains(town_name)).any()
    gate = gdf["address"].str.endswith("门口") & (gdf["category"] == "wage")
    assert gdf.loc[gate, "address"].str.contains("厂|公司").any()


def test_repeat_calls(made):
    gdf, _ = made
    rep = gdf[gdf["repeat_of"].notna()]
    orig = gdf.set_index("id").loc[rep["repeat_of"]]
    assert (orig["received_at"].to_numpy() < rep["received_at"].to_numpy()).all()
    assert (orig["caller_phone"].to_numpy() == rep["caller_phone"].to_numpy()).all()
    gap = rep["received_at"].to_numpy() - orig["received_at"].to_numpy()
    assert (gap <= np.timedelta64(11, "D")).all()
    a = _metric(rep)
    b = _metric(gpd.GeoDataFrame(orig, geometry="geometry", crs="EPSG:4326"))
    assert (np.hypot(*(a - b).T) < 500).all()


def test_hotspots_are_dense(town, made):
    gdf, meta = made
    assert 3 <= len(meta["hotspots"]) <= 5
    xy = _metric(gdf)
    area = town["grid_cells"].to_crs("EPSG:4549").area.sum()
    for spot in meta["hotspots"]:
        centre = _metric(gpd.GeoDataFrame(geometry=[Point(spot["lon"], spot["lat"])], crs=4326))[0]
        near = np.hypot(*(xy - centre).T) <= spot["radius_m"]
        t0, t1 = pd.Timestamp(spot["start"]), pd.Timestamp(spot["end"])
        during = (gdf["received_at"] >= t0) & (gdf["received_at"] < t1)
        same = (gdf["category"] == spot["category"]) & during
        inside = int((near & same).sum())
        assert inside >= spot["count"] == len(spot["incident_ids"])
        expected = same.sum() * np.pi * spot["radius_m"] ** 2 / area
        assert inside > 2.5 * expected, spot["id"]
        ids = gdf.set_index("id").loc[spot["incident_ids"]]
        assert (ids["category"] == spot["category"]).all()


def test_scales():
    town = small_town()
    small, meta = make_incidents(town, seed=1, n=40)
    assert len(small) == 40 and small["id"].is_unique
    later = pd.Timestamp("2027-06-01T00:00:00+08:00")
    gdf, meta = make_incidents(town, seed=3, n=2000, end=later)
    assert gdf["received_at"].max() < later and len(gdf) == 2000
    assert meta["seed_case"] is not None
