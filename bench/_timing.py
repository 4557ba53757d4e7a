"""Timing helpers: medians of repeated runs, and the result record."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Result:
    """One comparison: ours against a named peer doing the same work in the same run."""

    name: str
    workload: str
    ours_s: float
    peer: str
    peer_s: float
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times faster ours is (peer time / our time)."""
        return self.peer_s / self.ours_s if self.ours_s > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": round(self.ratio, 2)}


def median_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs after ``warmup`` runs (seconds)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
