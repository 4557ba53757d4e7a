"""``ember geocode`` through the CLI entry point, on the demo GeoPackage."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pyogrio
import pytest

from app.cli import main
from layers.io import write_layers
from tests.tiny_town import make_tiny_town


@pytest.fixture(autouse=True)
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)


@pytest.fixture(scope="module")
def gazetteer(demo_gpkg: Path) -> dict[str, str]:
    """A few canonical addresses of the demo gazetteer, by level."""
    gaz = pyogrio.read_dataframe(demo_gpkg, layer="gazetteer", read_geometry=False)
    house = gaz[(gaz["level"] == "house") & gaz["group_no"].notna()].iloc[10]
    return {
        "house": str(house["address"]),
        "house_village": str(house["village"]),
        "house_group": str(int(house["group_no"])),
        "house_no": str(house["house_no"]),
        "poi": str(gaz[gaz["level"] == "poi"].iloc[30]["poi"]),
        "poi_address": str(gaz[gaz["level"] == "poi"].iloc[30]["address"]),
        "road": str(gaz[gaz["level"] == "road"].iloc[0]["road"]),
    }


def test_human_output_shows_parse_match_and_candidates(demo_gpkg, gazetteer, capsys):
    text = f"{gazetteer['house_village']}{gazetteer['house_group']}组{gazetteer['house_no']}号附近"
    code = main(["--db", str(demo_gpkg), "geocode", text])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"地址 address: {text}")
    assert "解析 parse:" in out and f"村/社区 village={gazetteer['house_village']}" in out
    assert "位置提示 hint: 附近" in out
    assert f"匹配 match: {gazetteer['house']} [门牌 house]" in out
    assert "网格 grid 3307" in out
    assert "候选 candidates:" in out and "需人工定位" not in out


def test_review_and_no_match_are_said_plainly(demo_gpkg, gazetteer, capsys):
    code = main(["--db", str(demo_gpkg), "geocode", gazetteer["road"], "不知道在哪"])
    out = capsys.readouterr().out
    assert code == 0
    first, second = out.split("地址 address: ")[1:]
    assert "[道路 road]" in first and "需人工定位 needs review" in first
    assert "匹配 match: 无 none" in second and "no gazetteer match" in second


def test_json_lines_from_stdin_keep_order(demo_gpkg, gazetteer, capsys, monkeypatch):
    lines = [
        gazetteer["house"],
        "",
        gazetteer["poi"] + "门口",
        "乱七八糟",
        gazetteer["house"].removeprefix("演示镇").replace("号", "號"),
        gazetteer["house"],
        "演示镇",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(["--db", str(demo_gpkg), "geocode", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    docs = [json.loads(line) for line in captured.out.splitlines()]  # nothing but JSON lines
    assert [d["address"] for d in docs] == lines
    for d in docs:
        assert {"address", "lon", "lat", "level", "confidence", "grid_code"} <= set(d)
    levels = [d["level"] for d in docs]
    assert levels == ["house", None, "poi", None, "house", "house", "town"]
    assert docs[0] == docs[5]
    assert docs[2]["matched"] == gazetteer["poi_address"] and docs[2]["hint"] == "门口"
    assert docs[4]["lon"] == docs[0]["lon"] and docs[4]["grid_code"] == docs[0]["grid_code"]
    assert docs[1]["needs_review"] and docs[1]["lon"] is None
    assert docs[6]["needs_review"] and docs[6]["lon"] is None  # never the town centre
    assert docs[0]["grid_code"].startswith("3307") and not docs[0]["needs_review"]
    assert "7 address(es)" in captured.err


def test_json_with_arguments(demo_gpkg, gazetteer, capsys):
    code = main(["--db", str(demo_gpkg), "geocode", "--json", gazetteer["house"], "附近"])
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(docs) == 2
    assert docs[0]["level"] == "house" and docs[0]["candidates"][0]["address"] == gazetteer["house"]
    assert docs[1]["level"] is None


def test_store_without_gazetteer_is_a_clear_error(tmp_path, capsys):
    db = write_layers(tmp_path / "town.gpkg", make_tiny_town())
    code = main(["--db", str(db), "geocode", "东岭村3组12号"])
    err = capsys.readouterr().err
    assert code == 2
    assert "没有标准地址图层" in err and "no gazetteer layer" in err


def test_missing_store_is_a_clear_error(tmp_path, capsys):
    code = main(["--db", str(tmp_path / "nothing.gpkg"), "geocode", "--json", "东岭村"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "nothing.gpkg" in captured.err
