"""Geocoding ahead of the run in the process that built the town (``ingest._ahead``): it works
from the file's end, stops where the run has come to, and a run that takes every result from
it stores what a run that geocoded everything itself stores."""

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


def _addresses() -> list[str]:
    table = read_table(DATA / "110_gbk.csv")
    return ahead.addresses_to_geocode(table, resolve_columns(get_format("110"), table.header, None))


def test_the_addresses_are_those_without_coordinates_each_once_in_file_order() -> None:
    found = _addresses()
    assert found and len(set(found)) == len(found)
    table = read_table(DATA / "110_gbk.csv")
    no_point = [r.values[4].strip() for r in table.rows if not r.values[9].strip()]
    assert found == list(dict.fromkeys(a for a in no_point if a))


def test_the_helper_starts_from_the_end_and_stops_where_the_run_has_come_to(
    ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "CHUNK", 3)  # before the fork: the child has it too
    addresses = _addresses()
    n = len(addresses)
    assert n > 9, "too few addresses to see the helper stop"
    with Forked(lambda: ctx, serve=ahead.serve) as built:
        built.result()
        conn = built.channel
        assert conn is not None
        conn.send(addresses)
        start, results = conn.recv()
        assert start == n - 3  # the last chunk first
        assert results == context_module.geocoded(ctx.geocoder, addresses[start:])
        conn.send(n)  # the run has every address: the helper stops
        time.sleep(0.2)
        while conn.poll(0.5):  # a chunk it had begun before it was told
            start, _ = conn.recv()
            assert start >= n - 9
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
        """Wait for the helper to have sent every address before the run geocodes any."""
        deadline = time.monotonic() + 60
        while not all(a in cache for a in self.addresses) and time.monotonic() < deadline:
            real_take(self, cache)
            time.sleep(0.01)

    reference = open_store(str(tmp_path / "reference.gpkg"))
    helped = open_store(str(tmp_path / "helped.gpkg"))
    try:
        a = ingest_file(DATA / "110_gbk.csv", "110", reference, ctx)
        monkeypatch.setattr(context_module, "geocoded", geocoded)
        monkeypatch.setattr(ahead.Ahead, "take", take_all)
        b = ingest_file(
            DATA / "110_gbk.csv", "110", helped, lambda: IngestContext.from_frames(town)
        )
        assert not set(mine) & set(_addresses())  # every one of them from the helper
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
