"""The collector held off during a run (ingest._gc): paused, restored, and a batch's cyclic
garbage still freed batch by batch."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

from ingest._gc import COLLECT_EVERY, collect_batch, paused_gc, settle
from ingest.pipeline import IngestContext, ingest_file, ingest_records
from store import IncidentStore
from tests.ingest.conftest import balanced, gbk_rows, write_csv


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_pause_nests_and_restores() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_pause_keeps_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pause_restores_after_an_error() -> None:
    try:
        with paused_gc():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_end_with_the_last() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=other)
    t.start()
    entered.wait(5)
    with paused_gc():
        pass
    assert not gc.isenabled()  # the other thread's run goes on
    release.set()
    t.join(5)
    assert gc.isenabled()


def test_collect_batch_frees_cycles_made_while_paused() -> None:
    with paused_gc():
        node = _Node()
        ref = weakref.ref(node)
        del node
        assert ref() is not None  # reference counting alone cannot free it
        assert collect_batch() >= 1
        assert ref() is None


def test_a_run_pauses_the_collector_and_restores_it(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """Paused, with the rows read settled (frozen), during the run; both undone after it."""
    path = write_csv(gbk_rows(), tmp_path / "feed.csv")
    during: list[tuple[bool, int]] = []
    s = ingest_file(
        path, "110", store, ctx, batch_size=5,
        progress=lambda *_: during.append((gc.isenabled(), gc.get_freeze_count())),
    )  # fmt: skip
    balanced(s)
    assert s.stored == len(gbk_rows())
    assert during and not any(on for on, _ in during)
    assert min(frozen for _, frozen in during) > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_push_of_a_few_rows_leaves_the_collector_on(
    store: IncidentStore, ctx: IngestContext
) -> None:
    row = gbk_rows()[0]
    during: list[bool] = []
    s = ingest_records([row], "110", store, ctx, progress=lambda *_: during.append(gc.isenabled()))
    balanced(s)
    assert s.stored == 1
    assert during and all(during)


def test_a_run_collects_every_few_batches() -> None:
    """Within a run, after every COLLECT_EVERY-th batch only."""
    with paused_gc():
        found = []
        for batch in range(2 * COLLECT_EVERY):
            a: list[object] = []
            a.append(a)  # a cycle, dropped
            del a
            found.append(collect_batch(batch))
    assert [i for i, n in enumerate(found) if n] == [COLLECT_EVERY - 1, 2 * COLLECT_EVERY - 1]
    assert found[COLLECT_EVERY - 1] >= COLLECT_EVERY  # the cycles of the whole group


def test_settle_hides_what_is_alive_until_the_pause_ends() -> None:
    """Settled objects are not traversed by the run's collections, and are collected again
    (cycles dropped meanwhile freed) once the pause ends."""
    assert gc.get_freeze_count() == 0
    settle()  # outside a pause: nothing
    assert gc.get_freeze_count() == 0
    with paused_gc():
        node = _Node()
        ref = weakref.ref(node)
        settle()
        assert gc.get_freeze_count() > 0
        del node
        collect_batch()
        assert ref() is not None  # frozen: the run's collections do not see it
        with paused_gc():
            settle()  # a nested run settles too; the outer pause still holds it
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert ref() is None


def test_settle_leaves_a_freeze_it_did_not_make() -> None:
    """A server that froze its imports keeps them frozen after a run."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with paused_gc():
            settle()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
