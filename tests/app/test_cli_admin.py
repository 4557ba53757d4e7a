"""``ember backup | restore | migrate`` on a GeoPackage store (both backends' engines are tested
in tests/store/test_backup.py and test_upgrade.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.cli import main
from store.migrations import load

V1 = Path(__file__).resolve().parent.parent / "data" / "store_v1.gpkg"


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)  # type: ignore[no-any-return]


def test_migrate_then_backup_and_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ember.gpkg"
    shutil.copy(V1, db)
    latest = len(load("gpkg"))
    assert main(["--db", str(db), "migrate", "--dry-run", "--json"]) == 0
    doc = _json(capsys)
    assert (doc["before"], doc["after"], doc["dry_run"]) == (1, 1, True)
    assert main(["--db", str(db), "migrate", "--json"]) == 0
    doc = _json(capsys)
    assert (doc["before"], doc["after"]) == (1, latest) and len(doc["steps"]) == latest - 1
    assert main(["--db", str(db), "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out

    backup = tmp_path / "backups" / "ember-2026-11-28.gpkg"
    assert main(["--db", str(db), "backup", str(backup), "--json"]) == 0
    doc = _json(capsys)
    assert doc["incidents"] == 40 and doc["schema_version"] == latest and backup.is_file()

    other = tmp_path / "other.gpkg"
    # no --yes and no terminal: refused, nothing written
    assert main(["--db", str(other), "restore", str(backup)]) == 2
    assert "--yes" in capsys.readouterr().err and not other.exists()
    assert main(["--db", str(other), "restore", str(backup), "--yes", "--json"]) == 0
    assert _json(capsys)["incidents"] == 40


def test_backup_of_a_missing_store_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(tmp_path / "nope.gpkg"), "backup", str(tmp_path / "b.gpkg")]) == 2
    assert "no such store" in capsys.readouterr().err
