"""``ember ingest`` / ``ember watch`` / ``ember quarantine`` through the CLI entry point, and the
file reader on its own."""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from ingest.pipeline import IngestContext, ingest_file
from ingest.read import detect_encoding, read_table
from ingest.retry import retry_entries
from ingest.watch import LOCK, watch
from store import IncidentStore, Scope, open_store
from tests.ingest.conftest import DATA, balanced, stored_id


@pytest.fixture
def town_db(tmp_path: Path, town: dict[str, Any]) -> str:
    """A GeoPackage store holding the demo town's layers (no incidents)."""
    path = str(tmp_path / "town.gpkg")
    layers = {k: v for k, v in town.items() if k not in ("incidents",)}
    open_store(path).write_layers(layers)
    return path


def _csv_rows() -> list[dict[str, str]]:
    import csv
    import io

    text = (DATA / "110_bad_rows.csv").read_bytes().decode("utf-8", errors="replace")
    return list(csv.DictReader(io.StringIO(text)))


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = capsys.readouterr().out
    return json.loads(out)  # exactly one JSON document on stdout


def test_ingest_json_summary(town_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--db", town_db, "ingest", str(DATA / "110_bad_rows.csv"), "--format", "110",
               "--json"])  # fmt: skip
    assert rc == 0
    doc = _json(capsys)
    assert {"read", "stored", "updated", "duplicates", "quarantined"} <= set(doc)
    assert doc["read"] == doc["stored"] + doc["updated"] + doc["duplicates"] + doc["quarantined"]
    assert (doc["read"], doc["stored"], doc["quarantined"]) == (14, 6, 8)
    assert doc["invariant_ok"] is True


def test_ingest_table_dry_run_and_progress(
    town_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["--db", town_db, "ingest", str(DATA / "110_gbk.csv"), "--format", "110",
               "--dry-run"])  # fmt: skip
    assert rc == 0
    out, err = capsys.readouterr()
    assert "read 20 = stored 20 + updated 0 + duplicates 0 + quarantined 0" in out
    assert "试运行 DRY RUN" in out and "100%" in err
    assert open_store(town_db).quarantine_list() == []


