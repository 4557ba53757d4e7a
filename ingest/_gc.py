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
batch (:func:`collect_batch`): a batch's cyclic garbage (pandas objects can hold reference
cycles) is freed batch by batch, so memory stays bounded on a file of millions of rows, while
the survivors are traversed once, not over and over. Written here because no library does it:
``gc.freeze`` suits a fork-after-import server, not a long allocation burst.

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

_LOCK = threading.Lock()
#: [runs inside the pause, whether collection was enabled before the first]
_STATE: list[int | bool] = [0, False]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold off automatic cyclic collection for the ``with`` block (nestable, thread-safe)."""
    with _LOCK:
        if _STATE[0] == 0:
            _STATE[1] = gc.isenabled()
            gc.disable()
        _STATE[0] = int(_STATE[0]) + 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE[0] = int(_STATE[0]) - 1
            if _STATE[0] == 0 and _STATE[1]:
                gc.enable()


def collect_batch() -> int:
    """Collect the youngest generation (what was allocated since the last call and survived
    reference counting); returns the number of objects freed."""
    return gc.collect(0)
