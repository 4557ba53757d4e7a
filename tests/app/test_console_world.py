"""A small world for the console, incident page and scope-matrix tests: the tiny town with
teams and departments, five incidents in two areas, and one account per role.

Incident A (110, grid 001001, beat JG01, station XF01, team T01, department D01) is inside every
area account's scope; incident B (12345, another grid, beat, station, team and department) is
outside all of them and outside the police liaison's (110 only). Both carry a phone number and a
marker word in their description, so a response can be searched for either.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dash import Dash
from flask.testing import FlaskClient

from app.auth.passwords import hash_password
from app.auth.session import CSRF_COOKIE
from app.config import Settings
from app.server import create_app
from incidents.model import Event, Incident, Party
from store import GeoPackageStore

PASSWORD = "correct horse 42"
NOW = datetime.now(UTC).replace(microsecond=0)
A, B, LOW, LATE, REPEAT = "E0000001", "E0000002", "E0000003", "E0000004", "E0000005"
PHONE_A, PHONE_B, PHONE_LOW = "13912345678", "13787654321", "15855550000"
GRID_A, GRID_B = "330784199001001", "330784199002002"
#: role -> areas of its account (None: the role takes none).
ACCOUNTS: dict[str, list[str]] = {
    "admin": [],
    "commander": [],
    "dispatcher": [],
    "callback": [],
    "team": ["T01"],
    "grid": [GRID_A],
    "beat": ["JG01"],
    "station": ["XF01"],
    "department": ["D01"],
    "police": [],
    "analyst": [],
    "wall": [],
}
#: Roles that see the whole town (B too).
TOWN_ROLES = frozenset({"admin", "commander", "dispatcher", "callback", "analyst", "wall"})


def _incident(iid: str, n: int, **kw: Any) -> Incident:
    base: dict[str, Any] = {
        "id": iid,
        "source": "110",
        "source_id": f"SRC{n}",
        "received_at": NOW - timedelta(hours=n),
        "category": "wage",
        "description": f"MARK-{iid} 工资拖欠",
        "address": "东山村1号",
        "lon": 120.01,
        "lat": 30.005,
        "geocode_level": "house",
        "geocode_confidence": 1.0,
        "grid_code": GRID_A,
        "village_code": "330784199001",
        "beat_code": "JG01",
        "station_code": "XF01",
        "team_code": "T01",
        "department_code": "D01",
    }
    base.update(kw)
    return Incident(**base)


def incidents() -> tuple[list[Incident], list[Event]]:
    """The five incidents; LATE has been dispatched and on scene for days (overdue)."""
    a = _incident(A, 1, parties=(Party("罗小明", PHONE_A, residency="migrant"),))
    b = _incident(
        B,
        2,
        source="12345",
        lon=120.03,
        lat=30.015,
        grid_code=GRID_B,
        village_code="330784199002",
        beat_code="JG02",
        station_code="XF02",
        team_code="T02",
        department_code="D02",
        parties=(Party("陈大文", PHONE_B),),
        address="西溪社区2号",
    )
    low = _incident(
        LOW,
        3,
        geocode_level="village",
        geocode_confidence=0.45,
        team_code=None,
        department_code=None,
        parties=(Party("王五", PHONE_LOW),),
        category="noise",
    )
    late_at = NOW - timedelta(days=5)
    late = _incident(LATE, 4, received_at=late_at, category="noise", team_code=None)
    rep = _incident(REPEAT, 5, related=(A,), category="wage")
    events = [
        Event(LATE, 1, "receive", late_at, "test"),
        Event(
            LATE, 2, "dispatch", late_at + timedelta(minutes=3), "test", data={"team_code": "T01"}
        ),
        Event(LATE, 3, "arrive", late_at + timedelta(minutes=12), "test"),
    ]
    return [a, b, low, late, rep], events


def build_world(path: Path, town: dict[str, Any]) -> Path:
    """Write the world's store to ``path`` and return it."""
    store = GeoPackageStore(path)
    frames = dict(town)
    frames["teams"] = pd.DataFrame(
        {
            "code": ["T01", "T02"],
            "name": ["第1处置队", "第2处置队"],
            "beat_code": ["JG01", "JG02"],
            "phone": ["0579-1", "0579-2"],
        }
    )
    frames["departments"] = pd.DataFrame(
        {"code": ["D01", "D02"], "name": ["劳动保障所", "执法中队"]}
    )
    store.write_layers(frames)
    found, events = incidents()
    store.add_incidents(found, events, actor="test")
    hashed = hash_password(PASSWORD)
    for role, areas in ACCOUNTS.items():
        store.user_add(f"u_{role}", role, areas, hashed, actor="test")
    store.close()
    return path


@pytest.fixture(scope="module")
def world_path(tmp_path_factory: pytest.TempPathFactory, town_frames: dict) -> Path:
    return build_world(tmp_path_factory.mktemp("world") / "ember.gpkg", town_frames)


@pytest.fixture
def fresh_world(tmp_path: Path, world_path: Path) -> Iterator[Dash]:
    """An app on a private copy of the world (tests that write)."""
    path = tmp_path / "ember.gpkg"
    shutil.copy(world_path, path)
    yield create_app(Settings(db=str(path)).validate())


def login(client: FlaskClient, role: str) -> FlaskClient:
    """Sign ``client`` in as the account of ``role`` through the /login form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    form = {"username": f"u_{role}", "password": PASSWORD, "csrf_token": token.group(1)}
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def callback(
    client: FlaskClient,
    output: str,
    inputs: list,
    state: list | None = None,
    changed: str | None = None,
) -> Any:
    """POST one Dash callback with the session's CSRF token (as dash-renderer does).

    ``output`` is the callback's key in ``app.callback_map`` (``..a.b...c.d..`` for several);
    ``changed`` the input that triggered it (``id.property``; default the first input).
    """
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    outputs = [dict(zip(("id", "property"), o.split(".", 1), strict=True)) for o in parts]
    body = {
        "output": output,
        "outputs": outputs if output.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }
    token = client.get_cookie(CSRF_COOKIE)
    assert token is not None
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})


def callback_key(app: Dash, first_output: str) -> str:
    """The ``callback_map`` key of the callback whose first output is ``first_output``."""
    keys = [k for k in app.callback_map if k.strip(".").startswith(first_output)]
    assert len(keys) == 1, keys
    return keys[0]


def test_world_has_one_account_per_role(world_path: Path) -> None:
    store = GeoPackageStore(world_path)
    assert sorted(u.role for u in store.user_list()) == sorted(ACCOUNTS)
    store.close()