def test_quarantine_list_show_retry(town_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--db", town_db, "ingest", str(DATA / "110_bad_rows.csv"), "--format", "110"])
    capsys.readouterr()
    assert main(["--db", town_db, "quarantine", "list", "--json"]) == 0
    entries = _json(capsys)["entries"]
    assert len(entries) == 8
    missing = next(e for e in entries if e["code"] == "missing_id")
    assert main(["--db", town_db, "quarantine", "show", str(missing["id"])]) == 0
    shown = capsys.readouterr().out
    assert "110_bad_rows.csv:4 [警情编号]" in shown and "缺少警情编号" in shown
    assert "****" in shown  # the raw row is shown masked: phone and name
    raw = next(r for r in _csv_rows() if r["警情编号"] == "")
    assert raw["联系电话"] not in shown and raw["报警人"] not in shown
    assert f"报警人: {raw['报警人'][0]}某" in shown
    # retry without a fix: still quarantined, entry stays open
    assert main(["--db", town_db, "quarantine", "retry", str(missing["id"])]) == 1
    assert "缺少警情编号" in capsys.readouterr().out
    # fixed: stored and the entry resolved
    rc = main(["--db", town_db, "quarantine", "retry", str(missing["id"]), "--set",
               "警情编号=J330784FIXED0001", "--json"])  # fmt: skip
    assert rc == 0
    (result,) = _json(capsys)["results"]
    assert result["ok"] and result["outcome"] == "stored"
    store = open_store(town_db)
    rec = store.get_incident(stored_id(store, "J330784FIXED0001"), Scope.everything())
    assert rec.incident.source_id == "J330784FIXED0001"
    assert store.quarantine_get(missing["id"]).status == "resolved"
    assert len(store.quarantine_list()) == 7
    # discard one
    other = store.quarantine_list()[0]
    assert main(["--db", town_db, "quarantine", "discard", str(other.id), "--note", "无效"]) == 0
    assert store.quarantine_get(other.id).status == "discarded"


def test_retry_fixes_a_time_and_a_json_line(store: IncidentStore, ctx: IngestContext) -> None:
    balanced(ingest_file(DATA / "110_bad_rows.csv", "110", store, ctx))
    balanced(ingest_file(DATA / "patrol.jsonl", "patrol", store, ctx))
    bad_time = next(e for e in store.quarantine_list() if e.code == "bad_time")
    (r,) = retry_entries(store, [bad_time.id], fixes={"报警时间": "2026-05-01 09:12"}, context=ctx)
    assert r.ok and r.outcome == "stored"
    bad_json = next(e for e in store.quarantine_list() if e.code == "bad_json")
    line = json.dumps(
        {"id": "P-fixed", "time": "2026-05-02T08:00:00+08:00", "description": "楼道堆放杂物",
         "point": [120.14715, 29.00933], "category": "其他"}, ensure_ascii=False,
    )  # fmt: skip
    (r,) = retry_entries(store, [bad_json.id], fixes={"_raw": line}, context=ctx)
    assert r.ok, r.reason
    shape = next(e for e in store.quarantine_list() if e.code == "bad_shape")
    (r,) = retry_entries(store, [shape.id], context=ctx)
    assert not r.ok and "--set" in (r.reason or "")


def test_watch_once(tmp_path: Path, town_db: str, ctx: IngestContext) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    shutil.copy(DATA / "110_swapped.csv", inbox / "b.csv")
    (inbox / "c.csv").write_text("完全,不对,的表头\n1,2,3\n", encoding="utf-8")
    (inbox / "d.csv.part").write_text("still copying", encoding="utf-8")
    store = open_store(town_db)
    results = watch(inbox, "110", store, ctx, once=True, settle=0)
    by_name = {r.file: r for r in results}
    assert set(by_name) == {"a.csv", "b.csv", "c.csv"}
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.csv", "b.csv"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["c.csv", "c.csv.error.txt"]
    assert "缺少必需列" in (inbox / "failed" / "c.csv.error.txt").read_text(encoding="utf-8")
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [LOCK, "d.csv.part"]
    a = by_name["a.csv"].summary
    assert a is not None and balanced(a).stored == 20
    # the same export dropped again: all duplicates, and the second copy is kept beside the first
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    (again,) = watch(inbox, "110", store, ctx, once=True, settle=0)
    assert again.summary is not None and again.summary.duplicates == 20
    assert len(list((inbox / "done").glob("a*.csv"))) == 2


def test_watch_cli_once(tmp_path: Path, town_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "drop"
    inbox.mkdir()
    shutil.copy(DATA / "patrol.jsonl", inbox / "p.jsonl")
    rc = main(["--db", town_db, "watch", str(inbox), "--format", "patrol", "--once",
               "--settle", "0", "--json"])  # fmt: skip
    assert rc == 0
    (f,) = _json(capsys)["files"]
    assert f["summary"]["stored"] == 5 and f["summary"]["quarantined"] == 1


def test_detect_encoding() -> None:
    text = "警情编号,报警地址\nJ1,演示镇湖西路1号\n"
    assert detect_encoding(text.encode("utf-8")) == ("utf-8", True)
    assert detect_encoding(codecs.BOM_UTF8 + text.encode("utf-8")) == ("utf-8-sig", True)
    assert detect_encoding(text.encode("gbk")) == ("gb18030", True)
    assert detect_encoding(text.encode("gb18030")) == ("gb18030", True)
    # mostly UTF-8 with one GBK row: UTF-8, with that row flagged (not all rows as mojibake)
    mixed = text.encode("utf-8") + "J2,演示镇九龙路2号\n".encode("gbk") + "J3,演示镇3号\n".encode()
    assert detect_encoding(mixed) == ("utf-8", False)


def test_read_table_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text('a,b\n1,"two\nlines"\n\n3,4\n', encoding="utf-8")
    t = read_table(p)
    assert [r.line for r in t.rows] == [2, 5] and t.rows[0].values == ["1", "two\nlines"]


def test_records_from_an_http_push(store: IncidentStore, ctx: IngestContext) -> None:
    from ingest.pipeline import ingest_records

    recs = [
        {"id": "P-api-1", "time": "2026-05-02 08:00", "description": "楼道堆放杂物",
         "point": {"lon": 120.14715, "lat": 29.00933}, "category": "其他"},
        {"id": "", "time": "2026-05-02 08:00", "description": "无编号"},
    ]  # fmt: skip
    s = balanced(ingest_records(recs, "patrol", store, ctx, label="open311"))
    assert (s.stored, s.quarantined) == (1, 1)
    (e,) = store.quarantine_list()
    assert (e.file, e.line, e.code) == ("open311", 2, "missing_id")


def test_watch_polls_until_stopped(tmp_path: Path, town_db: str, ctx: IngestContext) -> None:
    inbox = tmp_path / "poll"
    inbox.mkdir()
    polls = {"n": 0}

    def stop() -> bool:
        polls["n"] += 1
        if polls["n"] == 1:  # a file arrives between two polls
            shutil.copy(DATA / "110_swapped.csv", inbox / "late.csv")
        return polls["n"] >= 3

    taken: list[Any] = []
    watch(inbox, "110", open_store(town_db), ctx, interval=0.01, settle=0, stop=stop,
          on_result=taken.append)  # fmt: skip
    assert [r.file for r in taken] == ["late.csv"]
    assert (inbox / "done" / "late.csv").is_file()


def _polled(
    inbox: Path, store: IncidentStore, ctx: IngestContext, polls: int
) -> tuple[list[str], list[Any]]:
    """Watch ``inbox`` for ``polls`` polls: the names of the files that failed (once a
    failure) and what was taken, in order."""
    count, errors, taken = {"n": 0}, [], []

    def stop() -> bool:
        count["n"] += 1
        return count["n"] >= polls

    watch(inbox, "110", store, ctx, interval=0.01, settle=0, stop=stop,
          on_result=taken.append, on_error=lambda p, e: errors.append(p.name))  # fmt: skip
    return errors, taken


def test_watch_moves_a_file_that_keeps_hitting_a_program_error_to_failed(
    tmp_path: Path, town_db: str, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program error this file runs into, or the database refusing its values (a constraint
    error, raised as a StoreError from it): tried ATTEMPTS polls, then failed/ with the error,
    instead of every poll for good; the files after it go on."""
    import sqlite3

    from ingest import watch as watching
    from store.base import StoreError, WriteRefused

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("bug.csv", "refused.csv", "said.csv", "fine.csv"):
        shutil.copy(DATA / "110_gbk.csv", inbox / name)
    real = watching.ingest_file

    def ingest(path: Path, *a: Any, **kw: Any) -> Any:  # faults injected by file name
        if path.name == "bug.csv":
            raise KeyError("列 / a column")
        if path.name == "refused.csv":
            try:
                raise sqlite3.IntegrityError("CHECK constraint failed: version >= 1")
            except sqlite3.IntegrityError as exc:
                raise StoreError("无法保存事项 / cannot store the incidents") from exc
        if path.name == "said.csv":  # as the PostGIS store says it (the driver's error hidden)
            raise WriteRefused("数据库拒绝写入 / the database refused the write: check")
        return real(path, *a, **kw)

    monkeypatch.setattr(watching, "ingest_file", ingest)
    errors, taken = _polled(inbox, open_store(town_db), ctx, watching.ATTEMPTS + 2)
    assert sorted(r.file for r in taken) == ["bug.csv", "fine.csv", "refused.csv", "said.csv"]
    assert taken[0].file == "fine.csv"  # at the first poll, past the two failing before it
    for bad, said in (
        ("bug.csv", "KeyError"),
        ("refused.csv", "cannot store"),
        ("said.csv", "refused the"),
    ):
        assert errors.count(bad) == watching.ATTEMPTS and not (inbox / bad).exists()
        note = (inbox / "failed" / f"{bad}.error.txt").read_text(encoding="utf-8")
        assert "程序出错" in note and said in note and "put the file back" in note
    assert (inbox / "failed" / "bug.csv").read_bytes() == (DATA / "110_gbk.csv").read_bytes()


@pytest.mark.parametrize("fault", ["store", "pool"])
def test_watch_waits_for_the_store_and_keeps_the_exports_order(
    tmp_path: Path, town_db: str, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """The store down while the older of two exports is imported: the file stays and is tried
    every poll however often, and the newer waits behind it (it was imported first: the older
    one's rows then amended it, its calls' text and places turned back)."""
    import os

    import psycopg_pool

    from ingest import watch as watching
    from store.base import StoreError

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for k, name in enumerate(("0900.csv", "0905.csv")):
        shutil.copy(DATA / "110_gbk.csv", inbox / name)
        os.utime(inbox / name, (1_700_000_000 + 300 * k,) * 2)
    real, down = watching.ingest_file, {"polls": watching.ATTEMPTS + 1}

    def ingest(path: Path, *a: Any, **kw: Any) -> Any:
        if down["polls"] > 0:
            down["polls"] -= 1
            if fault == "pool":  # PostgreSQL unreachable: the pool's own error type
                raise psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec")
            raise StoreError("数据库不可用 / the database is down")
        return real(path, *a, **kw)

    monkeypatch.setattr(watching, "ingest_file", ingest)
    errors, taken = _polled(inbox, open_store(town_db), ctx, watching.ATTEMPTS + 2)
    assert errors == ["0900.csv"] * (watching.ATTEMPTS + 1)  # past ATTEMPTS: still waited for
    assert [r.file for r in taken] == ["0900.csv", "0905.csv"]
    assert taken[0].summary is not None and taken[0].summary.stored == 20
    assert taken[1].summary is not None and taken[1].summary.duplicates == 20


def test_watch_gives_up_on_a_program_error_in_the_writer_process(
    tmp_path: Path, town_db: str, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file is written by a forked writer, whose failures came back as StoreError: a
    program error there was taken for a store error and the file retried every poll for good."""
    from functools import partial

    from ingest import _writer
    from ingest import watch as watching

    def broken(*a: Any, **kw: Any) -> Any:
        raise ValueError("写入计划有误 / a bug in writing the plan")

    monkeypatch.setattr(_writer, "write_plan", broken)  # in the forked writer
    monkeypatch.setattr(watching, "ingest_file", partial(ingest_file, batch_size=5, parallel=True))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "big.csv")
    polls, errors = {"n": 0}, []

    def stop() -> bool:
        polls["n"] += 1
        return polls["n"] >= watching.ATTEMPTS + 1

    watch(inbox, "110", open_store(town_db), ctx, interval=0.01, settle=0, stop=stop,
          on_error=lambda p, e: errors.append(type(e).__name__))  # fmt: skip
    assert errors == ["WriterFailed"] * watching.ATTEMPTS
    note = (inbox / "failed" / "big.csv.error.txt").read_text(encoding="utf-8")
    assert "a bug in writing the plan" in note


def test_one_watcher_a_directory_and_a_stop_by_sigterm(
    tmp_path: Path, town_db: str, ctx: IngestContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second watcher of a directory (a service and a shell, two hosts on one share) is
    refused, naming the first's pid, instead of reading every file twice; SIGTERM (systemctl
    stop) stops a watcher as Ctrl+C does, saying so (it died without a word), and frees the
    directory for the next."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from ingest.watch import WatchBusy

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    root = Path(__file__).resolve().parents[2]
    first = subprocess.Popen(
        [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())",
         "--db", town_db, "watch", str(inbox), "--format", "110", "--interval", "0.1"],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (inbox / LOCK).is_file() or (inbox / LOCK).read_text().strip() != str(first.pid):
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(WatchBusy, match=f"pid {first.pid}"):
            watch(inbox, "110", open_store(town_db), ctx, once=True)
        assert main(["--db", town_db, "watch", str(inbox), "--format", "110", "--once"]) == 1
        assert "another ember watch" in capsys.readouterr().err
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0 and "stopped" in err and "Traceback" not in err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert watch(inbox, "110", open_store(town_db), ctx, once=True) == []  # free again
