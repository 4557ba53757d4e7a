"""Queries the map wall relies on, on every backend: ``IncidentQuery.changed_since`` (live
deltas: incidents whose latest event is later than a time)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import IncidentQuery, IncidentStore, Scope
from tests.store.conftest import GRID_B, T0, event, make_incident

ALL = Scope.everything("wall")


def test_changed_since_finds_new_and_changed_incidents(store: IncidentStore) -> None:
    old, moved, new = make_incident(1), make_incident(2), make_incident(30, GRID_B)
    store.add_incidents([old, moved, new])
    # ``moved`` was received early but gets an event late: it has changed since T0 + 20 h.
    store.append_event(event(moved, 2, "dispatch", 25 * 60), 1, ALL)
    since = T0 + timedelta(hours=20)
    found = store.query_incidents(IncidentQuery(changed_since=since), ALL)
    assert sorted(found["id"]) == [moved.id, new.id]
    assert dict(zip(found["id"], found["version"], strict=True)) == {moved.id: 2, new.id: 1}
    # Combined with the other filters and the scope, like any query.
    in_b = store.query_incidents(IncidentQuery(changed_since=since, grid_codes=(GRID_B,)), ALL)
    assert list(in_b["id"]) == [new.id]
    assert store.query_incidents(IncidentQuery(changed_since=since), Scope()).empty
    later = store.query_incidents(IncidentQuery(changed_since=T0 + timedelta(days=30)), ALL)
    assert later.empty
    assert all(not str(n).startswith("罗小") for n in found["caller_name"])  # still masked


def test_changed_since_must_be_aware() -> None:
    with pytest.raises(ValueError):
        IncidentQuery(changed_since=T0.replace(tzinfo=None))
