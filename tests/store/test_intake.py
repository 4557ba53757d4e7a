"""The ``intake`` column keeps, of what an incident was received with, only what its status
columns no longer hold (``store._codec.intake_json``); the incident reads back as received
from rows of either form — on every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from store import IncidentStore, Scope
from store._codec import from_json, iso_ms, to_json
from tests.store.conftest import event, make_incident

ALL = Scope.everything("tester")
PERSONAL = Scope.everything("clerk-7", personal_data=True)
Raw = Callable[[str], list[tuple[Any, ...]]]


def _intake(raw_sql: Raw, incident_id: str) -> dict[str, Any]:
    (value,) = raw_sql(f"SELECT intake FROM incidents WHERE id = '{incident_id}'")[0]
    found = from_json(value)
    assert isinstance(found, dict)
    return found


def test_intake_keeps_only_what_the_status_changed(store: IncidentStore, raw_sql: Raw) -> None:
    inc = make_incident(1)
    store.add_incidents([inc])
    assert _intake(raw_sql, inc.id) == {}  # the columns hold it all

    store.append_event(event(inc, 2, "dispatch", 3, team_code="T09"), 1, ALL)
    assert _intake(raw_sql, inc.id) == {"team_code": "T01"}

    moved = {"lon": inc.lon + 0.001, "lat": inc.lat, "geocode_level": "manual"}
    store.append_event(
        event(inc, 3, "amend", 5, category="wage", description="改", **moved), 2, ALL
    )
    assert _intake(raw_sql, inc.id) == {
        "category": "neighbour",
        "team_code": "T01",
        "description": inc.description,
        "geocode_level": "door",
        "lon": inc.lon,
    }
    rec = store.get_incident(inc.id, PERSONAL)
    assert rec.incident == inc
    assert (rec.status.category, rec.status.team_code, rec.status.lon) == (
        "wage",
        "T09",
        moved["lon"],
    )

    store.append_event(event(inc, 4, "amend", 6, category="neighbour"), 3, ALL)  # back again
    assert "category" not in _intake(raw_sql, inc.id)
    assert store.get_incident(inc.id, PERSONAL).incident == inc


def test_rows_keeping_every_intake_key_read_back_the_same(
    store: IncidentStore, raw_sql: Raw
) -> None:
    """Rows written before 2026-12-04 keep every key, whatever the columns hold."""
    inc = make_incident(2)
    store.add_incidents([inc])
    store.append_event(event(inc, 2, "dispatch", 3, team_code="T09"), 1, ALL)
    keys = ("category", "subcategory", "priority", "grid_code", "village_code", "beat_code",
            "station_code", "team_code", "department_code", "address", "description",
            "geocode_level", "geocode_confidence", "lon", "lat")  # fmt: skip
    every = {k: getattr(inc, k) for k in keys}
    every.update(related=list(inc.related), deadline=inc.deadline and iso_ms(inc.deadline))
    text = to_json(every).replace("'", "''")
    raw_sql(f"UPDATE incidents SET intake = '{text}' WHERE id = '{inc.id}'")
    rec = store.get_incident(inc.id, PERSONAL)
    assert rec.incident == inc and rec.status.team_code == "T09"
