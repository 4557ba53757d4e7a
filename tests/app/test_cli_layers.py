"""``ember layers import|export`` end to end through the CLI entry point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyogrio
import pytest

from app.cli import main
from layers.io import write_layers
from tests.tiny_town import make_tiny_town

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)
    return tmp_path / "var" / "ember.gpkg"


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_import_good_set_then_export(tmp_path, db, capsys):
    src = write_layers(tmp_path / "town.gpkg", make_tiny_town())
    code, doc = run(capsys, "--db", str(db), "layers", "import", str(src), "--json")
    assert code == 0 and doc["ok"] is True
    assert doc["layers"]["grid_cells"] == 4
    assert pyogrio.read_dataframe(db, layer="grid_cells")["name"].iloc[0] == "青溪村第1网格"
    # again (one layer fixed, say), the store holding an incidents layer, empty before the
    # first call: it was checked with the town's and refused ("the layer has no features")
    assert main(["--db", str(db), "layers", "import", str(src)]) == 0
    assert "restart ember serve to draw them on the wall's map" in capsys.readouterr().out

    out = tmp_path / "shp"
    code, doc = run(
        capsys, "--db", str(db), "layers", "export", "--out", str(out), "--format", "shp",
        "--encoding", "GBK", "--epsg", "4490", "--json",
    )  # fmt: skip
    assert code == 0
    assert (out / "grid_cells.shp").exists() and (out / "villages.cpg").exists()
    assert pyogrio.read_info(out / "grid_cells.shp")["crs"] == "EPSG:4490"


def test_gbk_shapefile_replaces_grid_cells_of_the_store(tmp_path, db, capsys):
    write_layers(db, make_tiny_town())
    shp = DATA / "gbk_grid_cells" / "wangge.shp"
    code, doc = run(
        capsys, "--db", str(db), "layers", "import", str(shp), "--kind", "grid_cells", "--json"
    )
    assert code == 0, doc
    assert doc["layers"] == {"grid_cells": 4}


def test_bad_layer_is_rejected_listed_and_kept(tmp_path, db, capsys):
    town = make_tiny_town()
    write_layers(db, town)
    before = pyogrio.read_dataframe(db, layer="grid_cells")
    grids = town["grid_cells"].copy()
    grids.loc[2, "village_code"] = "330784199299"
    bad = write_layers(tmp_path / "bad.gpkg", {"grid_cells": grids})
    code, doc = run(capsys, "--db", str(db), "layers", "import", str(bad), "--json")
    assert code == 2 and doc["ok"] is False
    found = {(p["feature"], p["check"]) for p in doc["problems"]}
    assert ("330784199202001", "unknown_village") in found
    assert ("330784199202001", "wrong_village_code") in found
    # the store is untouched, and the rejected layer is kept, annotated, for fixing
    after = pyogrio.read_dataframe(db, layer="grid_cells")
    assert after.equals(before)
    kept = pyogrio.read_dataframe(doc["rejected_copy"], layer="grid_cells")
    assert len(kept) == 4 and "不存在" in kept.loc[2, "problem_zh"]


def test_problems_go_to_stderr_in_text_mode(tmp_path, db, capsys):
    grids = make_tiny_town()["grid_cells"]
    grids.loc[0, "code"] = "12"
    bad = write_layers(tmp_path / "grid_cells.gpkg", {"grid_cells": grids})
    assert main(["--db", str(db), "layers", "import", str(bad), "--alone"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "grid_cells[12]" in captured.err and "编码格式错误" in captured.err


def test_unknown_kind_is_a_clear_error(tmp_path, db, capsys):
    path = tmp_path / "something.geojson"
    pyogrio.write_dataframe(make_tiny_town()["villages"], path, driver="GeoJSON")
    assert main(["--db", str(db), "layers", "import", str(path)]) == 2
    assert "--kind" in capsys.readouterr().err
