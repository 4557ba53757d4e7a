"""Incident ids: the same for the same row on every run, and in the order the incidents were
received (so that each B-tree on an incident id grows at its right edge during a load)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from ingest._batch import epoch_minutes, minute_id
from ingest.pipeline import IngestContext, incident_id, ingest_file
from store import IncidentQuery, IncidentStore, Scope
from tests.ingest.conftest import DATA, balanced

SHANGHAI = timezone(timedelta(hours=8))


def test_the_same_row_gets_the_same_id_whatever_the_zone_it_is_given_in() -> None:
    t = datetime(2025, 11, 30, 16, 3, 19, tzinfo=UTC)
    first = incident_id("110", "J1", t)
    assert first == incident_id("110", "J1", t.astimezone(SHANGHAI))
    assert first == incident_id("110", "J1", pd.Timestamp(t) + pd.Timedelta(seconds=40))
    assert first.startswith("N") and len(first) == 20 and first[1:] == first[1:].upper()
    int(first[1:], 16)  # hex digits only


def test_ids_sort_as_the_times_they_were_received() -> None:
    rng = np.random.default_rng(5)
    start = pd.Timestamp("1999-12-31 23:00", tz="UTC")
    times = start + pd.to_timedelta(rng.integers(0, 40 * 365 * 24 * 60, 500), unit="min")
    ids = [incident_id("110", f"J{i}", t) for i, t in enumerate(times)]
    minutes = epoch_minutes(pd.DatetimeIndex(times))
    assert [minutes[i] for i in np.argsort(ids)] == sorted(minutes)


def test_the_source_and_its_id_tell_incidents_of_the_same_minute_apart() -> None:
    t = datetime(2025, 11, 30, 16, 3, tzinfo=UTC)
    ids = {incident_id(s, f"J{i}", t) for s in ("110", "12345") for i in range(1000)}
    assert len(ids) == 2000
    assert incident_id("110", "J1", t) != incident_id("110", "J1", t + timedelta(minutes=1))


def test_minutes_of_missing_and_early_times_are_zero() -> None:
    times = pd.to_datetime(["2025-11-30T16:03:59Z", None, "1960-01-01T00:00:00Z"], utc=True)
    assert epoch_minutes(pd.Series(times)) == [29_408_643, 0, 0]
    assert minute_id("110", "J1", 0) == f"N0000000{minute_id('110', 'J1', 1)[8:]}"


def test_a_feed_is_stored_under_ids_in_time_order(store: IncidentStore, ctx: IngestContext) -> None:
    balanced(ingest_file(DATA / "110_gbk.csv", "110", store, ctx))
    rows = store.query_incidents(IncidentQuery(), Scope.everything("test"))
    assert len(rows) > 10
    by_id = rows.sort_values("id")["received_at"]
    minute = by_id.dt.floor("min").to_numpy()
    assert (minute[1:] >= minute[:-1]).all()
