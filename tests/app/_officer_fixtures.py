"""Shared set-up of the officer, callback and report tests: a tiny town with a few incidents
and one account per role, served by the real app (``create_app``)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from app.auth.passwords import hash_password
from incidents.model import Event, Incident, Party
from store import GeoPackageStore, IncidentStore, Scope

PASSWORD = "correct horse 42"
GRID_A, GRID_B = "330784199001001", "330784199002001"
#: Incident id -> (grid cell, lon, lat).
PLACES = {
    "E-A1": (GRID_A, 120.005, 30.005),
    "E-A2": (GRID_A, 120.006, 30.006),
    "E-B1": (GRID_B, 120.025, 30.005),
}
ACCOUNTS = {
    "wang": ("grid", [GRID_A]),
    "li": ("grid", [GRID_B]),
    "team1": ("team", ["T01"]),
    "hui": ("callback", []),
    "boss": ("commander", []),
    "ana": ("analyst", []),
}
ALL = Scope.everything("test")
#: The caller of E-A1 (personal data: shown masked unless unmasked, which is audited).
CALLER = Party(name="罗大明", phone="13812345678", residency="migrant")


def build_store(town_gpkg: Path, tmp: Path, now: datetime | None = None) -> IncidentStore:
    """A copy of the tiny town with three dispatched incidents and the accounts."""
    path = tmp / "ember.gpkg"
    shutil.copy(town_gpkg, path)
    store = GeoPackageStore(path)
    t0 = (now or datetime.now(UTC)) - timedelta(hours=2)
    incidents = [
        Incident(
            id=iid, source="patrol", source_id=iid, received_at=t0, category="wage",
            description="欠薪", address=f"测试路{n}号", lon=lon, lat=lat, grid_code=grid,
            village_code=grid[:12], beat_code="JG01", parties=(CALLER,) if iid == "E-A1" else (),
        )
        for n, (iid, (grid, lon, lat)) in enumerate(PLACES.items(), start=1)
    ]  # fmt: skip
    store.add_incidents(incidents, actor="test")
    for iid in PLACES:
        ev = Event(iid, 2, "dispatch", t0 + timedelta(minutes=3), "test", data={"team_code": "T01"})
        store.append_event(ev, 1, ALL)
    for name, (role, areas) in ACCOUNTS.items():
        store.user_add(name, role, areas, hash_password(PASSWORD), actor="test")
    return store


def login(client: FlaskClient, username: str) -> Any:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    data = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def render(client: FlaskClient, path: str, search: str = "", status: int = 200) -> str:
    """The page at ``path`` as the app's router callback renders it (JSON text); ``status``:
    the answer expected (401 when nobody is signed in: the sign-in gate)."""
    client.get("/login")
    token = client.get_cookie("_csrf_token")
    assert token is not None
    body = {
        "output": "ember-page.children",
        "outputs": {"id": "ember-page", "property": "children"},
        "inputs": [{"id": "ember-url", "property": "pathname", "value": path}],
        "state": [{"id": "ember-url", "property": "search", "value": search}],
        "changedPropIds": ["ember-url.pathname"],
    }
    got = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    assert got.status_code == status, got.get_data(as_text=True)
    return got.get_data(as_text=True)


def jpeg(n: int = 64) -> bytes:
    """A tiny byte string that sniffs as JPEG (its content is never decoded)."""
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * (n // 256 + 1)
