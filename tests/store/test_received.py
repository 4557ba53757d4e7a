"""The columnar write of new incidents (``add_received``, the ingest fast path) stores exactly
the rows ``add_incidents`` stores for the same incidents and receive events, on both backends."""

from __future__ import annotations

import os
import pickle
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from incidents.lifecycle import InvalidEvent
from store import DuplicateIncident, IncidentQuery, Scope
from store.received import ReceivedBatch
from tests.store.conftest import T0, event, snapshot


def make_batch(n: int, prefix: str = "R", first: int = 0) -> ReceivedBatch:
    """``n`` new incidents with every kind of value: absent callers, deadlines, repeat links,
    quotes and Chinese in texts, subcategories and codes missing."""
    k = range(first, first + n)
    ids = [f"{prefix}{i:05d}" for i in k]
    t = pd.DatetimeIndex([T0 + timedelta(minutes=7 * i, microseconds=1234) for i in k])
    due = pd.DatetimeIndex(
        pd.to_datetime(
            [T0 + timedelta(days=2, hours=i) if i % 3 == 0 else None for i in k], utc=True
        )
    )
    repeat = [ids[j - 2] if j >= 2 and j % 4 == 0 else None for j in range(n)]
    data: list[dict[str, Any]] = [
        {
            "content_hash": f"h{i}",
            "file": "f.csv",
            "unit": "派出所\n值班室" if i % 2 else "派出所",
            "notes": ["geocoded"],
        }
        for i in k
    ]
    for d, r in zip(data, repeat, strict=True):
        if r:
            d["repeat_of"] = r
    return ReceivedBatch(
        source="110",
        id=ids,
        source_id=[f"J{i:08d}" for i in k],
        received_at=t,
        category=["neighbour", "wage", "noise", "other"] * (n // 4) + ["help"] * (n % 4),
        subcategory=[None if i % 2 else "停车" for i in k],
        description=[f"邻居 '占用' \"通道\" {i}" for i in k],
        address=[f"演示镇测试路{i}号" for i in k],
        lon=np.array([120.1 + i * 1e-4 for i in k]),
        lat=np.array([29.0 + i * 1e-4 for i in k]),
        geocode_level=["coordinates" if i % 2 else "door" for i in k],
        geocode_confidence=np.array([1.0 if i % 2 else 0.55 for i in k]),
        grid_code=[None if i % 5 == 0 else "330784199001001" for i in k],
        village_code=["330784199001"] * n,
        beat_code=["330784199J01"] * n,
        station_code=[None if i % 7 == 0 else "330784199X01" for i in k],
        caller_name=["" if i % 3 == 0 else "罗小明" for i in k],
        caller_phone=[None if i % 6 == 0 else "13812345678" for i in k],
        deadline=due,
        repeat_of=repeat,
        data=data,
    )


@pytest.mark.parametrize("wire", [False, True], ids=["built", "pickled"])
def test_add_received_stores_what_add_incidents_stores(two_stores: Any, wire: bool) -> None:
    """Also after pickling, as the batch reaches an ingest run's writer process."""
    fast, careful, raw = two_stores
    for first, n in ((0, 37), (37, 1)):  # two batches: the second appends
        batch = make_batch(n, first=first)
        if wire:
            sent = pickle.loads(pickle.dumps(batch))
            assert list(sent.data) == list(batch.data) and len(sent) == n
            again = pickle.loads(pickle.dumps(sent))  # as received, sent on
            assert list(again.data) == list(batch.data)
            batch = sent
        assert fast.add_received(batch, actor="ingest") == n
        incs, events = batch.objects("ingest")
        assert careful.add_incidents(incs, events, actor="ingest") == n
    assert snapshot(fast, raw) == snapshot(careful, raw)
    everyone = Scope.everything("t", personal_data=True)
    assert fast.get_incident("R00004", everyone) == careful.get_incident("R00004", everyone)
    assert fast.get_incident("R00004", everyone).status.repeat_of == "R00002"


def test_an_empty_batch_survives_pickling() -> None:
    empty = pickle.loads(pickle.dumps(make_batch(0)))
    assert len(empty) == 0 and list(empty.data) == []


def test_add_received_refuses_what_add_incidents_refuses(two_stores: Any) -> None:
    fast, _, raw = two_stores
    assert fast.add_received(make_batch(0)) == 0
    fast.add_received(make_batch(3))
    with pytest.raises(DuplicateIncident, match="R00001"):
        fast.add_received(make_batch(2, first=1))
    again = make_batch(2, first=5)
    twice = ReceivedBatch(**{**vars(again), "id": ["R1", "R1"]})
    with pytest.raises(DuplicateIncident, match="twice"):
        fast.add_received(twice)
    itself = ReceivedBatch(**{**vars(again), "repeat_of": [again.id[0], None]})
    with pytest.raises(InvalidEvent):
        fast.add_received(itself)
    assert len(raw(fast, "SELECT id FROM incidents")) == 3


def test_repeat_candidates_are_the_query_s_columns(store: Any) -> None:
    """The incidents received before ``until`` that are open (however long before ``since``)
    or were closed on or after ``since``, with the query's values."""
    everyone = Scope.everything("t")
    store.add_received(make_batch(30))

    def close(incident_id: str, minutes: float) -> None:
        inc = store.get_incident(incident_id, everyone).incident
        for seq, action, m in ((2, "dispatch", 1), (3, "arrive", 2), (4, "resolve", 5)):
            store.append_event(event(inc, seq, action, m), seq - 1, everyone)
        store.append_event(event(inc, 5, "close", minutes), 4, everyone)

    close("R00001", 10)  # received T0+7 min, closed T0+17 min: before `since`
    close("R00002", 60)  # received T0+14 min (before `since`), closed T0+74 min: after it
    close("R00010", 30)  # received and closed within the window
    inc = store.get_incident("R00003", everyone).incident
    store.append_event(event(inc, 2, "return", 10), 1, everyone)  # returned: no candidate
    since, until = T0 + timedelta(minutes=20), T0 + timedelta(minutes=7 * 25, microseconds=1234)
    got = store.repeat_candidates(since, until)
    # open R00000 was received before `since`: a call about it is a repeat however late
    want = ["R00000", "R00002", *(f"R{i:05d}" for i in range(4, 25))]
    assert list(got["id"]) == want
    q = store.query_incidents(IncidentQuery(ids=tuple(want)), everyone)
    q = q.sort_values(["received_at", "id"], ignore_index=True)
    assert list(q["id"]) == want
    assert got["lon"].tolist() == q.geometry.x.tolist()
    assert got["lat"].tolist() == q.geometry.y.tolist()
    assert got["caller_phone"].tolist() == q["caller_phone"].tolist()  # masked
    assert "138****5678" in got["caller_phone"].tolist()
    for name in ("received_at", "closed_at"):
        assert got[name].astype("datetime64[ns, UTC]").tolist() == q[name].tolist()
    assert got["state"].tolist() == q["state"].tolist()
    assert set(got.loc[got["state"] == "closed", "id"]) == {"R00002", "R00010"}


def test_repeat_candidates_read_two_small_index_ranges(tmp_path: Any) -> None:
    """On SQLite (no statistics) neither branch scans the table nor walks ``received_at``'s
    index up to ``until`` (nearly every row): open states through ``incidents_state``, recent
    closures through ``incidents_closed_at``."""
    import sqlite3

    from store import open_store
    from store._common import candidate_sql

    path = tmp_path / "plan.gpkg"
    open_store(str(path)).add_received(make_batch(4))
    sql = candidate_sql("id, received_at", "?", unindexed="+")
    with sqlite3.connect(path) as conn:
        plan = [r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("b", "a", "b"))]
    searches = [p for p in plan if "incidents" in p]
    assert len(searches) == 2, plan
    assert any("INDEX incidents_state (state=?)" in p for p in searches), plan
    assert any("INDEX incidents_closed_at (closed_at>?)" in p for p in searches), plan


