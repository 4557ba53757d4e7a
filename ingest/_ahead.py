"""Geocoding ahead of the run, in the process that built the town.

A 100,000-row 110 export has ~12,000 distinct addresses to geocode (~0.5 s of the run's own
process, which is the longer side of a run: see ``docs/benchmarks.md``). The process that built
the town's indexes (:mod:`ingest._forked`) holds the geocoder already and is idle once the town
is sent; told the file's addresses, it geocodes them from the *end* of the file while the run
geocodes what its batches meet from the start, at the lowest CPU priority, so that it works in
the time the run and its writer leave idle (the writer waits for the first batch, and is
quicker than the run per batch). The run takes the results it finds waiting before each
batch's geocoding and tells the helper how far it has come, where the helper stops. The
geocoder is deterministic: a result is the same whichever process worked it out, so the run
ends with the same incidents as without the helper.
"""

from __future__ import annotations

from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from ingest.context import GEOCODE_CACHE, IngestContext, geocoded
from ingest.read import RawTable

#: Addresses the helper geocodes between two looks at what the run has told it.
CHUNK = 256


def addresses_to_geocode(table: RawTable, cols: dict[str, int]) -> list[str]:
    """The distinct addresses of the rows without coordinates, in the order the run meets them
    (at most half of :data:`ingest.context.GEOCODE_CACHE`: the cache keeps them all)."""
    at = cols.get("address")
    if at is None:
        return []
    lon, lat = cols.get("lon"), cols.get("lat")
    seen: dict[str, None] = {}
    for r in table.rows:
        v = r.values
        if r.error is not None or r.bad_encoding or at >= len(v):
            continue
        if (lon is not None and lon < len(v) and v[lon].strip()) or (
            lat is not None and lat < len(v) and v[lat].strip()
        ):
            continue
        text = v[at].strip()
        if text:
            seen[text] = None
    return list(seen)[: GEOCODE_CACHE // 2]


def serve(ctx: IngestContext, conn: Connection) -> None:
    """The helper: receive the addresses, geocode them from the last back in chunks, sending
    ``(position, results)`` of each, until it reaches the position the run says it has come to
    (an ``int``), or ``None``."""
    addresses: list[str] = conn.recv()
    low, end = 0, len(addresses)
    while end > low:
        while conn.poll():
            said = conn.recv()
            if said is None:
                return
            low = max(low, int(said))
        start = max(low, end - CHUNK)
        if start >= end:
            break
        conn.send((start, geocoded(ctx.geocoder, addresses[start:end])))
        end = start
    while conn.recv() is not None:  # until the run ends (EOF) or says so
        pass


class Ahead:
    """The run's side: the addresses sent, results taken in, progress told."""

    def __init__(self, conn: Connection, addresses: Sequence[str]) -> None:
        self.addresses = list(addresses)
        self.done = 0  # the first `done` addresses are in the run's cache
        self._conn: Connection | None = conn
        self._call(conn.send, self.addresses)

    def take(self, cache: dict[str, tuple[Any, ...]]) -> None:
        """Put the results waiting from the helper into ``cache``."""
        while self._conn is not None and self._call(self._conn.poll):
            got = self._call(self._conn.recv)
            if got is None:
                break
            start, results = got
            cache.update(zip(self.addresses[start : start + len(results)], results, strict=True))

    def tell(self, cache: dict[str, tuple[Any, ...]]) -> None:
        """Tell the helper how many of the first addresses the run holds (it stops there)."""
        d, n = self.done, len(self.addresses)
        while d < n and self.addresses[d] in cache:
            d += 1
        if d > self.done and self._conn is not None:
            self.done = d
            self._call(self._conn.send, d)

    def _call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)``; a helper gone (ended, or failed) is done without from then on."""
        try:
            return fn(*args)
        except (EOFError, OSError):
            self._conn = None
            return None


__all__ = ["CHUNK", "Ahead", "addresses_to_geocode", "serve"]
