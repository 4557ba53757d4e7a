"""Geocoding ahead of the run in the process that built the town (``ingest._ahead``): it works
from the addresses the run meets after its first batch, skips what the run holds, and a run
that takes every result it can from it stores what a run that geocoded everything itself
stores."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ingest import _ahead as ahead
from ingest import context as context_module
from ingest._forked import Forked
from ingest.formats import get_format, resolve_columns
from ingest.pipeline import IngestContext, ingest_file
from ingest.read import read_table
from store import IncidentQuery, Scope, open_store
from tests.ingest.conftest import DATA

#: Rows a batch in these tests (the fixture is one batch at the default size: no helper).
BATCH = 5


def _addresses(first: int = 0) -> tuple[list[str], int]:
    table = read_table(DATA / "110_gbk.csv")
    return ahead.addresses_to_geocode(
        table, resolve_columns(get_format("110"), table.header, None), first
    )


def test_the_addresses_are_those_without_coordinates_each_once_in_file_order() -> None:
    found, held = _addresses(BATCH)
    assert found and len(set(found)) == len(found)
    table = read_table(DATA / "110_gbk.csv")
    no_point = [r.values[4].strip() if not r.values[9].strip() else "" for r in table.rows]
    assert found == list(dict.fromkeys(a for a in no_point if a))
    assert held == len(dict.fromkeys(a for a in no_point[:BATCH] if a)) > 0
    assert _addresses(len(table.rows))[1] == len(found)  # one batch: the run holds them all


def test_the_helper_goes_on_from_the_second_batch_and_skips_what_the_run_holds(
    ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = context_module.geocoded

    def slow(geocoder: Any, addresses: list[str]) -> Any:
        time.sleep(0.2)  # time for the run's word to arrive between two chunks
        return real(geocoder, addresses)

    monkeypatch.setattr(ahead, "CHUNK", 1)  # before the fork: the child has them too
    monkeypatch.setattr(ahead, "geocoded", slow)
    addresses, first = _addresses(BATCH)
    n = len(addresses)
    assert n >= first + 5, "too few addresses to see the helper skip"
    with Forked(lambda: ctx, serve=ahead.serve) as built:
        built.result()
        conn = built.channel
        assert conn is not None
        conn.send((addresses, first))
        start, results = conn.recv()
        assert start == first  # the first address after the first batch's
        assert results == context_module.geocoded(ctx.geocoder, addresses[first : first + 1])
        conn.send(n - 1)  # the run holds all but the last: the helper skips to it
        starts = []
        while conn.poll(2):
            starts.append(conn.recv()[0])
        # at most the chunk it had begun before it was told, then the last
        assert starts[-1] == n - 1 and len(starts) <= 2 < n - first - 1
        assert not conn.poll(0.5)


def test_a_run_taking_every_geocode_from_the_helper_stores_the_same(
    tmp_path: Path, town: dict[str, Any], ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine: list[str] = []  # addresses this process geocoded (the child's calls stay there)
    real_geocoded = context_module.geocoded
    real_take = ahead.Ahead.take

    def geocoded(geocoder: Any, addresses: list[str]) -> Any:
        mine.extend(addresses)
        return real_geocoded(geocoder, addresses)

    def take_all(self: ahead.Ahead, cache: dict[str, Any]) -> None:
        """Wait for the helper to have sent every address it works out (all but the first
        batch's) before the run geocodes any."""
        deadline = time.monotonic() + 60
        while not all(a in cache for a in theirs) and time.monotonic() < deadline:
            real_take(self, cache)
            time.sleep(0.01)

    wanted, first = _addresses(BATCH)
    theirs = wanted[first:]
    assert theirs

    reference = open_store(str(tmp_path / "reference.gpkg"))
    helped = open_store(str(tmp_path / "helped.gpkg"))
    try:
        a = ingest_file(DATA / "110_gbk.csv", "110", reference, ctx, batch_size=BATCH)
        monkeypatch.setattr(context_module, "geocoded", geocoded)
        monkeypatch.setattr(ahead.Ahead, "take", take_all)
        b = ingest_file(
            DATA / "110_gbk.csv",
            "110",
            helped,
            lambda: IngestContext.from_frames(town),
            batch_size=BATCH,
        )
        assert not set(mine) & set(theirs)  # every one of them from the helper
        assert b.geocoded == a.geocoded > 0
        cols = ["id", "geocode_level", "grid_code", "beat_code", "repeat_of", "address"]
        everyone, q = Scope.everything("t"), IncidentQuery()
        fa = reference.query_incidents(q, everyone)
        fb = helped.query_incidents(q, everyone)
        fa, fb = (f.sort_values("id", ignore_index=True) for f in (fa, fb))
        assert fa[cols].equals(fb[cols])
        assert fa.geometry.geom_equals(fb.geometry).all()
    finally:
        reference.close()
        helped.close()
