"""One conformance suite, run against every backend (GeoPackage and PostGIS).

Real SQLite files and a real PostgreSQL server; no mocks.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import shapely

from incidents.lifecycle import (
    IllegalTransition,
    IncidentStatus,
    InvalidEvent,
    SequenceError,
    fold,
)
from incidents.masking import mask_event, mask_incident, mask_status
from incidents.model import Event, State
from store import (
    DuplicateIncident,
    IncidentNotFound,
    IncidentQuery,
    IncidentStore,
    Scope,
    StaleVersion,
    StoreError,
    open_store,
)
from store._codec import QUERY_COLUMNS
from store.migrations import load
from tests.store.conftest import CST, GRID_A, GRID_B, GRIDS, T0, event, make_incident
from tests.tiny_town import make_tiny_town

ALL = Scope.everything("tester")
PERSONAL = Scope.everything("clerk-7", personal_data=True)


def backend(store: IncidentStore) -> str:
    return "postgis" if store.url.startswith("postgresql://") else "gpkg"


def status_of(store: IncidentStore, incident_id: str) -> IncidentStatus:
    return store.get_incident(incident_id, ALL).status


def ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["id"])


# --- layers and schema ---------------------------------------------------------------------


def test_backend_implements_the_whole_contract(store: IncidentStore) -> None:
    assert isinstance(store, IncidentStore)
    with pytest.raises(TypeError, match="sequence"):
        Scope(grid_codes="330784199001001")  # type: ignore[arg-type]


def test_layers_round_trip(store: IncidentStore) -> None:
    town = make_tiny_town()
    table = pd.DataFrame({"code": ["D01", "D02"], "name": ["劳动保障所", "司法所"]})
    store.write_layers({"grid_cells": town["grid_cells"], "departments": table})
    assert {"grid_cells", "departments", "incidents", "events"} <= set(store.layer_names())
    assert store.exists()
    grids = store.read_layer("grid_cells")
    assert grids.crs.to_epsg() == 4326
    original = town["grid_cells"]
    assert list(grids.columns[: len(original.columns) - 1]) == list(original.columns[:-1])
    for col in original.columns.drop("geometry"):
        assert list(grids[col]) == list(original[col]), col
    assert pd.api.types.is_integer_dtype(grids["registered_pop"])
    assert all(
        a.equals_exact(b, 1e-9) for a, b in zip(grids.geometry, original.geometry, strict=True)
    )
    assert list(store.read_layer("departments")["name"]) == ["劳动保障所", "司法所"]
    # write_layers replaces a layer
    store.write_layers({"departments": table.iloc[:1]})
    assert list(store.read_layer("departments")["code"]) == ["D01"]


def test_layers_version_is_raised_by_each_write_of_layers(
    store: IncidentStore, store_url: str
) -> None:
    """What a running watcher or server compares to rebuild its town (ingest.watch)."""
    assert store.layers_version() == 0
    store.write_layers({"departments": pd.DataFrame({"code": ["D01"]})})
    first = store.layers_version()
    assert first >= int(datetime.now().timestamp()) - 60  # at least the time of the write
    store.add_incidents([make_incident(1)])  # incidents are no layer change
    assert store.layers_version() == first
    other = open_store(store_url)  # another process's connection sees the new number
    try:
        other.write_layers({"departments": pd.DataFrame({"code": ["D02"]})})
        second = other.layers_version()
        assert second == store.layers_version() > first  # raised within the same second too
    finally:
        other.close()
    with pytest.raises(StoreError, match="reserved"):
        store.write_layers({"ember_layers_version": pd.DataFrame({"version": [0]})})
    assert store.layers_version() == second


def test_missing_and_reserved_layers(store: IncidentStore) -> None:
    store.write_layers({"departments": pd.DataFrame({"code": ["D01"]})})
    with pytest.raises(KeyError, match="no layer"):
        store.read_layer("nothing_here")
    with pytest.raises(StoreError, match="reserved"):
        store.write_layers({"audit_log": pd.DataFrame({"x": [1]})})


def test_migrations_recorded_and_idempotent(store: IncidentStore, store_url: str, raw_sql) -> None:
    steps = load(backend(store))
    assert store.schema_version() == len(steps) >= 1
    rows = raw_sql("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(int(v), n) for v, n in rows] == [(m.version, m.name) for m in steps]
    again = open_store(store_url)  # opening again applies nothing twice
    try:
        assert again.schema_version() == len(steps)
    finally:
        again.close()
    assert len(raw_sql("SELECT version FROM schema_migrations")) == len(steps)


def test_incidents_table_is_a_spatially_indexed_point_layer(store: IncidentStore, raw_sql) -> None:
    store.add_incidents([make_incident(1), make_incident(2, GRID_B)])
    if backend(store) == "gpkg":
        import pyogrio

        info = pyogrio.read_info(store.url, layer="incidents")
        assert (info["geometry_type"], info["crs"], info["features"]) == ("Point", "EPSG:4326", 2)
        assert info["capabilities"]["fast_spatial_filter"]  # GDAL found the R-tree
        near_a = pyogrio.read_dataframe(
            store.url, layer="incidents", bbox=(120.05, 28.95, 120.15, 29.05)
        )
        assert list(near_a["id"]) == ["I0001"]
        extent = raw_sql(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'incidents'"
        )
        assert extent[0] == pytest.approx((120.10001, 29.00001, 120.20002, 29.10002))
    else:
        cols = raw_sql("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'incidents'")
        assert cols == [("POINT", 4326)]
        indexes = raw_sql("SELECT indexdef FROM pg_indexes WHERE tablename = 'incidents'")
        assert any("USING gist (geom)" in d for (d,) in indexes)


# --- adding incidents ----------------------------------------------------------------------


def test_bulk_add_and_get_back(store: IncidentStore) -> None:
    incs = [make_incident(i, GRID_A if i % 2 else GRID_B) for i in range(1, 41)]
    evs = [
        e for inc in incs[:10] for e in (event(inc, 1, "receive", 0), event(inc, 2, "dispatch", 3))
    ]
    assert store.add_incidents(incs, evs, actor="ingest") == 40
    rec = store.get_incident("I0001", PERSONAL)
    assert rec.incident == incs[0]
    assert rec.events == (event(incs[0], 1, "receive", 0), event(incs[0], 2, "dispatch", 3))
    assert rec.status == fold(rec.events, incs[0])
    assert (rec.status.state, rec.status.version, rec.status.team_code) == (
        State.DISPATCHED,
        2,
        "T01",
    )
    plain = store.get_incident("I0040", ALL)  # stored without events: it got its receive event
    assert [(e.seq, e.action, e.actor) for e in plain.events] == [(1, "receive", "ingest")]
    assert plain.status.state == State.RECEIVED
    assert plain.incident == mask_incident(incs[-1])
    assert len(store.query_incidents(IncidentQuery(), ALL)) == 40


def test_add_nothing(store: IncidentStore) -> None:
    assert store.add_incidents([]) == 0


def test_source_and_source_id_stay_unique(store: IncidentStore) -> None:
    store.add_incidents([make_incident(1)])
    same_source_id = make_incident(2, source_id=make_incident(1).source_id)
    with pytest.raises(DuplicateIncident, match="J33078400000001"):
        store.add_incidents([make_incident(3), same_source_id])
    with pytest.raises(DuplicateIncident, match="I0001"):
        store.add_incidents([make_incident(1, source_id="other")])
    with pytest.raises(DuplicateIncident, match="twice"):
        store.add_incidents(
            [make_incident(5), make_incident(6, source_id=make_incident(5).source_id)]
        )
    # the same source id from another source is another incident
    store.add_incidents([make_incident(7, source="12345", source_id=make_incident(1).source_id)])
    assert ids(store.query_incidents(IncidentQuery(), ALL)) == ["I0001", "I0007"]  # nothing else


def test_bulk_add_with_an_illegal_event_writes_nothing(store: IncidentStore) -> None:
    good, bad = make_incident(1), make_incident(2)
    evs = [event(good, 1, "receive", 0), event(bad, 1, "receive", 0), event(bad, 2, "arrive", 5)]
    with pytest.raises(IllegalTransition):
        store.add_incidents([good, bad], evs)
    with pytest.raises(StoreError, match="not in the batch"):
        store.add_incidents([good], [event(good, 1, "receive", 0), event(bad, 1, "receive", 0)])
    assert len(store.query_incidents(IncidentQuery(), ALL)) == 0
    assert store.audit_log() == []


# --- appending events ----------------------------------------------------------------------


def test_append_returns_the_folded_status(store: IncidentStore) -> None:
    inc = make_incident(1)
    store.add_incidents([inc])
    s = store.append_event(event(inc, 2, "dispatch", 3, team_code="T09"), 1, ALL)
    assert (s.state, s.version, s.team_code) == (State.DISPATCHED, 2, "T09")
    s = store.append_event(event(inc, 3, "arrive", 9), 2, ALL)
    assert (s.state, s.version) == (State.ON_SCENE, 3)
    rec = store.get_incident(inc.id, ALL)
    assert rec.status == s == fold(rec.events, inc)
    row = store.query_incidents(IncidentQuery(), ALL).iloc[0]
    assert (row["state"], row["version"], row["team_code"]) == ("on_scene", 3, "T09")
    assert row["on_scene_at"] == pd.Timestamp(inc.received_at + timedelta(minutes=9))


def test_stale_version_is_refused_and_nothing_written(store: IncidentStore) -> None:
    inc = make_incident(1)
    store.add_incidents([inc])
    store.append_event(event(inc, 2, "dispatch", 3), 1, ALL)
    audit_before = store.audit_log()
    with pytest.raises(StaleVersion) as exc:
        store.append_event(event(inc, 2, "return", 4), 1, ALL)  # built on version 1
    err = exc.value
    assert (err.incident_id, err.expected, err.actual) == ("I0001", 1, 2)
    assert "已被他人更新" in str(err) and "changed by someone else" in str(err)
    assert "I0001" in str(err) and "1" in str(err) and "2" in str(err)
    assert [e.action for e in store.events(inc.id, ALL)] == ["receive", "dispatch"]
    assert status_of(store, inc.id).state == State.DISPATCHED
    assert store.audit_log() == audit_before


def test_illegal_transition_is_refused_and_nothing_written(store: IncidentStore) -> None:
    inc = make_incident(1)
    store.add_incidents([inc])
    with pytest.raises(IllegalTransition) as exc:
        store.append_event(event(inc, 2, "resolve", 5), 1, ALL)
    assert exc.value.state == State.RECEIVED and "dispatch" in exc.value.allowed
    with pytest.raises(SequenceError):
        store.append_event(event(inc, 3, "dispatch", 5), 1, ALL)  # seq must be version + 1
    with pytest.raises(InvalidEvent):
        store.append_event(event(inc, 2, "dispatch", -60), 1, ALL)  # before it was received
    assert [e.seq for e in store.events(inc.id, ALL)] == [1]
    row = store.query_incidents(IncidentQuery(), ALL).iloc[0]
    assert (row["state"], row["version"]) == ("received", 1)
    assert [a.action for a in store.audit_log()] == ["add"]


def test_unknown_incident(store: IncidentStore) -> None:
    with pytest.raises(IncidentNotFound, match="I9999"):
        store.get_incident("I9999", ALL)
    with pytest.raises(IncidentNotFound):
        store.append_event(Event("I9999", 2, "dispatch", T0, "x"), 1, ALL)
    with pytest.raises(IncidentNotFound):
        store.events("I9999", ALL)


# --- queries and scope ---------------------------------------------------------------------


@pytest.fixture
def town_incidents(store: IncidentStore) -> IncidentStore:
    """I0001..I0012: odd in grid A, even in grid B; I0003 and I0004 are dispatched."""
    incs = [make_incident(i, GRID_A if i % 2 else GRID_B) for i in range(1, 13)]
    incs[4] = replace(incs[4], category="wage", department_code="D07")
    incs[5] = replace(incs[5], category="wage", source="12345")
    store.add_incidents(incs)
    for inc in incs[2:4]:
        store.append_event(event(inc, 2, "dispatch", 2), 1, ALL)
    return store


def test_pages_by_key_break_ties_by_id_and_keep_milliseconds(store: IncidentStore) -> None:
    """Incidents received in the same millisecond are paged by id; a key one millisecond
    earlier still comes before them (the key is compared as stored, to the millisecond)."""
    t = T0 + timedelta(milliseconds=250)
    incs = [make_incident(n, received_at=t) for n in (23, 21, 22)]
    incs.append(make_incident(24, received_at=t - timedelta(milliseconds=1)))
    store.add_incidents(incs)
    for newest_first, want in ((False, ["I0024", "I0021", "I0022", "I0023"]),
                               (True, ["I0023", "I0022", "I0021", "I0024"])):  # fmt: skip
        paged, after = [], None
        for _ in range(6):
            q = IncidentQuery(limit=1, after=after, newest_first=newest_first)
            page = store.query_incidents(q, ALL)
            if page.empty:
                break
            paged += ids(page)
            after = (page["received_at"].iloc[0].to_pydatetime(), page["id"].iloc[0])
        assert paged == want
    rest = store.query_incidents(IncidentQuery(after=(t, "I0021")), ALL)
    assert ids(rest) == ["I0022", "I0023"]
    scoped = IncidentQuery(after=(t, "I0021"), grid_codes=(GRID_B,))
    assert store.query_incidents(scoped, ALL).empty and store.count_incidents(scoped, ALL) == 0


def test_query_by_bbox_time_state_category_area(town_incidents: IncidentStore) -> None:
    s = town_incidents
    assert ids(s.query_incidents(IncidentQuery(), ALL)) == [f"I{i:04d}" for i in range(1, 13)]
    a_lon, a_lat = GRIDS[GRID_A][:2]
    in_a = s.query_incidents(
        IncidentQuery(bbox=(a_lon - 0.01, a_lat - 0.01, a_lon + 0.01, a_lat + 0.01)), ALL
    )
    assert ids(in_a) == ["I0001", "I0003", "I0005", "I0007", "I0009", "I0011"]
    assert all(
        p.within(shapely.box(a_lon - 0.01, a_lat - 0.01, a_lon + 0.01, a_lat + 0.01))
        for p in in_a.geometry
    )
    # exact bbox edge: I0001 sits at lon + 1e-5; a box ending just before it excludes it
    edge = IncidentQuery(bbox=(a_lon, a_lat, a_lon + 0.5e-5, a_lat + 1))
    assert ids(s.query_incidents(edge, ALL)) == []
    window = IncidentQuery(
        received_from=T0 + timedelta(hours=3), received_to=T0 + timedelta(hours=6)
    )
    assert ids(s.query_incidents(window, ALL)) == ["I0003", "I0004", "I0005"]  # end exclusive
    assert ids(s.query_incidents(IncidentQuery(states=(State.DISPATCHED,)), ALL)) == [
        "I0003",
        "I0004",
    ]
    assert ids(s.query_incidents(IncidentQuery(categories=("wage",)), ALL)) == ["I0005", "I0006"]
    assert ids(s.query_incidents(IncidentQuery(sources=("12345",)), ALL)) == ["I0006"]
    assert ids(s.query_incidents(IncidentQuery(department_codes=("D07",)), ALL)) == ["I0005"]
    by_beat = s.query_incidents(IncidentQuery(beat_codes=(GRIDS[GRID_B][3],)), ALL)
    assert ids(by_beat) == ["I0002", "I0004", "I0006", "I0008", "I0010", "I0012"]
    by_village = s.query_incidents(IncidentQuery(village_codes=(GRIDS[GRID_A][2],), limit=2), ALL)
    assert ids(by_village) == ["I0001", "I0003"]
    # pages, in either order, read as pages; the count ignores the page
    everything = ids(s.query_incidents(IncidentQuery(), ALL))
    assert len(everything) > 6
    pages = [
        ids(s.query_incidents(IncidentQuery(limit=4, offset=k), ALL))
        for k in range(0, len(everything) + 4, 4)
    ]
    assert [i for p in pages for i in p] == everything and pages[-1] == []
    newest = IncidentQuery(newest_first=True, limit=3, offset=1)
    assert ids(s.query_incidents(newest, ALL)) == everything[::-1][1:4]
    assert ids(s.query_incidents(IncidentQuery(offset=len(everything) - 2), ALL)) == everything[-2:]
    assert s.count_incidents(IncidentQuery(limit=1, offset=3), ALL) == len(everything)
    # pages by key, in either order: each continues after the last of the one before
    for newest_first in (False, True):
        rows = s.query_incidents(IncidentQuery(newest_first=newest_first), ALL)
        paged, after = [], None
        while True:
            q = IncidentQuery(limit=3, after=after, newest_first=newest_first)
            page = s.query_incidents(q, ALL)
            assert s.count_incidents(q, ALL) == len(everything)
            if page.empty:
                break
            paged += ids(page)
            last = page.iloc[-1]
            after = (last["received_at"].to_pydatetime(), last["id"])
        assert paged == ids(rows)
    with pytest.raises(ValueError, match="aware"):
        IncidentQuery(after=(datetime(2025, 1, 1), "I0001"))
    assert s.count_incidents(IncidentQuery(categories=("wage",)), ALL) == 2
    assert s.count_incidents(IncidentQuery(beat_codes=(GRIDS[GRID_B][3],)), ALL) == 6
    with pytest.raises(ValueError, match="offset"):
        IncidentQuery(offset=-1)
    # by id (any order asked, the query's order given; unknown ids left out)
    by_id = IncidentQuery(ids=("I0005", "I0002", "nope"))
    assert ids(s.query_incidents(by_id, ALL)) == ["I0002", "I0005"]
    assert s.count_incidents(by_id, ALL) == 2
    combined = IncidentQuery(
        grid_codes=(GRID_B,), states=("received",), received_to=T0 + timedelta(hours=8)
    )
    assert ids(s.query_incidents(combined, ALL)) == ["I0002", "I0006"]
    frame = s.query_incidents(IncidentQuery(), ALL)
    assert list(frame.columns) == [*QUERY_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326 and str(frame["received_at"].dtype) == "datetime64[ms, UTC]"
    with pytest.raises(ValueError, match="aware"):
        IncidentQuery(received_from=datetime(2026, 1, 1))


def test_a_query_reads_the_columns_asked_for(town_incidents: IncidentStore) -> None:
    s = town_incidents
    everything = s.query_incidents(IncidentQuery(), ALL)
    asked = IncidentQuery(columns=("state", "received_at", "grid_code"), newest_first=True)
    some = s.query_incidents(asked, ALL)
    # id always, then the columns in the store's order, then the geometry
    assert list(some.columns) == ["id", "received_at", "grid_code", "state", "geometry"]
    assert list(some["id"]) == list(everything["id"])[::-1]
    whole = everything.set_index("id").loc[list(some["id"])]
    for c in ("received_at", "grid_code", "state"):
        assert list(some[c]) == list(whole[c]), c
    assert list(some.geometry) == list(whole.geometry)
    assert str(some["received_at"].dtype) == "datetime64[ms, UTC]"
    # masked as a whole frame is: the address asked for without personal data
    masked_view = replace(ALL, personal_data=False)
    addr = s.query_incidents(IncidentQuery(columns=("address",)), masked_view)
    assert list(addr["address"]) == list(s.query_incidents(IncidentQuery(), masked_view)["address"])
    with pytest.raises(ValueError, match="no such columns: caller_age"):
        IncidentQuery(columns=("state", "caller_age"))
    with pytest.raises(TypeError):
        IncidentQuery(columns="state")  # type: ignore[arg-type]


def test_scope_is_enforced_in_the_store(town_incidents: IncidentStore) -> None:
    s = town_incidents
    grid_a = Scope(actor="grid-officer-A", grid_codes=(GRID_A,))
    seen = s.query_incidents(IncidentQuery(), grid_a)
    assert ids(seen) == ["I0001", "I0003", "I0005", "I0007", "I0009", "I0011"]
    assert set(seen["grid_code"]) == {GRID_A}
    assert s.count_incidents(IncidentQuery(), grid_a) == 6  # counts see what the scope sees
    # asking for the other grid explicitly does not widen the scope
    assert len(s.query_incidents(IncidentQuery(grid_codes=(GRID_B,)), grid_a)) == 0
    assert s.count_incidents(IncidentQuery(grid_codes=(GRID_B,)), grid_a) == 0
    assert ids(s.query_incidents(IncidentQuery(ids=("I0001", "I0002")), grid_a)) == ["I0001"]
    with pytest.raises(IncidentNotFound):
        s.get_incident("I0002", grid_a)
    with pytest.raises(IncidentNotFound):
        s.events("I0002", grid_a)
    with pytest.raises(IncidentNotFound):
        s.append_event(Event("I0002", 2, "dispatch", T0 + timedelta(hours=3), "x"), 1, grid_a)
    assert s.get_incident("I0001", grid_a).incident.id == "I0001"
    # union of responsibilities; sources restrict further; an empty scope sees nothing
    team_b_or_dept = Scope(team_codes=("T02",), department_codes=("D07",))
    assert ids(s.query_incidents(IncidentQuery(), team_b_or_dept))[:3] == [
        "I0002",
        "I0004",
        "I0005",
    ]
    hotline = Scope(all=True, sources=("12345",))
    assert ids(s.query_incidents(IncidentQuery(), hotline)) == ["I0006"]
    assert len(s.query_incidents(IncidentQuery(), Scope())) == 0
    assert s.count_incidents(IncidentQuery(), Scope()) == 0
    assert len(s.query_incidents(IncidentQuery(), Scope(all=True, sources=()))) == 0
    # a dispatch to another team moves the incident into that team's scope
    t9 = Scope(team_codes=("T09",))
    assert len(s.query_incidents(IncidentQuery(), t9)) == 0
    inc1 = make_incident(1)
    s.append_event(event(inc1, 2, "dispatch", 1, team_code="T09"), 1, grid_a)
    assert ids(s.query_incidents(IncidentQuery(), t9)) == ["I0001"]


def test_personal_data_masked_unless_allowed_and_views_audited(
    town_incidents: IncidentStore,
) -> None:
    s = town_incidents
    masked = s.query_incidents(IncidentQuery(grid_codes=(GRID_A,)), ALL)
    assert set(masked["caller_name"]) == {"罗某"}
    assert set(masked["caller_phone"]) == {"138****5678"}
    assert set(masked["caller_id_number"]) == {"330784********1234"}
    assert s.get_incident("I0001", ALL).incident.parties[0].phone == "138****5678"
    assert s.read_layer("incidents")["caller_phone"].iloc[0] == "138****5678"
    assert not [a for a in s.audit_log() if a.action == "view_personal"]
    full = s.query_incidents(IncidentQuery(grid_codes=(GRID_A,)), PERSONAL)
    assert set(full["caller_phone"]) == {"13812345678"}
    assert s.get_incident("I0003", PERSONAL).incident.parties[0].id_number == "330784199001011234"
    views = [a for a in s.audit_log() if a.action == "view_personal"]
    assert [(a.actor, a.incident_id) for a in views] == [("clerk-7", i) for i in ids(full)] + [
        ("clerk-7", "I0003")
    ]
    for a in s.audit_log():  # the audit log itself holds no personal data
        assert "13812345678" not in str(a.detail) and "罗小明" not in str(a.detail)
    # columns that hold no personal data are not a view of it, whoever reads them
    s.query_incidents(IncidentQuery(columns=("state", "received_at")), PERSONAL)
    assert len([a for a in s.audit_log() if a.action == "view_personal"]) == len(views)
    phones = s.query_incidents(IncidentQuery(ids=("I0001",), columns=("caller_phone",)), PERSONAL)
    assert list(phones["caller_phone"]) == ["13812345678"]
    after = [a for a in s.audit_log() if a.action == "view_personal"]
    assert len(after) == len(views) + 1 and after[-1].incident_id == "I0001"


def test_time_window_query_uses_an_index(store: IncidentStore, raw_sql) -> None:
    store.add_incidents([make_incident(i, GRID_A if i % 2 else GRID_B) for i in range(1, 301)])
    lo, hi = T0 + timedelta(hours=10), T0 + timedelta(hours=20)
    if backend(store) == "gpkg":
        from store._codec import iso_ms

        plan = raw_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM incidents i WHERE i.received_at >= "
            f"'{iso_ms(lo)}' AND i.received_at < '{iso_ms(hi)}' ORDER BY i.received_at"
        )
        assert any("incidents_received_at" in str(r[-1]) for r in plan), plan
    else:
        raw_sql("ANALYZE incidents")
        plan = raw_sql(
            "EXPLAIN SELECT id FROM incidents i WHERE i.received_at >= "
            f"'{lo.isoformat()}' AND i.received_at < '{hi.isoformat()}'"
        )
        assert any("incidents_received_at" in r[0] for r in plan), plan
    window = IncidentQuery(received_from=lo, received_to=hi)
    assert len(store.query_incidents(window, ALL)) == 10


# --- audit ---------------------------------------------------------------------------------


def test_every_change_is_audited_and_the_log_is_append_only(store: IncidentStore, raw_sql) -> None:
    inc = make_incident(1)
    store.add_incidents([inc, make_incident(2)], actor="ingest")
    store.append_event(event(inc, 2, "dispatch", 3), 1, ALL)
    store.audit("admin", "export", detail={"layers": ["incidents"], "rows": 2})
    log = store.audit_log()
    assert [(a.actor, a.action, a.incident_id) for a in log] == [
        ("ingest", "add", "I0001"),
        ("ingest", "add", "I0002"),
        ("dispatcher-1", "event", "I0001"),
        ("admin", "export", None),
    ]
    assert log[0].detail == {"source": "110", "source_id": "J33078400000001", "events": 1}
    assert log[2].detail == {"seq": 2, "action": "dispatch", "expected_version": 1}
    assert [a.seq for a in log] == sorted(a.seq for a in log)
    assert all(a.at.tzinfo is not None for a in log)
    assert [a.action for a in store.audit_log(incident_id="I0001")] == ["add", "event"]
    for statement in (
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "UPDATE events SET action = 'close'",
        "DELETE FROM events",
    ):
        with pytest.raises(Exception, match="append-only"):
            raw_sql(statement)
    assert store.audit_log() == log
    assert len(store.events("I0001", ALL)) == 2


def test_an_event_needs_a_stored_incident_which_is_never_deleted(
    store: IncidentStore, store_url: str, raw_sql
) -> None:
    store.add_incidents([make_incident(1)], actor="ingest")
    orphan = (
        "INSERT INTO events (incident_id, seq, action, at, actor) "
        "VALUES ('{}', {}, 'x', '2025-01-01T00:00:00Z', 'a')"
    )
    refused = "FOREIGN KEY|must belong to a stored incident"
    with pytest.raises(Exception, match=refused):
        raw_sql(orphan.format("I9999", 1))
    if store_url.startswith("postgresql://"):  # checked per statement: a COPY too
        import psycopg

        copy = "COPY events (incident_id, seq, action, at, actor) FROM STDIN"
        with (
            psycopg.connect(store_url) as conn,
            pytest.raises(Exception, match=refused),
            conn.cursor().copy(copy) as cp,
        ):
            cp.write_row(("I0001", 3, "x", "2025-01-01T00:00:00Z", "a"))
            cp.write_row(("I9999", 1, "x", "2025-01-01T00:00:00Z", "a"))
    for statement in (
        "DELETE FROM incidents",
        "UPDATE incidents SET id = 'I0002'",
    ):
        with pytest.raises(Exception, match="never deleted or renumbered"):
            raw_sql(statement)
    raw_sql(orphan.format("I0001", 2))  # the check passes an event whose incident is stored
    raw_sql("UPDATE incidents SET id = id, category = category")  # and any other update
    assert [e.seq for e in store.events("I0001", ALL)] == [1, 2]


# --- the demo's flat layer and the seed case -----------------------------------------------


def test_flat_incidents_layer_is_stored_as_events(store: IncidentStore, demo_town) -> None:
    from layers.demo.incidents import make_incidents

    flat, meta = make_incidents(demo_town, seed=7, n=300)
    store.write_layers({"incidents": flat})
    back = store.read_layer("incidents")
    assert len(back) == 300 and list(back["id"]) == list(flat["id"])
    for col in flat.columns.drop(["geometry", "caller_name", "caller_phone", "caller_id_number"]):
        ours, theirs = back[col].astype(object), flat[col].astype(object)
        assert list(ours.where(ours.notna(), None)) == list(theirs.where(theirs.notna(), None)), col
    assert back["caller_phone"].dropna().str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    assert back.geometry.geom_equals_exact(flat.geometry, 1e-9).all()
    seed = store.get_incident(meta["seed_case"]["id"], ALL)
    assert seed.status.state == State.CLOSED and seed.status.reopen_count == 1
    assert [e.action for e in seed.events] == [
        "receive",
        "dispatch",
        "arrive",
        "resolve",
        "callback",
        "resolve",
        "close",
    ]
    assert seed.events[3].data["commitments"][0]["amount"] == 7000.0


def test_seed_wage_case_event_by_event(store: IncidentStore) -> None:
    """7,000 yuan promised by 31 May; 3,000 paid at the 1 June callback → reopened → the rest
    promised and paid → closed 3 June. Every step is stored, re-read, and a stale copy of the
    step before is refused."""

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=CST)

    inc = make_incident(
        42,
        id="E0000042",
        category="wage",
        subcategory="拖欠工资",
        description="拖欠工资2个月约7000元",
        received_at=at("2026-05-25T10:12"),
        team_code=None,
    )
    store.add_incidents([inc], [Event(inc.id, 1, "receive", inc.received_at, "坐席01")])

    def promise(what: str, amount: float, due: str) -> dict[str, object]:
        return {"who": "某五金厂负责人", "what": what, "amount": amount, "due": due}

    may31, jun4 = "2026-05-31T00:00:00+08:00", "2026-06-04T00:00:00+08:00"
    first = [promise("第一笔工资", 3000.0, may31), promise("第二笔工资", 4000.0, may31)]
    checks = [{"index": 0, "kept": True, "paid": 3000.0}, {"index": 1, "kept": False, "paid": 0.0}]
    steps: list[tuple[str, str, dict[str, Any], str]] = [
        ("dispatch", "05-25T10:15", {"team_code": "T01", "department_code": "D07"}, "dispatched"),
        ("arrive", "05-25T10:23", {}, "on_scene"),
        ("resolve", "05-26T16:40", {"commitments": first}, "resolved"),
        ("queue_callback", "06-01T00:00", {}, "callback_due"),
        ("callback", "06-01T10:05", {"satisfaction": "不满意", "checks": checks}, "reopened"),
        (
            "resolve",
            "06-01T16:30",
            {"commitments": [promise("补足余款", 4000.0, jun4)]},
            "resolved",
        ),
        ("callback", "06-03T15:30", {"satisfaction": "满意", "kept": True}, "closed"),
    ]
    for seq, (action, when, data, state) in enumerate(steps, start=2):
        e = Event(inc.id, seq, action, at(f"2026-{when}"), "坐席01", data=data)
        if seq > 2:
            with pytest.raises(StaleVersion):
                store.append_event(e, seq - 2, ALL)
        status = store.append_event(e, seq - 1, ALL)
        assert (status.state, status.version) == (State(state), seq)
        rec = store.get_incident(inc.id, ALL)  # masked: the committer is a name (某某)
        assert rec.status == mask_status(status) and rec.events[-1] == mask_event(e)
        row = store.query_incidents(IncidentQuery(categories=("wage",)), ALL).iloc[0]
        assert (row["state"], row["version"]) == (state, seq)
    s = store.get_incident(inc.id, ALL).status
    assert [c.status for c in s.commitments] == ["kept", "broken", "kept"]
    assert sum(c.paid or 0 for c in s.commitments) == 3000
    assert (s.reopen_count, s.satisfaction, s.last_satisfaction) == (1, "不满意", "满意")
    assert s.closed_at == at("2026-06-03T15:30") and s.version == 8
    row = store.query_incidents(IncidentQuery(states=("closed",)), ALL).iloc[0]
    assert row["resolved_at"] == pd.Timestamp(at("2026-05-26T16:40"))  # first resolution
    assert row["closed_at"] == pd.Timestamp(at("2026-06-03T15:30"))
    assert (row["commitment_amount"], row["commitment_kept"], row["reopened"]) == (
        3000.0,
        True,
        True,
    )
    assert (row["satisfaction"], row["team_code"], row["department_code"]) == (
        "不满意",
        "T01",
        "D07",
    )
    with pytest.raises(IllegalTransition):
        store.append_event(Event(inc.id, 9, "arrive", at("2026-06-03T16:00"), "坐席01"), 8, ALL)
    assert [a.action for a in store.audit_log(incident_id=inc.id)] == ["add"] + ["event"] * 7
