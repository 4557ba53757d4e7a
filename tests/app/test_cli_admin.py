"""``ember backup | restore | migrate`` on a GeoPackage store (both backends' engines are tested
in tests/store/test_backup.py and test_upgrade.py)."""

from __future__ import annotations

import io
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


def test_os_errors_are_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory, a path under a file or a file that is no database: exit 2 and one bilingual
    line (a traceback before)."""
    db = tmp_path / "ember.gpkg"
    assert main(["--db", str(db), "demo", "--incidents", "20", "--out", str(db)]) == 0
    capsys.readouterr()
    (tmp_path / "adir").mkdir()
    assert main(["--db", str(db), "backup", str(tmp_path / "adir")]) == 2
    (tmp_path / "text.gpkg").write_text("not a database", encoding="utf-8")
    assert main(["--db", str(tmp_path / "text.gpkg"), "users", "list"]) == 2
    out = str(tmp_path / "text.gpkg" / "a.geojson")  # under a file (root ignores modes)
    assert main(["--db", str(db), "export", "incidents", "--format", "geojson", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("ember: ") == 3, err


def test_a_password_is_never_read_where_it_would_echo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal
    db = tmp_path / "ember.gpkg"
    assert main(["--db", str(db), "users", "add", "li", "--role", "analyst"]) == 2
    assert "--password-stdin" in capsys.readouterr().err