def test_writes_in_a_deferred_index_block_are_found_by_place_after_it(two_stores: Any) -> None:
    """A bulk load (``deferred_index``) stores the same rows, and once the block ends a bbox
    query finds every incident, as after writes made outside a block."""
    deferred, plain, raw = two_stores
    with deferred.pinned(), deferred.deferred_index():
        for first in range(0, 120, 40):
            deferred.add_received(make_batch(40, first=first), actor="ingest")
    for first in range(0, 120, 40):
        plain.add_received(make_batch(40, first=first), actor="ingest")
    for store in (deferred, plain):  # and a write after the load is indexed as it is made
        store.add_received(make_batch(10, prefix="A", first=500), actor="ingest")
    assert snapshot(deferred, raw) == snapshot(plain, raw)
    box = IncidentQuery(bbox=(120.10045, 29.00045, 120.10555, 29.00555))
    everyone = Scope.everything("t")
    found = set(deferred.query_incidents(box, everyone)["id"])
    assert found == set(plain.query_incidents(box, everyone)["id"])
    assert found == {f"R{i:05d}" for i in range(5, 56)}


def _killed_inside_a_deferred_block(url: str) -> None:
    from store import open_store

    store = open_store(url)
    with store.pinned(), store.deferred_index():
        store.add_received(make_batch(40), actor="ingest")
        os._exit(0)  # killed inside the load: its end never comes


def test_a_load_killed_inside_a_deferred_block_is_caught_up_by_the_next_opener(
    store_url: str, raw_sql: Any
) -> None:
    import multiprocessing as mp

    from store import open_store

    open_store(store_url).close()  # the schema, before the child's load
    child = mp.get_context("fork").Process(
        target=_killed_inside_a_deferred_block, args=(store_url,)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    gpkg = not store_url.startswith("postgresql://")
    if gpkg:  # the load had left its R-tree entries pending (PostGIS defers nothing)
        assert raw_sql("SELECT count(*) FROM rtree_incidents_geom") == [(0,)]
    store = open_store(store_url)
    try:
        box = IncidentQuery(bbox=(120.10045, 29.00045, 120.10555, 29.00555))
        found = set(store.query_incidents(box, Scope.everything("t"))["id"])
        assert found == {f"R{i:05d}" for i in range(5, 40)}
        if gpkg:
            assert raw_sql("SELECT count(*) FROM rtree_incidents_geom") == [(40,)]
            assert raw_sql("SELECT count(*) FROM ember_rtree_pending") == [(0,)]
            assert raw_sql("SELECT rtreecheck('rtree_incidents_geom')") == [("ok",)]
    finally:
        store.close()
