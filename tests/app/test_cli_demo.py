"""``ember demo``: deterministic, valid, and readable by GDAL (pyogrio)."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal

from app.cli import main
from layers import SPECS
from layers.importer import validate_layers


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple:
    base = tmp_path_factory.mktemp("demo")
    a, b, c = base / "a.gpkg", base / "b.gpkg", base / "c.gpkg"
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        assert main(["demo", "--seed", seed, "--out", str(path), "--incidents", "1500"]) == 0
    return a, b, c


def layers_of(path) -> dict:
    return {str(n): pyogrio.read_dataframe(path, layer=n) for n, _ in pyogrio.list_layers(path)}


def test_same_seed_gives_identical_layers(two_builds):
    a, b, _ = two_builds
    la, lb = layers_of(a), layers_of(b)
    assert sorted(la) == sorted(lb)
    for name in la:
        if "geometry" in la[name]:
            assert_geodataframe_equal(la[name], lb[name], check_less_precise=False)
        else:
            pd.testing.assert_frame_equal(la[name], lb[name])


def test_other_seed_gives_another_town(two_builds):
    a, _, c = two_builds
    ga = pyogrio.read_dataframe(a, layer="grid_cells")
    gc = pyogrio.read_dataframe(c, layer="grid_cells")
    assert not ga.geometry.equals(gc.geometry)


def test_demo_gpkg_has_every_layer_and_passes_validation(two_builds):
    a, _, _ = two_builds
    frames = layers_of(a)
    for name in SPECS:
        assert name in frames, name
        assert list(frames[name].columns[: len(SPECS[name].fields)]) == SPECS[name].field_names
    assert "demo_meta" in frames
    assert validate_layers({k: v for k, v in frames.items() if k in SPECS}) == []
    assert len(frames["incidents"]) == 1500
    assert frames["incidents"]["id"].is_unique


def test_json_summary(tmp_path, capsys):
    out = tmp_path / "d.gpkg"
    assert main(["demo", "--out", str(out), "--incidents", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"]["incidents"] == 300
    assert 60_000 <= doc["migrants"] <= 80_000


def test_end_now_leaves_no_future_event(tmp_path, capsys):
    from store import open_store
    from store.base import IncidentQuery, Scope

    out = tmp_path / "now.gpkg"
    before = pd.Timestamp.now(tz="UTC")
    assert main(["demo", "--out", str(out), "--incidents", "300", "--end", "now"]) == 0
    frame = open_store(str(out)).query_incidents(IncidentQuery(), Scope.everything("test"))
    times = [c for c in frame.columns if c.endswith("_at")]
    latest = max(pd.to_datetime(frame[c], utc=True).max() for c in times)
    assert latest <= before + pd.Timedelta(minutes=1)
    assert latest >= before - pd.Timedelta(days=7)  # the year really ends now


def test_bad_end_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "x.gpkg"), "--end", "soon"]) == 2
    assert "--end" in capsys.readouterr().err
