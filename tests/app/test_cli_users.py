"""``ember users add|list|disable|enable|passwd`` through the CLI entry point (issue #7)."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.auth.passwords import verify_password
from app.cli import main
from store import open_store
from tests.app._terminal import Terminal

SECRET = "s3cret-pass-phrase"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)
    return tmp_path / "var" / "ember.gpkg"


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
    tty: bool = False,
) -> tuple[int, Any, str]:
    monkeypatch.setattr("sys.stdin", (Terminal if tty else io.StringIO)(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    assert SECRET not in captured.out and SECRET not in captured.err  # never echoed
    out = captured.out
    doc = json.loads(out) if out.strip().startswith("{") else out
    return code, doc, captured.err


def test_add_list_disable(db: Path, capsys: Any, monkeypatch: Any) -> None:
    code, doc, _ = run(
        capsys, monkeypatch, "--db", str(db), "users", "add", "wang", "--role", "grid",
        "--area", "330784199001001", "--area", "330784199001002", "--password-stdin", "--json",
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0
    assert doc["username"] == "wang" and doc["role"] == "grid" and doc["role_zh"] == "网格员"
    assert doc["areas"] == ["330784199001001", "330784199001002"] and doc["disabled"] is False
    store = open_store(str(db))
    _, stored = store.user_credentials("wang")
    assert stored.startswith("$argon2id$") and verify_password(stored, SECRET)

    code, doc, _ = run(
        capsys, monkeypatch, "--db", str(db), "users", "add", "boss", "--role", "admin",
        "--password-stdin", stdin=SECRET,
    )  # fmt: skip
    assert code == 0 and "boss" in doc and "admin" in doc

    code, doc, _ = run(capsys, monkeypatch, "--db", str(db), "users", "list", "--json")
    assert [u["username"] for u in doc["users"]] == ["boss", "wang"]
    assert "argon2" not in json.dumps(doc) and "hash" not in json.dumps(doc)
    code, text, _ = run(capsys, monkeypatch, "--db", str(db), "users", "list")
    assert "网格员" in text and "330784199001001" in text and "argon2" not in text

    code, doc, _ = run(capsys, monkeypatch, "--db", str(db), "users", "disable", "wang", "--json")
    assert code == 0 and doc["disabled"] is True
    assert store.user_get("wang").disabled
    code, doc, _ = run(capsys, monkeypatch, "--db", str(db), "users", "enable", "wang", "--json")
    assert doc["disabled"] is False
    actions = [e.action for e in store.audit_log()]
    assert actions == ["user_add", "user_add", "user_disable", "user_enable"]
    assert all(e.actor.startswith("cli") for e in store.audit_log())


def test_prompted_twice(db: Path, capsys: Any, monkeypatch: Any) -> None:
    answers = iter([SECRET, SECRET])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, _ = run(
        capsys, monkeypatch, "--db", str(db), "users", "add", "li", "--role", "analyst", tty=True
    )
    assert code == 0 and verify_password(open_store(str(db)).user_credentials("li")[1], SECRET)

    answers = iter([SECRET, SECRET + "x"])
    code, _, err = run(
        capsys, monkeypatch, "--db", str(db), "users", "add", "zh", "--role", "wall", tty=True
    )
    assert code == 2 and "不一致" in err and "do not match" in err


def test_passwd(db: Path, capsys: Any, monkeypatch: Any) -> None:
    base = ("--db", str(db), "users")
    run(capsys, monkeypatch, *base, "add", "li", "--role", "callback", "--password-stdin",
        stdin=SECRET)  # fmt: skip
    code, _, _ = run(capsys, monkeypatch, *base, "passwd", "li", "--password-stdin",
                     stdin="another-one-9\n")  # fmt: skip
    assert code == 0
    assert verify_password(open_store(str(db)).user_credentials("li")[1], "another-one-9")
    code, _, err = run(capsys, monkeypatch, *base, "passwd", "nobody", "--password-stdin",
                       stdin="another-one-9\n")  # fmt: skip
    assert code == 2 and "no user" in err


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["add", "g", "--role", "grid"], SECRET, "needs at least one --area"),
        (["add", "a", "--role", "analyst", "--area", "X1"], SECRET, "takes no --area"),
        (["add", "bad name", "--role", "analyst"], SECRET, "invalid username"),
        (["add", "a", "--role", "analyst"], "short", "at least 8 characters"),
        (["disable", "ghost"], "", "no user"),
    ],
)
def test_refused(
    db: Path, capsys: Any, monkeypatch: Any, argv: list[str], stdin: str, message: str
) -> None:
    open_store(str(db)).user_list()  # a store, without that user
    code, _, err = run(
        capsys, monkeypatch, "--db", str(db), "users", *argv[:1], *argv[1:], "--password-stdin"
        if argv[0] == "add" else "--json", stdin=stdin,
    )  # fmt: skip
    assert code == 2 and message in err


def test_duplicate_and_unknown_role(db: Path, capsys: Any, monkeypatch: Any) -> None:
    args = ("--db", str(db), "users", "add", "li", "--role", "analyst", "--password-stdin")
    assert run(capsys, monkeypatch, *args, stdin=SECRET)[0] == 0
    code, _, err = run(capsys, monkeypatch, *args, stdin=SECRET)
    assert code == 2 and "exists already" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", str(db), "users", "add", "x", "--role", "chief"])
    assert exit_info.value.code == 2


def test_unknown_area_codes_are_flagged(
    db: Path, capsys: Any, monkeypatch: Any, town_gpkg: Path
) -> None:
    town = str(shutil.copy(town_gpkg, db.parent.parent / "town.gpkg"))  # the tiny town's cells
    args = ("--db", town, "users", "add")
    code, _, err = run(capsys, monkeypatch, *args, "g1", "--role", "grid", "--area",
                       "330784199001001", "--password-stdin", stdin=SECRET)  # fmt: skip
    assert code == 0 and "warning" not in err
    code, _, err = run(capsys, monkeypatch, *args, "g2", "--role", "grid", "--area", "X9",
                       "--password-stdin", stdin=SECRET)  # fmt: skip
    assert code == 0 and "not in layer grid_cells: X9" in err
