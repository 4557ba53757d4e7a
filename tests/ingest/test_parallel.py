"""Batches written by a writer process while the next is prepared (``ingest._writer``): the store
ends as with batches written in turn — repeat links to the batch still being written included —
a killed writer loses nothing that a re-run does not restore, a write that another writer beat
is redone; which runs get a writer process, and that it outlives Ctrl+C to finish its batch."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import store.base as base
from ingest import _run, _writer, pipeline
from ingest._write import WritePlan
from ingest._writer import (
    EARLY_BYTES,
    PARALLEL_MIN_ROWS,
    InlineWriter,
    ProcessWriter,
    WriterDied,
    make_writer,
    spare_writer,
)
from ingest.formats import FormatError
from ingest.pipeline import IngestContext, ingest_file
from store import IncidentQuery, Scope, open_store
from store.base import StoreError
from tests.ingest.conftest import balanced, gbk_rows, write_csv
from tests.ingest.test_resume import snapshot

BATCH = 5


def _again(row: dict[str, str], minutes: int) -> dict[str, str]:
    """The same caller at the same place ``minutes`` later, under a new number: a repeat."""
    t = datetime.strptime(row["报警时间"], "%Y-%m-%d %H:%M:%S") + timedelta(minutes=minutes)
    return dict(row, 警情编号=row["警情编号"] + "R", 报警时间=t.strftime("%Y-%m-%d %H:%M:%S"))


def _feed(tmp_path: Path) -> tuple[Path, list[tuple[str, str]]]:
    """22 good rows, two of them (each first in its batch) repeating a row of the batch before,
    a bad one, a changed re-delivery, an exact repeat; and the (repeat, original) source ids."""
    rows = gbk_rows()
    first, second = _again(rows[3], 40), _again(rows[7], 50)
    changed = dict(rows[2], 简要警情=rows[2]["简要警情"] + "（补充）")
    bad = dict(rows[4], 警情编号="")
    feed = [*rows[:5], first, *rows[5:8], bad, second, *rows[8:], changed, dict(rows[0])]
    pairs = [(first["警情编号"], rows[3]["警情编号"]), (second["警情编号"], rows[7]["警情编号"])]
    return write_csv(feed, tmp_path / "feed.csv"), pairs


def _counts(s: Any) -> tuple[int, ...]:
    return (s.read, s.stored, s.updated, s.duplicates, s.quarantined, s.repeats_linked)


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The writers the runs use."""
    made: list[Any] = []
    real = _run.make_writer

    def spy(*a: Any, **kw: Any) -> Any:
        made.append(real(*a, **kw))
        return made[-1]

    monkeypatch.setattr(_run, "make_writer", spy)
    return made


@pytest.mark.parametrize("through", ["shared memory", "pipe"])
def test_overlapped_writes_end_as_writes_in_turn(
    store_url: str,
    reference_url: str,
    tmp_path: Path,
    ctx: IngestContext,
    writers: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    through: str,
) -> None:
    if through == "pipe":  # plans larger than the memory shared with the writer
        monkeypatch.setattr(_writer, "SHARED_BYTES", 1)
    feed, pairs = _feed(tmp_path)
    ref, store = open_store(reference_url), open_store(store_url)
    try:
        in_turn = balanced(ingest_file(feed, "110", ref, ctx, batch_size=BATCH, parallel=False))
        # each write is held back before it commits, so the next batch is built before it
        monkeypatch.setattr(base, "before_commit", lambda point: time.sleep(0.3))
        overlapped = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True))
        assert [type(w) for w in writers] == [InlineWriter, ProcessWriter]
        assert _counts(overlapped) == _counts(in_turn) == (25, 22, 1, 1, 1, in_turn.repeats_linked)
        expected = snapshot(ref)
        links = {r["source_id"]: r["repeat_of"] for r in expected["incidents"]}
        ids = {r["source_id"]: r["id"] for r in expected["incidents"]}
        for repeat, original in pairs:  # linked to a row of the batch still being written
            assert links[repeat] == ids[original]
        assert snapshot(store) == expected
    finally:
        ref.close()
        store.close()


