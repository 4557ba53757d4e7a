"""Errors of the command line in Chinese and English, exit code 2, no traceback: bad arguments
(argparse's own messages are English), a demo of no incidents, a port that is taken, a bad API
key name."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBER_CONFIG", os.devnull)


@pytest.mark.parametrize(
    ("argv", "zh", "en"),
    [
        (["apikey", "create", "--name", "hub", "--role", "nope"], "取值无效", "invalid choice"),
        (["apikey", "create", "--role", "analyst"], "缺少必需的参数", "are required: --name"),
        (["users", "list", "--colour"], "无法识别的参数", "unrecognized arguments"),
        (["serve", "--port", "eighty"], "应为整数", "invalid int value"),
        (["nonsense"], "取值无效", "invalid choice"),
        ([], "缺少必需的参数", "are required"),
        (["export"], "缺少必需的参数", "are required"),
        (["demo", "--incidents", "-5"], "至少为 1", "at least 1"),
        (["demo", "--incidents", "0"], "至少为 1", "at least 1"),
        (["demo", "--seed", "-1"], "不能为负", "not negative"),
        (["serve", "--port", "70000"], "0 到 65535", "from 0 to 65535"),
        (["serve", "--workers", "65"], "0 到 64", "from 0 to 64"),
        (["serve", "--threads", "0"], "1 到 64", "from 1 to 64"),
        (["ingest", "x.csv", "--format", "110", "--batch-size", "0"], "至少为 1", "at least 1"),
        (["watch", "in", "--format", "110", "--interval", "0"], "应大于 0", "greater than 0"),
        (["watch", "in", "--format", "110", "--settle", "-2"], "不能为负", "must not be negative"),
        (["watch", "in", "--format", "110", "--settle", "nan"], "有限", "finite"),
        (["quarantine", "list", "--limit", "-1"], "至少为 1", "at least 1"),
        (["hotspots", "--method", "kde", "--bandwidth", "-5"], "应大于 0", "greater than 0"),
        (["hotspots", "--method", "clusters", "--min-cluster-size", "1"], "至少为 2", "at least 2"),
        (["hotspots", "--method", "kde", "--bandwidth", "wide"], "应为数字", "invalid float value"),
    ],
)
def test_bad_arguments_are_said_in_both_languages(
    argv: list[str], zh: str, en: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "参数错误" in err and "bad arguments" in err, err
    assert zh in err and en in err, err
    assert "Traceback" not in err


def test_help_still_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--help"])
    assert exited.value.code == 0
    assert "--incidents" in capsys.readouterr().out


@pytest.mark.parametrize("production", [False, True], ids=["serve", "serve --production"])
def test_a_port_in_use_is_refused_before_the_app_is_built(
    production: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[object] = []
    monkeypatch.setattr("app.server.serve", started.append)
    monkeypatch.setattr("app.wsgi.serve_production", started.append)
    db = tmp_path / "ember.gpkg"
    db.touch()
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["--db", str(db), "serve", "--host", "127.0.0.1", "--port", str(port)]
        assert main(argv + (["--production"] if production else [])) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert f"端口 {port} 已被占用" in err and f"port {port} on 127.0.0.1 is already in use" in err
    assert "--port" in err and not started
    # a free port is served as before
    assert main(argv + (["--production"] if production else [])) == 0
    assert len(started) == 1


def test_an_api_key_name_is_not_called_a_username(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "e.gpkg")
    argv = ["--db", db, "apikey", "create", "--name", "my hub", "--role", "analyst"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "密钥名称无效" in err and "invalid API key name 'my hub'" in err
    assert "username" not in err and "用户名" not in err


def test_a_database_lost_mid_command_is_said_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg_pool's PoolTimeout (PostgreSQL gone after the store opened) came out as a
    traceback: only errors of the module ``psycopg`` itself were said in one line."""
    import psycopg_pool

    from app import cli

    def gone(**_: object) -> object:
        raise psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec")

    monkeypatch.setattr(cli, "load_settings", gone)
    assert main(["users", "list"]) == 2
    err = capsys.readouterr().err
    assert "数据库或 GIS 文件错误" in err and "couldn't get a connection" in err
    assert "Traceback" not in err
