"""Python's cyclic garbage collector held off while a file is ingested.

A 100,000-row run allocates millions of container objects (rows, tuples, dicts of fields,
pandas' object arrays of strings are not tracked but their wrappers are) and keeps hundreds of
thousands alive (the rows read, the run's ``seen`` map). CPython's collector traverses every
tracked object of a generation whenever its allocation count passes a threshold, so the run
paid for ~2,700 collections, six of them full ones over all the survivors: measured on the
100,000-row benchmark, ~1.8 s inside the collector and ~2.5 s of wall time in all (the
traversals also evict the caches), about a sixth of the run. Nearly nothing it finds is
garbage: the pipeline's objects are freed by reference counting.

So the run pauses automatic collection and collects the youngest generation itself every
:data:`COLLECT_EVERY` batches (:func:`collect_batch`): cyclic garbage made and dropped within a
batch is freed as the run goes, while the survivors are traversed once, not over and over. On
the benchmark each batch made 24 objects of cyclic garbage (four closures, ~2 KB) and nothing
else; a collection after every batch also traversed the containers of the batch in hand (its
rows' notes, outcomes and event data: 20–60 ms a batch), which a collection every few batches
mostly does not meet alive.
Written here because no library does it: ``gc.freeze`` suits a fork-after-import server, not a
long allocation burst. It does suit the burst's input, though: the rows a file was read into
(~300,000 containers for 100,000 rows) live as long as the run and hold no garbage, yet every
collection of the youngest generation traversed them again, and so did the writer process it
forks (touching, and so copying, the pages it shares with the run). :func:`settle` moves what
is alive once the file is read out of the collector's sight until the pause ends (the
benchmark's one collection: 0.12 s → 0.05 s).

The pause is process-wide (the collector is); concurrent runs (a ``watch`` thread, the web
server's imports) share it: it ends when the last one ends, and only if automatic collection
was on when the first began. A run of one batch (an HTTP push of a few rows) does not pause:
pushes arriving back to back would keep the collector off for good.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    """How many runs are inside the pause, and whether collection was on before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = False
        self.froze = False


_PAUSE = _Pause()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold off automatic cyclic collection for the ``with`` block (nestable, thread-safe)."""
    with _PAUSE.lock:
        if _PAUSE.depth == 0:
            _PAUSE.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSE.depth += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.depth -= 1
            if _PAUSE.depth == 0:
                if _PAUSE.froze:
                    gc.unfreeze()  # back in the oldest generation
                    _PAUSE.froze = False
                if _PAUSE.was_enabled:
                    gc.enable()


def settle() -> None:
    """Inside a pause: take every object alive now out of the collector's sight until the pause
    ends (``gc.freeze``), e.g. once a run's file is read. Nothing is done outside a pause, or
    when objects are frozen already by someone else (a server that froze after its imports:
    ending the pause must not thaw those)."""
    with _PAUSE.lock:
        if _PAUSE.depth and (_PAUSE.froze or gc.get_freeze_count() == 0):
            gc.freeze()
            _PAUSE.froze = True


#: Batches between two collections of the youngest generation during a run.
COLLECT_EVERY = 8


def collect_batch(batch: int | None = None) -> int:
    """Collect the youngest generation (what was allocated since the last collection and
    survived reference counting) after the run's ``batch``-th batch (0-based) when it ends a
    group of :data:`COLLECT_EVERY`, or at once when no batch is given; returns the number of
    objects freed."""
    if batch is not None and (batch + 1) % COLLECT_EVERY:
        return 0
    return gc.collect(0)
