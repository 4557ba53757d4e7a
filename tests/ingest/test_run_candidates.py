"""A run's repeat candidates (ingest._repeats.RunCandidates) on a real GeoPackage: the store is
read once, the run's own incidents are kept in memory, and the store is read again when a batch
reaches further back, without doubling the run's own; an amended incident is read again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from incidents.model import Event
from incidents.repeat import RepeatPolicy, repeat_of
from ingest._repeats import RunCandidates, _keyed, _ordered, _staged
from store import Scope, open_store
from tests.incidents.test_repeat import _lon_lat, random_frame
from tests.store.conftest import T0, make_incident


class _Counting:
    """The store, counting its repeat_candidates reads."""

    def __init__(self, store: object) -> None:
        self.store, self.reads = store, 0

    def repeat_candidates(self, since, until):  # type: ignore[no-untyped-def]
        self.reads += 1
        return self.store.repeat_candidates(since, until)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def test_the_store_is_read_once_and_the_runs_own_are_kept(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "ember.gpkg"))
    old = [make_incident(n) for n in range(3)]  # received T0 + n hours, open
    store.add_incidents(old)
    counting = _Counting(store)
    source = RunCandidates(counting)  # type: ignore[arg-type]
    t = T0 + timedelta(days=30)
    first = source.get(t - timedelta(days=8), t, None)
    assert list(first["id"]) == [i.id for i in old] and counting.reads == 1
    # the run stores a batch: its incidents come from memory, the store is not read again
    mine = first.iloc[:1].assign(id="N1", received_at=pd.Timestamp(t).tz_convert("UTC"))
    store.add_incidents([make_incident(50, id="N1", received_at=t)])
    source.stored(mine)
    later = source.get(t - timedelta(days=7), t + timedelta(hours=1), None)
    assert list(later["id"]) == [*(i.id for i in old), "N1"] and counting.reads == 1
    # a batch reaching further back reads the store again, without doubling the run's own
    back = source.get(t - timedelta(days=20), t + timedelta(hours=1), None)
    assert list(back["id"]) == [*(i.id for i in old), "N1"] and counting.reads == 2
    # an amended incident (its point moved) is read again, the rest stays
    moved = old[1].id
    at = old[1].received_at + timedelta(hours=1)
    place = {"lon": 120.2, "lat": 29.1, "geocode_level": "manual", "geocode_confidence": 1.0}
    store.append_event(Event(moved, 2, "amend", at, "d", data=place), 1, Scope.everything("t"))
    source.stored(None, [moved])
    again = source.get(t - timedelta(days=7), t + timedelta(hours=1), None)
    assert sorted(again["id"]) == sorted([*(i.id for i in old), "N1"]) and counting.reads == 2
    assert len(again) == 4
    row = again[again["id"] == moved].iloc[0]
    assert (round(row["lon"], 6), round(row["lat"], 6)) == (120.2, 29.1)
    store.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("recent", [1, 40, 150])
@pytest.mark.parametrize("keyed", [False, True])
def test_staged_linking_gives_the_links_of_linking_against_every_candidate(
    seed: int, recent: int, keyed: bool
) -> None:
    """A batch is linked against the most recent candidates first and the rest against those
    within reach (ingest._repeats._staged): the links of one pass over all of them, also for a
    batch not in time order (rows older than the first pass's candidates)."""
    rng = np.random.default_rng(seed)
    df = _lon_lat(random_frame(rng, 700, 2500, 20), 120.1, 29.0)
    old = df.iloc[:500].reset_index(drop=True)
    new = df.iloc[500:].drop(columns=["closed_at", "state"]).reset_index(drop=True)  # all new
    shuffled = rng.permutation(len(new))
    new = new.iloc[shuffled].reset_index(drop=True)  # a file not in time order
    new.loc[::7, "received_at"] -= pd.Timedelta(days=15)  # some older than most candidates
    parts = [old.iloc[i : i + 120].reset_index(drop=True) for i in range(0, len(old), 120)]
    policy = RepeatPolicy()
    want = repeat_of(new, old, policy).to_numpy(object)
    if keyed:  # phones normalised once (as a run keeps its candidates)
        parts, new = [_keyed(f) for f in parts], _keyed(new)
    got = _staged(parts, new, policy, recent)
    assert got.tolist() == want.tolist()
    assert sum(v is not None for v in want) > 20  # the case is not vacuous


def test_parts_are_put_in_the_stores_order_equal_times_by_id() -> None:
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({
        "id": [f"N{i:05d}" for i in rng.permutation(n)],
        "received_at": T0 + pd.to_timedelta(rng.integers(0, 40, n), unit="s"),  # many ties
        "lon": rng.uniform(120, 121, n),
    })  # fmt: skip
    want = frame.sort_values(["received_at", "id"], ignore_index=True)
    parts = [want.iloc[i::3].reset_index(drop=True) for i in range(3)]  # each in order
    got = _ordered(parts[::-1])
    pd.testing.assert_frame_equal(got, want)
