"""``ember report daily|weekly|monthly``: on screen, --json, --out FILE.xlsx."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from app.cli import main


@pytest.fixture(scope="module")
def db(demo_gpkg: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "ember.gpkg"
    shutil.copy(demo_gpkg, path)
    return str(path)


def test_json_and_xlsx(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w.xlsx"
    args = ["--db", db, "report", "weekly", "--date", "2026-10-07", "--as-of", "2026-11-28"]
    assert main([*args, "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["heading"]["zh"] == "周周闭环" and doc["period"]["label"] == "2026-10-05 – 2026-10-11"
    )
    assert set(doc["levels"]) == {"town", "village", "grid", "team"}
    assert doc["levels"]["town"][0]["arrival_10min"]["denominator"] > 0
    assert doc["out"] == str(out) and "概览" in openpyxl.load_workbook(out).sheetnames


def test_screen_and_bad_input(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--db", db, "report", "monthly", "--date", "2026-10-01", "--as-of", "2026-11-28"])
        == 0
    )
    text = capsys.readouterr().out
    assert "月月改进" in text and "十分钟到场率" in text and "同比" in text
    assert main(["--db", db, "report", "daily", "--date", "yesterday"]) == 2
    assert main(["--db", db, "report", "daily", "--out", "x.csv"]) == 2


def test_a_failed_write_leaves_the_earlier_report_whole(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out was written in place: a full disk (or a kill) mid-write left a broken workbook
    where last week's report had been. Written aside and moved into place once whole."""
    from app import report_output

    out = tmp_path / "w.xlsx"
    args = ["--db", db, "report", "weekly", "--date", "2026-10-07", "--as-of", "2026-11-28"]
    assert main([*args, "--out", str(out)]) == 0
    before = out.read_bytes()

    def full_disk(report: object, path: Path) -> None:
        Path(path).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_output, "to_xlsx", full_disk)
    assert main([*args, "--out", str(out)]) == 2
    assert "No space left" in capsys.readouterr().err
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["w.xlsx"]
