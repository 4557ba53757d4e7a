"""``ember apikey create|list|disable|enable`` (issue #9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.api._auth import hash_key
from app.cli import main
from store import open_store


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_list_disable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "e.gpkg")
    code, out, _ = _run(
        capsys,
        "--db",
        db,
        "apikey",
        "create",
        "--name",
        "city12345",
        "--role",
        "dispatcher",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    key = doc["key"]
    assert key.startswith("ek_") and len(key) >= 40 and doc["role"] == "dispatcher"
    store = open_store(db)
    assert store.apikey_by_hash(hash_key(key)).name == "city12345"  # stored hashed
    code, out, _ = _run(
        capsys,
        "--db",
        db,
        "apikey",
        "create",
        "--name",
        "g",
        "--role",
        "grid",
        "--area",
        "330784199001001",
    )
    assert code == 0 and "330784199001001" in out and "ek_" in out
    code, out, _ = _run(capsys, "--db", db, "apikey", "list", "--json")
    listed = json.loads(out)["keys"]
    assert [k["name"] for k in listed] == ["city12345", "g"]
    assert "ek_" not in out and hash_key(key) not in out  # never the key nor its hash
    code, out, _ = _run(capsys, "--db", db, "apikey", "disable", "g", "--json")
    assert code == 0 and json.loads(out)["disabled"] is True
    code, out, _ = _run(capsys, "--db", db, "apikey", "enable", "g", "--json")
    assert json.loads(out)["disabled"] is False
    assert [e.action for e in store.audit_log()][-4:] == [
        "apikey_add",
        "apikey_add",
        "apikey_disable",
        "apikey_enable",
    ]


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "e.gpkg")
    code, _, err = _run(capsys, "--db", db, "apikey", "create", "--name", "g", "--role", "grid")
    assert code == 2 and "--area" in err
    _run(capsys, "--db", db, "apikey", "create", "--name", "a", "--role", "analyst")
    code, _, err = _run(capsys, "--db", db, "apikey", "create", "--name", "a", "--role", "analyst")
    assert code == 2 and "exists" in err
    code, _, err = _run(capsys, "--db", db, "apikey", "disable", "nobody")
    assert code == 2 and "no API key" in err
