"""The town's indexes built in a forked process while the file is read (``ingest._forked``):
the same run as with a context built beforehand, failures reported in the run, no child left."""

from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

import pytest

from ingest._forked import NAME, Forked
from ingest.formats import FormatError
from ingest.pipeline import IngestContext, ingest_file, ingest_table
from ingest.read import read_table
from store import IncidentQuery, Scope, open_store
from tests.ingest.conftest import DATA


def _ours_alive() -> list[Any]:
    """Children of ``Forked`` still running (other libraries keep worker pools of their own)."""
    return [p for p in mp.active_children() if p.name == NAME]


def test_a_value_built_in_a_child_comes_back_whole() -> None:
    with Forked(lambda: (os.getpid(), {"a": [1, 2.5, "三"]})) as built:
        pid, value = built.result()
    assert pid != os.getpid() and value == {"a": [1, 2.5, "三"]}
    assert not _ours_alive()


def test_the_childs_exception_is_raised_in_the_run() -> None:
    def fails() -> None:
        raise FormatError("图层缺失 / the layer is missing")

    with Forked(fails) as built, pytest.raises(FormatError, match="layer is missing"):
        built.result()


def test_a_child_that_dies_is_reported_not_waited_for() -> None:
    with Forked(lambda: os._exit(3)) as built, pytest.raises(RuntimeError, match="exit code 3"):
        built.result()


def test_ingest_builds_the_town_while_reading_and_stores_the_same(
    tmp_path: Path, town: dict[str, Any], ctx: IngestContext
) -> None:
    pids: list[int] = []

    def build() -> IngestContext:
        pids.append(os.getpid())  # in the child: the parent's list stays empty
        return IngestContext.from_frames(town)

    early = open_store(str(tmp_path / "early.gpkg"))
    forked = open_store(str(tmp_path / "forked.gpkg"))
    try:
        a = ingest_file(DATA / "110_gbk.csv", "110", early, ctx)
        b = ingest_file(DATA / "110_gbk.csv", "110", forked, build)
        assert pids == []  # built elsewhere
        keep = ("read", "stored", "quarantined", "geocoded", "from_coordinates", "repeats_linked")
        assert {k: b.as_dict()[k] for k in keep} == {k: a.as_dict()[k] for k in keep}
        assert b.stored > 0
        cols = ["id", "grid_code", "beat_code", "station_code", "repeat_of", "geocode_level"]
        everyone, q = Scope.everything("t"), IncidentQuery()
        fa = early.query_incidents(q, everyone)[cols].sort_values("id", ignore_index=True)
        fb = forked.query_incidents(q, everyone)[cols].sort_values("id", ignore_index=True)
        assert fa.equals(fb)
    finally:
        early.close()
        forked.close()
    assert not _ours_alive()


def test_a_file_that_cannot_be_read_ends_the_builder(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.gpkg"))
    try:
        with pytest.raises(FileNotFoundError):
            ingest_file(tmp_path / "missing.csv", "110", store, lambda: IngestContext)
    finally:
        store.close()
    assert not _ours_alive()


def test_the_first_batch_is_looked_up_before_the_town_is_waited_for(
    tmp_path: Path, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run asks for the town (waiting for the process building it) only at the first step
    that needs it: the first batch's parsing, hashing and store lookup go on meanwhile."""
    store = open_store(str(tmp_path / "s.gpkg"))
    calls: list[str] = []
    real = store.source_keys

    def source_keys(*a: Any) -> Any:
        calls.append("lookup")
        return real(*a)

    def town() -> IngestContext:
        calls.append("town")
        return ctx

    monkeypatch.setattr(store, "source_keys", source_keys)
    try:
        s = ingest_table(read_table(DATA / "110_gbk.csv"), "110", store, town)
    finally:
        store.close()
    assert s.stored > 0 and calls[:2] == ["lookup", "town"] and calls.count("town") == 1
