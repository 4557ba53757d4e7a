"""Python's cyclic garbage collector held off while a file is ingested.

A 100,000-row run allocates millions of container objects (rows, tuples, dicts of fields,
pandas' object arrays of strings are not tracked but their wrappers are) and keeps hundreds of
thousands alive (the rows read, the run's ``seen`` map). CPython's collector traverses every
tracked object of a generation whenever its allocation count passes a threshold, so the run
paid for ~2,700 collections, six of them full ones over all the survivors: measured on the
100,000-row benchmark, ~1.8 s inside the collector and ~2.5 s of wall time in all (the
traversals also evict the caches), about a sixth of the run. Nearly nothing it finds is
garbage: the pipeline's objects are freed by reference counting.

So the run pauses automatic collection and collects the youngest generation itself after each
batch (:func:`collect_batch`): cyclic garbage made and dropped within a batch (pandas objects
can hold reference cycles) is freed batch by batch, while the survivors are traversed once, not
over and over; what outlives its batch and only then becomes garbage waits for the end of the
run (on the benchmark each batch's collection found 24 objects: the pipeline makes hardly any).
Written here because no library does it: ``gc.freeze`` suits a fork-after-import server, not a
long allocation burst.

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
            if _PAUSE.depth == 0 and _PAUSE.was_enabled:
                gc.enable()


def collect_batch() -> int:
    """Collect the youngest generation (what was allocated since the last call and survived
    reference counting); returns the number of objects freed."""
    return gc.collect(0)
