"""``ember assign --csv IN --out OUT`` end to end on the demo GeoPackage."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from app.cli import main
from geo.crs import from_wgs84
from geo.trinity import COLUMNS, OUTSIDE_TOWN, TrinityIndex


@pytest.fixture(autouse=True)
def no_config(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)


@pytest.fixture(scope="module")
def inside_points(demo_town) -> np.ndarray:
    """Representative points of ten grid cells (lon, lat), surely inside the town."""
    pts = demo_town["grid_cells"].geometry.iloc[::19].representative_point()
    return np.column_stack([pts.x, pts.y])


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    doc = json.loads(captured.out) if captured.out.strip().startswith("{") else {}
    return code, doc, captured.out + captured.err


def test_assign_csv_keeps_every_row_and_adds_the_trinity(
    tmp_path, capsys, demo_gpkg, demo_town, inside_points
):
    rows = [
        {
            "id": f"E{i}",
            "phone": "05798000001",
            "备注": "工资纠纷",
            "lon": repr(float(x)),
            "lat": repr(float(y)),
        }
        for i, (x, y) in enumerate(inside_points)
    ]
    rows += [
        {"id": "OUT", "phone": "007", "备注": "镇外", "lon": "120.5", "lat": "29.5"},
        {"id": "SWAP", "phone": "", "备注": "颠倒", "lon": "29.0", "lat": "120.1"},
        {"id": "EMPTY", "phone": "", "备注": "", "lon": "", "lat": ""},
        {"id": "TEXT", "phone": "", "备注": "", "lon": "东经120度", "lat": "29"},
        {"id": "ZERO", "phone": "", "备注": "", "lon": "0", "lat": "0"},
    ]
    src = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "result" / "out.csv"
    code, doc, _ = run(
        capsys, "--db", str(demo_gpkg), "assign", "--csv", str(src), "--out", str(out), "--json"
    )
    assert code == 0, doc
    n = len(inside_points)
    assert doc["rows"] == n + 5 and doc["assigned"] == n
    assert doc["outside"] == 1 and doc["invalid"] == 4 and doc["incomplete"] == 0
    assert out.read_bytes()[:3] == b"\xef\xbb\xbf"  # BOM, so Excel reads the Chinese

    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got.columns) == [*rows[0], *COLUMNS]
    original = pd.DataFrame(rows)
    assert got[list(original.columns)].equals(original)  # nothing altered or lost
    index = TrinityIndex.from_layers(
        demo_town["grid_cells"], demo_town["police_beats"], demo_town["fire_stations"],
        demo_town["fire_station_coverage"], demo_town["town"],
    )  # fmt: skip
    want = index.assign(inside_points[:, 0], inside_points[:, 1])
    assert list(got["grid_code"][:n]) == list(want["grid_code"].astype(str))
    assert list(got["beat_officer_name"][:n]) == list(want["beat_officer_name"].astype(str))
    assert np.allclose(
        got["station_distance_m"][:n].astype(float), want["station_distance_m"], atol=0.051
    )
    reasons = dict(zip(got["id"], got["reason"], strict=True))
    assert reasons["OUT"] == OUTSIDE_TOWN
    assert reasons["SWAP"] == "经纬度颠倒 / latitude and longitude swapped"
    assert (
        reasons["EMPTY"]
        == reasons["TEXT"]
        == "坐标缺失或不是数字 / coordinate missing or not a number"
    )
    assert reasons["ZERO"] == "坐标为 (0, 0) / coordinates are (0, 0)"
    assert (got["grid_code"][n:] == "").all() and (got["reason"][:n] == "").all()


def test_gcj02_gbk_input_with_chinese_column_names(
    tmp_path, capsys, demo_gpkg, demo_town, inside_points
):
    glon, glat = from_wgs84(inside_points[:, 0], inside_points[:, 1], "gcj02")
    rows = [
        {"事件": f"第{i}号", "经度": repr(float(x)), "纬度": repr(float(y))}
        for i, (x, y) in enumerate(zip(glon, glat, strict=True))
    ]
    src = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    out = tmp_path / "out.csv"
    code, _, text = run(
        capsys, "--db", str(demo_gpkg), "assign", "--csv", str(src), "--out", str(out),
        "--coords", "gcj02",
    )  # fmt: skip
    assert code == 0, text
    assert "已写入 / written" in text and "已分配 assigned" in text
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(got["事件"]) == [r["事件"] for r in rows]
    cells = demo_town["grid_cells"]
    want = [cells[cells.covers(shapely.Point(x, y))]["code"].min() for x, y in inside_points]
    assert list(got["grid_code"]) == want
    # Read as WGS84 the same numbers land hundreds of metres away: some cells differ.
    wrong = tmp_path / "wrong.csv"
    assert (
        run(capsys, "--db", str(demo_gpkg), "assign", "--csv", str(src), "--out", str(wrong))[0]
        == 0
    )
    assert list(pd.read_csv(wrong, dtype=str, encoding="utf-8-sig")["grid_code"]) != want


def test_bad_requests_are_bilingual_errors(tmp_path, capsys, demo_gpkg):
    src = write_csv(tmp_path / "in.csv", [{"x1": "120.1", "y1": "29.0"}])
    db = ("--db", str(demo_gpkg))
    code, _, text = run(capsys, *db, "assign", "--csv", str(src), "--out", str(tmp_path / "o.csv"))
    assert code == 2 and "找不到经度列" in text and "no lon column" in text
    code, _, text = run(
        capsys, *db, "assign", "--csv", str(src), "--out", str(tmp_path / "o.csv"),
        "--lon", "x1", "--lat", "nope",
    )  # fmt: skip
    assert code == 2 and "没有列 'nope'" in text and "no column 'nope'" in text
    code, _, text = run(capsys, *db, "assign", "--csv", str(src))
    assert code == 2 and "--out" in text and "请用" in text
    clash = write_csv(tmp_path / "clash.csv", [{"lon": "120.1", "lat": "29.0", "grid_code": "1"}])
    code, _, text = run(
        capsys, *db, "assign", "--csv", str(clash), "--out", str(tmp_path / "o.csv")
    )
    assert code == 2 and "已含列" in text and "already has columns grid_code" in text
    assert not (tmp_path / "o.csv").exists()
    code, _, text = run(capsys, *db, "assign", "--csv", str(tmp_path / "none.csv"), "--out", "x")
    assert code == 2 and "找不到文件" in text and "no such file" in text
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, text = run(
        capsys, *db, "assign", "--csv", str(empty), "--out", str(tmp_path / "o.csv")
    )
    assert code == 2 and "CSV 文件为空" in text


def test_assign_all_records_changed_areas_as_events(tmp_path, capsys, demo_gpkg):
    import shutil

    from store import open_store
    from store.base import IncidentQuery, Scope

    db = tmp_path / "ember.gpkg"
    shutil.copy(demo_gpkg, db)
    code, doc, _ = run(capsys, "--db", str(db), "assign", "--all", "--json")
    assert code == 0 and doc["checked"] == 2000 and doc["changed"] == 0  # layers unchanged

    # Redraw: one grid cell gets a new code (the 110 data stays where it was).
    store = open_store(str(db))
    scope = Scope.everything(actor="test")
    before = store.query_incidents(IncidentQuery(), scope)
    target = before["grid_code"].value_counts().index[0]
    expected = int((before["grid_code"] == target).sum())
    grids = store.read_layer("grid_cells")
    new_code = target[:-3] + "999"
    grids.loc[grids["code"] == target, "code"] = new_code
    store.write_layers({"grid_cells": grids})

    code, doc, _ = run(capsys, "--db", str(db), "assign", "--all", "--dry-run", "--json")
    assert code == 0 and doc["changed"] == expected and doc["dry_run"] is True
    assert (store.query_incidents(IncidentQuery(), scope)["grid_code"] == target).sum() == expected

    code, doc, _ = run(capsys, "--db", str(db), "assign", "--all", "--json")
    assert code == 0 and doc["changed"] == expected and doc["conflicts"] == []
    after = store.query_incidents(IncidentQuery(grid_codes=(new_code,)), scope)
    assert len(after) == expected
    moved = after["id"].iloc[0]
    record = store.get_incident(moved, scope)
    last = record.events[-1]
    assert last.action == "amend" and last.data["grid_code"] == new_code
    assert last.data["previous"]["grid_code"] == target  # the old assignment stays in history
    assert record.status.version == int(before.set_index("id").at[moved, "version"]) + 1

    code, doc, _ = run(capsys, "--db", str(db), "assign", "--all", "--json")
    assert doc["changed"] == 0  # idempotent


def test_store_without_layers_is_a_clear_error(tmp_path, capsys):
    src = write_csv(tmp_path / "in.csv", [{"lon": "120.1", "lat": "29.0"}])
    empty_db = tmp_path / "nothing.gpkg"
    code, _, text = run(
        capsys, "--db", str(empty_db), "assign", "--csv", str(src), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "ember:" in text
