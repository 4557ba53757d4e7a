"""Geocoding ahead of the run, in the process that built the town.

A 100,000-row 110 export has ~12,000 distinct addresses to geocode (~0.5 s of the run's own
process, which is the longer side of a run: see ``docs/benchmarks.md``). The process that built
the town's indexes (:mod:`ingest._forked`) holds the geocoder already and is idle once the town
is sent; told the file's addresses, it geocodes those the run meets after its first batch, in
the order the run meets them, at the lowest CPU priority, so that it works in the time the run
and its writer leave idle (the writer waits for the first batch, and is quicker than the run
per batch), while the run geocodes its first batch itself. Before each batch's geocoding the
run takes the results waiting and geocodes only what is still missing; it tells the helper how
far it has come, and the helper skips what the run holds (when the helper is starved of CPU,
as on a PostgreSQL server sharing the cores). The geocoder is deterministic: a result is the
same whichever process worked it out, so the run ends with the same incidents as without the
helper.
"""

from __future__ import annotations

from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from ingest.context import GEOCODE_CACHE, IngestContext, geocoded
from ingest.read import RawTable

#: Addresses the helper geocodes between two looks at what the run has told it.
CHUNK = 256


def addresses_to_geocode(
    table: RawTable, cols: dict[str, int], first: int = 0
) -> tuple[list[str], int]:
    """The distinct addresses of the rows without coordinates, in the order the run meets them
    (at most half of :data:`ingest.context.GEOCODE_CACHE`: the cache keeps them all), and how
    many of them the first ``first`` rows hold."""
    at = cols.get("address")
    if at is None:
        return [], 0
    lon, lat = cols.get("lon"), cols.get("lat")
    seen: dict[str, None] = {}
    held = 0
    for i, r in enumerate(table.rows):
        if i == first:
            held = len(seen)
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
    if first >= len(table.rows):
        held = len(seen)
    keep = GEOCODE_CACHE // 2
    return list(seen)[:keep], min(held, keep)


def serve(ctx: IngestContext, conn: Connection) -> None:
    """The helper: receive ``(addresses, start)``, geocode ``addresses[start:]`` in order, in
    chunks, sending ``(position, results)`` of each; skip to the position the run says it
    holds the addresses up to (an ``int``); stop at ``None`` or the run's end."""
    addresses, at = conn.recv()
    while at < len(addresses):
        while conn.poll():
            said = conn.recv()
            if said is None:
                return
            at = max(at, int(said))
        end = min(at + CHUNK, len(addresses))
        if at < end:
            conn.send((at, geocoded(ctx.geocoder, addresses[at:end])))
        at = end
    while conn.recv() is not None:  # until the run ends (EOF) or says so
        pass


class Ahead:
    """The run's side: the addresses sent, results taken in, progress told."""

    def __init__(self, conn: Connection, addresses: Sequence[str], start: int = 0) -> None:
        self.addresses = list(addresses)
        self.done = 0  # the first `done` addresses are in the run's cache
        self._conn: Connection | None = conn
        self._call(conn.send, (self.addresses, start))

    def take(self, cache: dict[str, tuple[Any, ...]]) -> None:
        """Put the results waiting from the helper into ``cache``."""
        while self._conn is not None and self._call(self._conn.poll):
            got = self._call(self._conn.recv)
            if got is None:
                break
            start, results = got
            cache.update(zip(self.addresses[start : start + len(results)], results, strict=True))

    def tell(self, cache: dict[str, tuple[Any, ...]]) -> None:
        """Tell the helper how many of the first addresses the run holds (it skips them)."""
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
