"""Where an ingest run's batches are written: in line, or by a writer process beside the run.

A large file is written by a child process while the run prepares the next batch: on the
100,000-row benchmark the write (SQLite building ~0.9 KB rows, their indexes, events and audit
lines) and the preparing (parsing, geocoding, trinity, repeat links) each take about half of a
run, and a thread cannot overlap them (sqlite3 takes the GIL back for every row it binds, see
``ingest._run``). The child is forked so that it starts at once with the code already imported,
and opens its own connection to the store's URL (it never touches the parent's connections).
It is used only when forking is safe enough: on a platform with ``fork``, from the main thread,
for runs of at least :data:`PARALLEL_MIN_ROWS` rows that write. Other threads (a PostGIS
connection pool's) are not copied into the child, which uses nothing of theirs. A file's
writer is forked before the file is read (:func:`spare_writer`), while the run's process is
still small, and opens the store only when its run begins.

The child writes inside the store's :meth:`~store.base.IncidentStore.deferred_index` block: on
a GeoPackage the batches leave their R-tree entries pending, the child packs the tree after the
batch before the last (``WritePlan.index_after``) and inserts the last batch's entries when the
run says it is done (:meth:`ProcessWriter.finish`), see ``store._gpkg_rtree``.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import multiprocessing as mp
import pickle
import signal
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any, NamedTuple, Protocol

from ingest._gc import collect_batch
from ingest._write import WritePlan, write_plan
from store import open_store
from store.base import DuplicateIncident, IncidentStore, StoreError, is_store_error

#: What the run sends the child once every batch is written (see :meth:`ProcessWriter.finish`).
_FINISH = "finish"
#: What the run sends a child forked ahead (:func:`spare_writer`) when its run begins: the
#: child opens the store then, not while the file is still being read.
_START = "start"
#: Rows from which a run writes in a process of its own (below, forking costs more than it
#: saves, and a push of a few rows stays in the process that received it).
PARALLEL_MIN_ROWS = 20_000
#: Bytes of memory the run shares with its writer for the plans: mapped (anonymous) before the
#: fork, its pages taken only as used (~4.5 MB for a 10,000-row batch). A plan is copied in
#: and the child told its size: through the pipe, 64 KB at a time, the run spent 30-40 ms a
#: batch waiting on the child's reads. A larger plan goes through the pipe.
SHARED_BYTES = 64 << 20
#: Bytes of a file from which :func:`ingest.pipeline.ingest_file` forks the writer before it
#: reads the file (:func:`spare_writer`; a 110 export has ~150-250 bytes a row).
EARLY_BYTES = 2_000_000


class _Shared(NamedTuple):
    """A plan of ``size`` bytes waits in the shared memory."""

    size: int


class Writer(Protocol):
    """Writes one batch at a time: :meth:`submit` a :meth:`pack`-ed plan, then :meth:`result`
    before the next. A plan may be packed while the batch before is still being written."""

    def pack(self, plan: WritePlan) -> Any: ...

    def submit(self, packed: Any) -> None: ...

    def result(self) -> int: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


class WriterDied(StoreError):
    """The writer process ended without answering (killed, or out of memory)."""


class WriterFailed(StoreError):
    """The writer process met an error that is not the store's (a program error in writing a
    plan); ``ember watch`` gives up on such a file after a few attempts, not on a store
    error."""


class InlineWriter:
    """Writes each plan when it is submitted, in the calling thread."""

    def __init__(self, store: IncidentStore, **how: Any) -> None:
        self.store, self.how, self._added = store, how, 0

    def pack(self, plan: WritePlan) -> WritePlan:
        return plan

    def submit(self, packed: WritePlan) -> None:
        self._added = write_plan(self.store, packed, **self.how)

    def result(self) -> int:
        return self._added

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


class ProcessWriter:
    """Writes each plan in a forked child process; :meth:`result` waits for it."""

    def __init__(self, url: str, *, started: bool = True, create: bool = True, **how: Any) -> None:
        self.how = how
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._shared = mmap.mmap(-1, SHARED_BYTES)  # shared with the child it is forked into
        self._proc = ctx.Process(
            target=_serve,
            args=(child, url, how, self._shared, create, self._conn),
            daemon=True,
            name="ember-ingest-writer",
        )
        self._proc.start()
        child.close()
        if started:
            self.start()

    def start(self) -> None:
        """Have the child open the store and wait for plans (once; at once unless it was
        forked ahead of its run, see :func:`spare_writer`)."""
        try:
            self._conn.send(_START)
        except OSError as exc:
            raise self._died() from exc

    def pack(self, plan: WritePlan) -> bytes:
        """``plan`` pickled (~20 ms a 10,000-row batch): done while the child still writes the
        batch before, not after it, when the child waits. With :mod:`pickle` itself, not the
        ``ForkingPickler`` ``Connection.send`` uses (a plan holds nothing of multiprocessing's,
        and its Python-level reducer lookup took a quarter longer)."""
        return pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)

    def submit(self, packed: bytes) -> None:
        """Hand the child a packed plan (the child has read the one before: its result came)."""
        try:
            if len(packed) <= len(self._shared):
                self._shared[: len(packed)] = packed
                self._conn.send(_Shared(len(packed)))
            else:
                self._conn.send_bytes(packed)
        except OSError as exc:
            raise self._died() from exc

    def result(self) -> int:
        try:
            kind, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died() from exc
        if kind == "ok":
            return int(value)
        name, message, store_error = value
        if name == DuplicateIncident.__name__:
            raise DuplicateIncident(message)
        failed = StoreError if store_error else WriterFailed
        raise failed(f"写入进程出错 / the writer process failed: {name}: {message}")

    def finish(self) -> None:
        """Once every batch is written: bring the store's spatial index up to date (the
        child writes in a :meth:`~store.base.IncidentStore.deferred_index` block), waiting."""
        try:
            self._conn.send(_FINISH)
        except OSError as exc:
            raise self._died() from exc
        self.result()

    def _died(self) -> WriterDied:
        self._proc.join(timeout=5)
        return WriterDied(
            f"写入进程意外退出（退出码 {self._proc.exitcode}），本批未确认写入；重新运行即可补齐 / "
            f"the writer process ended unexpectedly (exit code {self._proc.exitcode}); the batch "
            "was not confirmed: run the import again to complete it"
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            self._conn.send(None)
        self._proc.join(timeout=60)
        if self._proc.is_alive():  # pragma: no cover - a wedged child
            self._proc.terminate()
            self._proc.join()
        self._conn.close()
        self._shared.close()


def _serve(
    conn: Connection,
    url: str,
    how: dict[str, Any],
    shared: mmap.mmap,
    create: bool,
    run_end: Connection,
) -> None:
    """The child: write each plan received, answer ``("ok", added)`` or ``("error", (type,
    message, the store's?))`` (the store's exceptions do not all survive pickling), stop at
    ``None`` or when the parent is gone; a store that cannot be opened or used is said in
    the answer to every plan. The store is opened as the run's was (``create``: a GeoPackage
    that must exist is not made anew, see :func:`store.open_store`). ``run_end``, the run's
    end of the pipe, forked with the child, is closed here: held open, the run's death (killed
    outright) would close no end, and the child would wait for a plan for ever."""
    run_end.close()
    # Ctrl+C reaches the whole process group: the run stops and closes the writer, which
    # finishes the batch in hand (one transaction) and ends, without a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the watcher's stop (the run ends it so)
    gc.disable()  # as the parent's run does (ingest._gc)
    try:
        if conn.recv() != _START:  # ended before its run began
            return
    except EOFError:
        return
    try:
        store = open_store(url, create=create)
    except Exception as exc:  # the database unreachable: said to the run, not a dead child
        return _answer_all(conn, exc)
    ended = False  # the run said it is done: nothing more to answer
    try:
        with store.pinned(), store.deferred_index():
            _write_plans(conn, store, how, shared)
            ended = True
    except Exception as exc:  # the store failed before or between plans (its connection)
        if ended:
            raise
        _answer_all(conn, exc)
    finally:
        store.close()


def _write_plans(
    conn: Connection, store: IncidentStore, how: dict[str, Any], shared: mmap.mmap
) -> None:
    """Write each plan received until ``None`` or the parent is gone (see :func:`_serve`)."""
    batches = 0
    for plan in _received(conn):
        if isinstance(plan, _Shared):
            plan = pickle.loads(shared[: plan.size])
        try:
            if plan == _FINISH:
                conn.send(("ok", store.index_deferred()))
                continue
            conn.send(("ok", write_plan(store, plan, **how)))
        except Exception as exc:  # every failure goes back to the run
            conn.send(("error", _reply(exc)))
        collect_batch(batches)
        batches += 1


def _reply(exc: BaseException) -> tuple[str, str, bool]:
    """What the run is told of a failure: its type's name, its message, whether the store's."""
    return type(exc).__name__, str(exc), is_store_error(exc)


def _answer_all(conn: Connection, exc: BaseException) -> None:
    """Answer every plan still to come with ``exc`` (the child cannot write any), until the run
    ends the child."""
    for _ in _received(conn):
        conn.send(("error", _reply(exc)))


def _received(conn: Connection) -> Iterator[Any]:
    """What the run sends, until ``None`` or the run is gone."""
    while True:
        try:
            plan = conn.recv()
        except EOFError:
            return
        if plan is None:
            return
        yield plan


def can_fork() -> bool:
    """Whether a writer process may be forked here (a platform with ``fork``, main thread)."""
    return (
        "fork" in mp.get_all_start_methods()
        and threading.current_thread() is threading.main_thread()
    )


def spare_writer(
    store: IncidentStore, size: int, parallel: bool | None, **how: Any
) -> ProcessWriter | None:
    """A process writer forked *before* a file of ``size`` bytes is read, when the run is
    likely to want one (``parallel``, or ``None`` and at least :data:`EARLY_BYTES`); hand it
    to :func:`make_writer`, which uses it or ends it.

    Forked while this process is small, the child copies only the page tables of what is
    loaded then, and the run's process, which goes on to hold every row read, is not slowed by
    copy-on-write faults on pages it shares with a child (~47,000 fewer minor faults and
    ~0.2 s on the 100,000-row benchmark, alternating runs).
    """
    url = _url_to_fork(store)
    if url is not None and (size >= EARLY_BYTES if parallel is None else parallel):
        return ProcessWriter(url, started=False, create=_creates(store), **how)
    return None


def make_writer(
    store: IncidentStore,
    rows: int,
    parallel: bool | None,
    *,
    spare: ProcessWriter | None = None,
    **how: Any,
) -> Writer:
    """A process writer when ``parallel`` asks for one (``None``: for runs of at least
    :data:`PARALLEL_MIN_ROWS` rows) and it can be had, else one that writes in line. A
    ``spare`` (:func:`spare_writer`) is used when it writes as asked, else ended."""
    url = _url_to_fork(store)
    wanted = url is not None and (rows >= PARALLEL_MIN_ROWS if parallel is None else parallel)
    if wanted and spare is not None and spare.how == how:
        spare.start()
        return spare
    if spare is not None:
        spare.close()
    if wanted and url is not None:
        return ProcessWriter(url, create=_creates(store), **how)
    return InlineWriter(store, **how)


def _creates(store: IncidentStore) -> bool:
    """Whether ``store`` may make its file anew (a GeoPackage opened with ``create=False``
    may not)."""
    return getattr(store, "create", True) is not False


def _url_to_fork(store: IncidentStore) -> str | None:
    """The URL a forked writer would open ``store`` by, when a writer may be forked here
    (:func:`can_fork`) and the store has one; else None."""
    url = getattr(store, "url", None)
    return url if isinstance(url, str) and can_fork() else None


__all__ = [
    "EARLY_BYTES",
    "PARALLEL_MIN_ROWS",
    "InlineWriter",
    "ProcessWriter",
    "Writer",
    "WriterDied",
    "WriterFailed",
    "can_fork",
    "make_writer",
    "spare_writer",
]
