"""A mistyped ``EMBER_DB`` is refused, not turned into a new, empty store: the commands that use
a store refuse a GeoPackage path that does not exist ("找不到存储文件 / no such store"), and create
neither the file nor its directory. ``ember demo`` and ``ember layers import`` make one, and so
do ``users add`` and ``apikey create`` (the first account of a new install), saying so."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from app.cli import main
from tests.app._terminal import Terminal


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)
    monkeypatch.delenv("EMBER_DB", raising=False)


COMMANDS = [
    ["users", "list"],
    ["users", "disable", "chen"],
    ["users", "enable", "chen"],
    ["users", "passwd", "chen", "--password-stdin"],
    ["apikey", "list"],
    ["apikey", "disable", "hub"],
    ["export", "incidents", "--out", "{tmp}/out/i.gpkg"],
    ["export", "incidents", "--geoparquet", "{tmp}/out/parquet"],
    ["export", "layers", "--out", "{tmp}/out/l.gpkg"],
    ["report", "weekly", "--out", "{tmp}/out/week.xlsx"],
    ["quarantine", "list"],
    ["quarantine", "show", "1"],
    ["quarantine", "retry", "--all"],
    ["quarantine", "discard", "1"],
    ["ingest", "{tmp}/jq_110.csv", "--format", "110"],
    ["watch", "{tmp}", "--format", "110", "--once"],
    ["hotspots", "--method", "gi"],
    ["geocode", "白川村七组47号"],
    ["assign", "--all"],
]


@pytest.mark.parametrize(
    "argv", COMMANDS, ids=[" ".join(a[:2]).replace("{tmp}/", "") for a in COMMANDS]
)
def test_a_store_that_does_not_exist_is_refused(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-password-42\n" * 2))
    (tmp_path / "jq_110.csv").write_text("接警编号,报警时间\n", encoding="utf-8")
    typo = tmp_path / "vra" / "ember.gpkg"
    code = main(["--db", str(typo), *(a.format(tmp=tmp_path) for a in argv)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "找不到存储文件" in err and f"no such store: {typo}" in err and "ember demo" in err
    assert not typo.parent.exists()
    assert not (tmp_path / "out").exists()


def test_serve_refuses_it_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "vra" / "ember.gpkg"
    assert main(["--db", str(typo), "serve", "--port", "0"]) == 2
    assert "ember demo" in capsys.readouterr().err
    assert not typo.parent.exists()


def test_layers_export_from_a_store_without_layers_does_not_claim_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "vra" / "ember.gpkg"
    out = tmp_path / "out" / "layers.gpkg"
    assert main(["--db", str(typo), "layers", "export", "--out", str(out)]) == 2
    assert "no layers to export" in capsys.readouterr().err
    assert not typo.parent.exists() and not out.exists()


def test_ember_db_from_the_environment_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "typo.gpkg"
    monkeypatch.setenv("EMBER_DB", str(typo))
    assert main(["users", "list"]) == 2
    assert "no such store" in capsys.readouterr().err
    assert not typo.exists()


def test_demo_still_makes_a_new_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new" / "ember.gpkg"
    assert main(["--db", str(new), "demo", "--incidents", "50"]) == 0
    assert new.is_file()
    capsys.readouterr()
    assert main(["--db", str(new), "users", "list", "--json"]) == 0
    assert '"wall"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["users", "add", "chen", "--role", "admin"], ["users", "add", "wang", "--role", "admin"]),
        (["apikey", "create", "--name", "a", "--role", "analyst"], ["apikey", "list"]),
    ],
    ids=["users add", "apikey create"],
)
def test_adding_the_first_account_makes_a_store_and_says_so(
    first: list[str],
    second: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = iter(["a-long-enough-password-42"] * 4)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(passwords))
    monkeypatch.setattr("sys.stdin", Terminal())  # asked on a terminal (never echoed)
    new = tmp_path / "var" / "ember.gpkg"
    assert main(["--db", str(new), *first]) == 0
    assert f"新建存储 / creating a new store: {new}" in capsys.readouterr().err
    assert new.is_file()
    assert main(["--db", str(new), *second]) == 0
    assert "新建存储" not in capsys.readouterr().err