def test_a_repeat_of_an_open_matter_in_the_batch_being_written(
    store_url: str,
    reference_url: str,
    tmp_path: Path,
    ctx: IngestContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call 10 days after a matter still open repeats it, whether that matter is stored (in
    turn) or in the batch still being written (overlapped): both were read only when received
    in the 8 days before."""
    rows = gbk_rows()
    # the third batch (the first is written inline): all its calls 10+ days after rows[7]
    repeat = _again(rows[7], 10 * 24 * 60)
    feed = write_csv([*rows[:10], repeat, *rows[16:20]], tmp_path / "feed.csv")
    ref, store = open_store(reference_url), open_store(store_url)
    try:
        in_turn = balanced(ingest_file(feed, "110", ref, ctx, batch_size=BATCH, parallel=False))
        monkeypatch.setattr(base, "before_commit", lambda point: time.sleep(0.3))
        overlapped = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True))
        expected = snapshot(ref)
        links = {r["source_id"]: r["repeat_of"] for r in expected["incidents"]}
        ids = {r["source_id"]: r["id"] for r in expected["incidents"]}
        assert links[repeat["警情编号"]] == ids[rows[7]["警情编号"]]
        assert in_turn.repeats_linked == overlapped.repeats_linked >= 1
        assert snapshot(store) == expected
    finally:
        ref.close()
        store.close()


def test_killed_writer_then_rerun_equals_uninterrupted(
    store_url: str,
    reference_url: str,
    tmp_path: Path,
    ctx: IngestContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed, _ = _feed(tmp_path)
    ref, store = open_store(reference_url), open_store(store_url)
    try:
        balanced(ingest_file(feed, "110", ref, ctx, batch_size=BATCH, parallel=False))
        seen = {"n": 0}

        def die(point: str) -> None:  # runs in the forked writer
            if point == "add_incidents":
                seen["n"] += 1
                if seen["n"] == 3:
                    os._exit(137)  # inside the transaction: nothing of this batch commits

        monkeypatch.setattr(base, "before_commit", die)
        with pytest.raises(WriterDied, match="exit code 137"):
            ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True)
        monkeypatch.setattr(base, "before_commit", None)
        partial = store.query_incidents(IncidentQuery(), Scope.everything("test"))
        assert 0 < len(partial) < 22
        again = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True))
        assert again.duplicates >= len(partial)
        assert snapshot(store) == snapshot(ref)
    finally:
        ref.close()
        store.close()


def test_write_beaten_by_another_writer_is_redone(
    store_url: str, tmp_path: Path, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed, _ = _feed(tmp_path)
    rows = gbk_rows()
    other = write_csv([rows[6]], tmp_path / "other.csv")  # in the second batch of the feed
    store = open_store(store_url)
    real_build = _run._Run.build
    beaten: list[int] = []

    def build(self: Any, b: Any, inflight: Any = None) -> None:
        real_build(self, b, inflight)
        if b.start == BATCH and not beaten:  # after its lookup, before its write
            beaten.append(b.start)
            elsewhere = open_store(store_url)
            try:
                assert ingest_file(other, "110", elsewhere, ctx).stored == 1
            finally:
                elsewhere.close()

    monkeypatch.setattr(_run._Run, "build", build)
    try:
        s = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True))
        assert beaten == [BATCH]
        assert (s.stored, s.duplicates) == (21, 2)  # the row stored elsewhere: a duplicate
        found = store.query_incidents(IncidentQuery(), Scope.everything("test"))
        assert len(found) == 22 and found["source_id"].is_unique
    finally:
        store.close()


def test_which_writer_a_run_gets(tmp_path: Path) -> None:
    """A process from PARALLEL_MIN_ROWS rows (or when asked), from the main thread only, for a
    store that has a URL to open again."""
    store = open_store(str(tmp_path / "w.gpkg"))
    how = {"actor": "ingest", "source": "110", "quarantine": True}

    def kind(rows: int, parallel: bool | None = None, of: Any = store) -> type:
        w = make_writer(of, rows, parallel, **how)
        w.close()
        return type(w)

    assert kind(PARALLEL_MIN_ROWS) is ProcessWriter
    assert kind(PARALLEL_MIN_ROWS - 1) is InlineWriter
    assert kind(10, parallel=True) is ProcessWriter
    assert kind(PARALLEL_MIN_ROWS, parallel=False) is InlineWriter
    assert kind(PARALLEL_MIN_ROWS, of=object()) is InlineWriter  # no URL
    other: list[type] = []
    t = threading.Thread(target=lambda: other.append(kind(PARALLEL_MIN_ROWS)))
    t.start()
    t.join(30)
    assert other == [InlineWriter]


def _writers_alive() -> list[str]:
    return [p.name for p in mp.active_children() if p.name == "ember-ingest-writer"]


def test_a_file_s_writer_is_forked_before_the_file_is_read(
    tmp_path: Path, ctx: IngestContext, writers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked while the run's process is small (``spare_writer``), then the run's writer."""
    feed, _ = _feed(tmp_path)
    at_read: list[list[str]] = []
    spares: list[Any] = []
    read, spare = pipeline.read_table, pipeline.spare_writer

    def reading(*a: Any, **kw: Any) -> Any:
        at_read.append(_writers_alive())
        return read(*a, **kw)

    def sparing(*a: Any, **kw: Any) -> Any:
        spares.append(spare(*a, **kw))
        return spares[-1]

    monkeypatch.setattr(pipeline, "read_table", reading)
    monkeypatch.setattr(pipeline, "spare_writer", sparing)
    store = open_store(str(tmp_path / "s.gpkg"))
    try:
        s = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True))
        assert s.stored == 22
    finally:
        store.close()
    assert at_read == [["ember-ingest-writer"]]
    assert len(writers) == 1 and writers[0] is spares[0]
    assert _writers_alive() == []
    # a file that cannot be read ends its spare
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(FormatError):
        ingest_file(tmp_path / "empty.csv", "110", store, ctx, parallel=True)
    assert len(spares) == 2 and spares[1] is not None and _writers_alive() == []


