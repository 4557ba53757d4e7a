"""``ember hotspots`` end to end on the demo GeoPackage (seed 7, 2,000 incidents)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from app.cli import main
from geo.crs import METRIC_EPSG
from layers.demo import read_meta
from store import IncidentQuery, Scope, open_store


@pytest.fixture(autouse=True)
def store_env(tmp_path, monkeypatch, demo_gpkg) -> None:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)
    monkeypatch.setenv("EMBER_DB", str(demo_gpkg))


@pytest.fixture(scope="module")
def planted(demo_gpkg) -> list[dict[str, Any]]:
    spots = read_meta(open_store(str(demo_gpkg)).read_layer("demo_meta"))["hotspots"]
    assert len(spots) >= 4
    return spots  # type: ignore[return-value]


def run(capsys, *argv: str) -> tuple[int, Any, str, str]:
    code = main(["hotspots", *argv])
    captured = capsys.readouterr()
    doc = json.loads(captured.out) if captured.out.lstrip().startswith("{") else None
    return code, doc, captured.out, captured.err


def spot_window(spot: dict[str, Any]) -> list[str]:
    """--category/--from/--to of a planted hotspot (its end date is exclusive)."""
    start = pd.Timestamp(spot["start"]).date().isoformat()
    last = (pd.Timestamp(spot["end"]) - pd.Timedelta(days=1)).date().isoformat()
    return ["--category", spot["category"], "--from", start, "--to", last]


def frame_of(doc: dict[str, Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame.from_features(doc["features"], crs=4326)


@pytest.mark.parametrize("method", ["kde", "gi", "emerging", "clusters"])
def test_json_is_one_feature_collection_in_wgs84(capsys, method):
    code, doc, out, err = run(capsys, "--method", method, "--json")
    assert code == 0, err
    assert doc is not None and out.strip().count("\n") == 0  # one document, nothing else
    assert doc["type"] == "FeatureCollection" and doc["features"]
    meta = doc["ember"]
    assert meta["method"] == method and meta["incidents"] == 2000
    assert meta["features"] == len(doc["features"])
    frame = frame_of(doc)
    x0, y0, x1, y1 = frame.total_bounds
    assert 119 < x0 < x1 < 121 and 28 < y0 < y1 < 30  # lon/lat, not metres
    assert frame.geometry.is_valid.all()
    assert "analysing" in err  # progress on stderr


def test_gi_features_are_the_grid_cells_with_their_class(capsys, demo_gpkg):
    code, doc, _, _ = run(capsys, "--method", "gi", "--json")
    assert code == 0
    cells = open_store(str(demo_gpkg)).read_layer("grid_cells")
    props = pd.DataFrame([f["properties"] for f in doc["features"]])
    assert sorted(props["code"]) == sorted(cells["code"])
    assert props["n"].sum() == 2000
    assert set(props["gi_class"]) <= {
        "hot 99%", "hot 95%", "hot 90%", "not significant", "cold 90%", "cold 95%", "cold 99%",
    }  # fmt: skip
    assert (props["gi_bin"] > 0).any()
    assert sum(doc["ember"]["classes"].values()) == len(cells)
    # Nothing personal leaks into the output, not even the grid officers' phones.
    text = json.dumps(doc, ensure_ascii=False)
    assert "officer" not in text and "caller" not in text


def test_gi_and_kde_find_each_planted_hotspot_in_its_category_and_period(capsys, planted):
    for spot in planted:
        where = shapely.Point(spot["lon"], spot["lat"])
        code, doc, _, err = run(capsys, "--method", "gi", "--json", *spot_window(spot))
        assert code == 0, err
        cells = frame_of(doc)
        holding = cells[cells.contains(where)]
        assert len(holding) == 1
        # The cell holding the spot, or one touching it, is hot.
        near = cells[cells.intersects(holding.geometry.iloc[0])]
        assert (near["gi_bin"] > 0).any(), (spot["id"], near[["name", "gi_z", "gi_class"]])

        code, doc, _, err = run(capsys, "--method", "kde", "--json", *spot_window(spot))
        assert code == 0, err
        top = doc["ember"]["peaks"][0]
        peak = gpd.GeoSeries([shapely.Point(top["lon"], top["lat"]), where], crs=4326)
        metric = peak.to_crs(METRIC_EPSG)
        assert metric.iloc[0].distance(metric.iloc[1]) <= spot["radius_m"], spot["id"]


def test_filters_match_a_store_query(capsys, demo_gpkg):
    store = open_store(str(demo_gpkg))
    village = str(store.read_layer("grid_cells")["village_code"].iloc[0])
    frm = pd.Timestamp("2026-03-01", tz="Asia/Shanghai").to_pydatetime()
    to = pd.Timestamp("2026-06-01", tz="Asia/Shanghai").to_pydatetime()
    query = IncidentQuery(received_from=frm, received_to=to, categories=("neighbour",))
    expected = len(store.query_incidents(query, Scope.everything("test")))
    in_village = store.query_incidents(
        IncidentQuery(
            received_from=frm, received_to=to, categories=("neighbour",), village_codes=(village,)
        ),
        Scope.everything("test"),
    )
    argv = ["--category", "neighbour", "--from", "2026-03-01", "--to", "2026-05-31", "--json"]
    code, doc, _, err = run(capsys, "--method", "kde", "--village", village, *argv)
    assert code == 0, err
    assert doc["ember"]["incidents"] == len(in_village) > 0
    assert doc["ember"]["filters"]["village"] == village
    assert doc["ember"]["filters"]["from"].startswith("2026-03-01T00:00:00+08:00")
    assert doc["ember"]["filters"]["to"].startswith("2026-06-01T00:00:00+08:00")
    code, doc, _, err = run(capsys, "--method", "gi", *argv)
    assert code == 0, err
    assert doc["ember"]["incidents"] == expected > len(in_village)


def test_village_gi_is_town_wide_but_returns_the_village_cells(capsys, demo_gpkg, planted):
    spot = next(s for s in planted if s["category"] == "wage")
    cells = open_store(str(demo_gpkg)).read_layer("grid_cells")
    holding = cells[cells.contains(shapely.Point(spot["lon"], spot["lat"]))]
    village = str(holding["village_code"].iloc[0])
    code, doc, _, err = run(
        capsys, "--method", "gi", "--village", village, "--json", *spot_window(spot)
    )
    assert code == 0, err
    props = pd.DataFrame([f["properties"] for f in doc["features"]])
    assert set(props["village_code"]) == {village}
    assert len(props) == int((cells["village_code"] == village).sum())
    assert sum(doc["ember"]["classes"].values()) == len(props)
    # Computed over the town, the planted spot's cell stands out within its village.
    assert props.set_index("code").loc[holding["code"].iloc[0], "gi_bin"] > 0
    code, doc, _, _ = run(capsys, "--method", "emerging", "--village", village, "--json")
    assert code == 0 and {f["properties"]["village_code"] for f in doc["features"]} == {village}


def test_out_writes_the_geojson_and_prints_a_summary(capsys, tmp_path: Path):
    out = tmp_path / "sub" / "clusters.geojson"
    code, doc, _, err = run(
        capsys, "--method", "clusters", "--min-cluster-size", "20", "--out", str(out), "--json"
    )
    assert code == 0, err
    assert doc["out"] == str(out) and doc["method"] == "clusters" and "features" in doc
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["type"] == "FeatureCollection"
    assert len(written["features"]) == doc["features"] == doc["clusters"] > 0
    first = written["features"][0]["properties"]
    assert first["cluster"] == 0 and first["n"] >= 20
    assert isinstance(first["category_mix"], dict) and isinstance(first["top_addresses"], list)
    assert 0 <= first["migrant_share"] <= 1 and 0 <= first["repeat_share"] <= 1
    assert frame_of(written).geom_type.isin(["Polygon", "LineString", "Point"]).all()


def test_text_mode_is_for_people(capsys):
    code, doc, out, err = run(capsys, "--method", "kde", "--bandwidth", "300")
    assert code == 0 and doc is None
    assert "peak 1" in out and "--json" in err


def test_kde_bandwidth_and_cell(capsys):
    code, doc, _, _ = run(
        capsys, "--method", "kde", "--bandwidth", "400", "--cell", "100", "--min-share", "0.2",
        "--json",
    )  # fmt: skip
    assert code == 0
    meta = doc["ember"]
    assert meta["bandwidth_m"] == 400 and meta["cell_m"] == 100 and meta["min_share"] == 0.2
    densities = [f["properties"]["density_km2"] for f in doc["features"]]
    assert min(densities) >= 0.2 * meta["max_density_km2"] - 1e-3
    assert max(densities) == pytest.approx(meta["max_density_km2"], rel=1e-6)


def test_an_empty_window_is_empty_not_an_error(capsys):
    for method in ("kde", "gi", "emerging", "clusters"):
        code, doc, _, err = run(capsys, "--method", method, "--from", "2031-01-01", "--json")
        assert code == 0, err
        assert doc["ember"]["incidents"] == 0
        if method in ("gi", "emerging"):
            assert len(doc["features"]) == 190  # every cell, nothing significant
            assert all(f["properties"].get("gi_bin", 0) == 0 for f in doc["features"])
        else:
            assert doc["features"] == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--method", "gi", "--category", "murder"], "unknown category"),
        (["--method", "gi", "--from", "yesterday-ish"], "not a date"),
        (["--method", "gi", "--from", "2026-05-01", "--to", "2026-04-01"], "before"),
        (["--method", "gi", "--village", "999"], "no grid cells"),
    ],
)
def test_bad_input_exits_2_with_a_bilingual_message(capsys, argv, says):
    code, _, out, err = run(capsys, *argv, "--json")
    assert code == 2 and out == ""
    assert says in err and "ember:" in err


def test_missing_store_exits_2(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DB", str(tmp_path / "nothing.gpkg"))
    code, _, out, err = run(capsys, "--method", "gi", "--json")
    assert code == 2 and out == "" and "ember demo" in err
    assert not (tmp_path / "nothing.gpkg").exists()


def test_reads_masked_data_and_audits_no_personal_view(capsys, demo_gpkg):
    store = open_store(str(demo_gpkg))
    before = len(store.audit_log())
    code, _, _, _ = run(capsys, "--method", "clusters", "--json")
    assert code == 0
    assert len(store.audit_log()) == before


def test_gi_with_permutations_reports_the_pseudo_p(capsys):
    code, doc, _, err = run(capsys, "--method", "gi", "--permutations", "99", "--json")
    assert code == 0, err
    assert doc["ember"]["permutations"] == 99
    p_sim = [f["properties"]["gi_p_sim"] for f in doc["features"]]
    assert min(p_sim) >= 1 / 100 and max(p_sim) <= 1  # floored at 1 / (P + 1)
