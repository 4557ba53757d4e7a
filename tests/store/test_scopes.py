"""Every role's scope, enforced by the store on every backend (issue #7).

Incident A is in grid cell A (team T01, beat J01, station X01, department D01, from 110);
incident B in grid cell B (T02, J02, X02, D02, from 12345). An account responsible for A's area
finds A and gets :class:`IncidentNotFound` (404) for B, however it asks; personal data is
masked unless a role that may see it unmasks, which is audited.
"""

from __future__ import annotations

import pytest

from app.auth.roles import ROLES, Forbidden, RoleError, check_areas, scope_for, user_scope
from incidents.model import Incident
from store import IncidentNotFound, IncidentQuery, IncidentStore, ReadOnlyScope, User
from tests.store.conftest import GRID_A, GRID_B, event, make_incident

#: The area codes of an account responsible for incident A, per role with an area.
AREAS_A = {
    "team": ["T01"],
    "grid": [GRID_A],
    "beat": ["330784199J01"],
    "station": ["330784199X01"],
    "department": ["D01"],
}
#: Roles that see the whole town (both incidents).
TOWN = ("admin", "commander", "dispatcher", "callback", "analyst", "wall")
UNMASK = {"commander", "dispatcher", "callback", "team", "grid", "beat", "department"}


@pytest.fixture
def town(store: IncidentStore) -> tuple[Incident, Incident]:
    a = make_incident(1, GRID_A, department_code="D01")
    b = make_incident(2, GRID_B, source="12345", station_code="330784199X02", department_code="D02")
    store.add_incidents([a, b])
    return a, b


def _areas(role: str) -> list[str]:
    return AREAS_A.get(role, [])


def test_every_role_is_covered() -> None:
    assert set(ROLES) == {*TOWN, *AREAS_A, "police"}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_scope_of_every_role(
    store: IncidentStore, town: tuple[Incident, Incident], role: str
) -> None:
    a, b = town
    scope = scope_for(role, _areas(role), f"{role}-1")
    visible = {a.id, b.id} if role in TOWN else {a.id}
    hidden = {a.id, b.id} - visible
    found = store.query_incidents(IncidentQuery(), scope)
    assert set(found["id"]) == visible
    for inc_id in visible:
        assert store.get_incident(inc_id, scope).incident.id == inc_id
        assert len(store.events(inc_id, scope)) == 1
    for inc_id in hidden:  # by id, by event list, by a forged action: all "not found"
        with pytest.raises(IncidentNotFound):
            store.get_incident(inc_id, scope)
        with pytest.raises(IncidentNotFound):
            store.events(inc_id, scope)
        with pytest.raises(IncidentNotFound):
            store.append_event(event(b, 2, "dispatch", 3), 1, scope)
        assert inc_id not in set(store.query_incidents(IncidentQuery(limit=10), scope)["id"])


@pytest.mark.parametrize("role", sorted(ROLES))
def test_personal_data_masked_for_every_role(
    store: IncidentStore, town: tuple[Incident, Incident], role: str
) -> None:
    a, _ = town
    scope = scope_for(role, _areas(role), f"{role}-1")
    party = store.get_incident(a.id, scope).incident.parties[0]
    assert party.phone != "13812345678" and "****" in (party.phone or "")
    assert party.name != "罗小明"
    rows = store.query_incidents(IncidentQuery(), scope).to_dict("records")
    assert "13812345678" not in repr(rows) and "罗小明" not in repr(rows)
    if role not in UNMASK:
        with pytest.raises(Forbidden):
            scope_for(role, _areas(role), f"{role}-1", unmask=True)
        return
    unmasked = scope_for(role, _areas(role), f"{role}-1", unmask=True)
    assert store.get_incident(a.id, unmasked).incident.parties[0].phone == "13812345678"
    views = [e for e in store.audit_log(incident_id=a.id) if e.action == "view_personal"]
    assert [v.actor for v in views] == [f"{role}-1"]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_who_may_act(store: IncidentStore, town: tuple[Incident, Incident], role: str) -> None:
    a, _ = town
    scope = scope_for(role, _areas(role), f"{role}-1")
    dispatch = event(a, 2, "dispatch", 3)
    if ROLES[role].read_only:
        with pytest.raises(ReadOnlyScope):
            store.append_event(dispatch, 1, scope)
        assert store.get_incident(a.id, scope).status.version == 1
    else:
        assert store.append_event(dispatch, 1, scope).version == 2


def test_police_sees_only_110_transfers(store: IncidentStore, town: tuple[Incident, ...]) -> None:
    scope = scope_for("police", [], "pcs-1")
    assert scope.sources == ("110",) and scope.all and scope.read_only
    assert list(store.query_incidents(IncidentQuery(), scope)["source"]) == ["110"]


def test_area_roles_without_areas_see_nothing(
    store: IncidentStore, town: tuple[Incident, ...]
) -> None:
    for role in AREAS_A:
        assert store.query_incidents(IncidentQuery(), scope_for(role, [], "x")).empty


def test_disabled_account_sees_nothing(store: IncidentStore, town: tuple[Incident, ...]) -> None:
    user = User("gone", "commander", disabled=True)
    assert store.query_incidents(IncidentQuery(), user_scope(user)).empty


def test_check_areas() -> None:
    assert check_areas("grid", ["G1", "G2", "G1"]) == ("G1", "G2")
    assert check_areas("analyst", []) == ()
    for role, areas, message in (
        ("grid", [], "needs at least one"),
        ("analyst", ["G1"], "takes no --area"),
        ("grid", ["G 1"], "invalid area"),
        ("chief", [], "unknown role"),
    ):
        with pytest.raises(RoleError, match=message):
            check_areas(role, areas)