def test_which_spare_a_file_gets_and_what_becomes_of_it(tmp_path: Path) -> None:
    """Forked ahead for files of EARLY_BYTES or more (or when asked); used by a run that
    writes in a process with the same settings, else ended — without opening the store."""
    how = {"actor": "ingest", "source": "110", "quarantine": True}
    never = SimpleNamespace(url=str(tmp_path / "never.gpkg"))

    def kind(size: int, parallel: bool | None = None, of: Any = never) -> type:
        w = spare_writer(of, size, parallel, **how)
        if w is not None:
            w.close()
        return type(w)

    assert kind(EARLY_BYTES) is ProcessWriter
    assert kind(EARLY_BYTES - 1) is type(None)
    assert kind(10, parallel=True) is ProcessWriter
    assert kind(EARLY_BYTES, parallel=False) is type(None)
    assert kind(EARLY_BYTES, of=object()) is type(None)  # no URL
    spare = spare_writer(never, EARLY_BYTES, None, **how)
    assert spare is not None
    assert isinstance(make_writer(never, 10, None, spare=spare, **how), InlineWriter)
    assert spare._proc.exitcode == 0 and not (tmp_path / "never.gpkg").exists()

    store = open_store(str(tmp_path / "w.gpkg"))
    try:
        spare = spare_writer(store, EARLY_BYTES, None, **how)
        other = make_writer(store, PARALLEL_MIN_ROWS, None, spare=spare, **dict(how, source="x"))
        assert isinstance(other, ProcessWriter) and other is not spare
        assert spare is not None and spare._proc.exitcode == 0
        other.close()
        spare = spare_writer(store, EARLY_BYTES, None, **how)
        used = make_writer(store, PARALLEL_MIN_ROWS, None, spare=spare, **how)
        assert used is spare
        used.submit(used.pack(WritePlan()))
        assert used.result() == 0
        used.close()
    finally:
        store.close()


def test_writer_outlives_ctrl_c_to_finish_its_batch(tmp_path: Path) -> None:
    """Ctrl+C goes to the whole process group; the writer ignores it, so the batch in hand is
    written whole and the run's own interruption closes it."""
    writer = ProcessWriter(str(tmp_path / "w.gpkg"), actor="ingest", source="110", quarantine=True)
    try:
        writer.submit(writer.pack(WritePlan()))  # the writer is up and waiting for the next plan
        assert writer.result() == 0
        pid = writer._proc.pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)
        time.sleep(0.3)
        assert writer._proc.is_alive()
        writer.submit(writer.pack(WritePlan()))
        assert writer.result() == 0
    finally:
        writer.close()
    assert writer._proc.exitcode == 0


def test_a_run_whose_index_catch_up_fails_stores_every_row_and_says_so(
    tmp_path: Path, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spatial index left to the end cannot be brought up to date (the writer process
    inherits the failure): the run still counts every row, says why in its summary, and the
    store's next opener catches the index up."""
    from store.gpkg import GeoPackageStore

    def fails(self: GeoPackageStore) -> int:
        raise StoreError("磁盘已满 / disk full")

    feed, _ = _feed(tmp_path)
    path = tmp_path / "s.gpkg"
    store = open_store(str(path))
    monkeypatch.setattr(GeoPackageStore, "index_deferred", fails)
    try:
        s = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH, parallel=True))
    finally:
        store.close()
    monkeypatch.undo()
    assert s.stored == 22 and s.index_pending is not None and "disk full" in s.index_pending
    assert "next opener" in s.table() and s.as_dict()["index_pending"] == s.index_pending
    again = open_store(str(path))
    try:
        everywhere = IncidentQuery(bbox=(100, 20, 130, 40))
        assert len(again.query_incidents(everywhere, Scope.everything("t"))) == 22
    finally:
        again.close()


def test_a_writer_that_cannot_open_the_store_says_so(tmp_path: Path) -> None:
    """The child could not open the store (the database down): it died, and the run saw a
    dead writer (which ``ember watch`` counts as a program error). It answers each plan with
    the store's error instead."""
    (tmp_path / "a-file").write_text("not a directory", encoding="utf-8")
    url = str(tmp_path / "a-file" / "ember.gpkg")
    writer = ProcessWriter(url, actor="t", source="110", quarantine=True)
    try:
        writer.submit(writer.pack(WritePlan()))
        with pytest.raises(StoreError) as raised:
            writer.result()
        assert not isinstance(raised.value, (WriterDied, _writer.WriterFailed))
        writer.submit(writer.pack(WritePlan()))  # and the next one alike, no hang
        with pytest.raises(StoreError):
            writer.result()
    finally:
        writer.close()
