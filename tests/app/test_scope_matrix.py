"""Who sees what, every role × every way in (issue #7): the incident page URL, the JSON API
(one incident and the list) and forged Dash callbacks with a valid CSRF token carrying another
area's incident id. Outside the scope: 404, or a callback answer without the incident; inside:
200. And no response to an analyst holds an unmasked phone number."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash import Dash
from flask.testing import FlaskClient

from app.auth.roles import ROLES as ROLES_BY_NAME
from app.config import Settings
from app.server import create_app
from tests.app import test_console_world as world
from tests.app.test_console_world import (
    ACCOUNTS,
    PHONE_A,
    PHONE_B,
    PHONE_LOW,
    TOWN_ROLES,
    A,
    B,
    callback,
    callback_key,
    login,
)

# The world's fixtures, shared with the other console tests.
world_path = world.world_path

ROLES = tuple(ACCOUNTS)
PHONES = (PHONE_A, PHONE_B, PHONE_LOW)


@pytest.fixture(scope="module")
def world_app(world_path: Path) -> Dash:
    app = create_app(Settings(db=str(world_path)).validate())
    app.server.extensions["ember_test_app"] = app
    return app


def _client(app: Dash, role: str) -> FlaskClient:
    return login(app.server.test_client(), role)


def _inside(role: str, incident_id: str) -> bool:
    return incident_id == A or role in TOWN_ROLES


def _router(client: FlaskClient, path: str) -> str:
    """The router callback for ``path``, as a forged POST."""
    inputs = [{"id": "ember-url", "property": "pathname", "value": path}]
    state = [{"id": "ember-url", "property": "search", "value": ""}]
    response = callback(client, "ember-page.children", inputs, state)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _unmask(client: FlaskClient, incident_id: str) -> tuple[int, str]:
    inputs = [{"id": "incident-unmask", "property": "n_clicks", "value": 1}]
    state = [
        {"id": "incident-id", "property": "data", "value": incident_id},
        {"id": "incident-lang", "property": "data", "value": "zh"},
    ]
    response = callback(client, "incident-parties.children", inputs, state)
    return response.status_code, response.get_data(as_text=True)


def _console_detail(client: FlaskClient, incident_id: str) -> str:
    app = client.application.extensions["ember_test_app"]
    inputs = [
        {"id": "console-selected", "property": "data", "value": incident_id},
        {"id": "console-changed", "property": "data", "value": 0},
    ]
    state = [{"id": "console-lang", "property": "data", "value": "zh"}]
    response = callback(client, callback_key(app, "console-detail.children"), inputs, state)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_page_url(world_app: Dash, role: str) -> None:
    client = _client(world_app, role)
    for iid in (A, B):
        for path in (f"/incidents/{iid}", f"/incidents/{iid}/"):
            response = client.get(path, headers={"Accept": "text/html"})
            expected = 403 if role == "wall" else 200 if _inside(role, iid) else 404
            assert response.status_code == expected, (role, path)
        if not _inside(role, iid):
            assert f"MARK-{iid}" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_json_api(world_app: Dash, role: str) -> None:
    client = _client(world_app, role)
    if role == "wall":  # the wall account reaches the wall only
        assert client.get(f"/api/incidents/{A}").status_code == 403
        assert client.get("/api/incidents").status_code == 403
        return
    for iid in (A, B):
        response = client.get(f"/api/incidents/{iid}")
        text = response.get_data(as_text=True)
        if _inside(role, iid):
            assert response.status_code == 200 and response.get_json()["id"] == iid, role
        else:
            assert response.status_code == 404, (role, iid)
            assert f"MARK-{iid}" not in text and PHONE_B not in text
    listed = {item["id"] for item in client.get("/api/incidents").get_json()["items"]}
    assert A in listed and (B in listed) == (role in TOWN_ROLES), role


@pytest.mark.parametrize("role", ROLES)
def test_forged_router_callback(world_app: Dash, role: str) -> None:
    client = _client(world_app, role)
    for iid in (A, B):
        text = _router(client, f"/incidents/{iid}")
        if _inside(role, iid):
            assert f'"data":"{iid}"' in text.replace(" ", ""), role  # the page's incident-id
        else:
            assert f"MARK-{iid}" not in text and f'"data":"{iid}"' not in text.replace(" ", "")
            assert PHONE_B[-4:] not in text, role


@pytest.mark.parametrize("role", ROLES)
def test_forged_unmask_callback(world_app: Dash, role: str) -> None:
    client = _client(world_app, role)
    status, text = _unmask(client, B)
    if _inside(role, B) and ROLES_BY_NAME[role].may_unmask:
        assert status == 200 and PHONE_B in text  # shown in full, audited (test_incident_page)
    else:
        assert PHONE_B not in text and "陈大文" not in text, role
        assert status != 200 or "不在您的权限范围内" in text or "无权" in text, role


@pytest.mark.parametrize("role", ROLES)
def test_forged_console_callback(world_app: Dash, role: str) -> None:
    client = _client(world_app, role)
    text = _console_detail(client, B)
    if role in ("dispatcher", "commander", "admin"):
        assert f"MARK-{B}" in text  # the console's roles see the whole town
    else:
        assert f"MARK-{B}" not in text and B not in text, role


def test_anonymous_gets_nothing(world_app: Dash) -> None:
    client = world_app.server.test_client()
    page = client.get(f"/incidents/{A}", headers={"Accept": "text/html"})
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get(f"/api/incidents/{A}").status_code == 401
    assert client.get("/api/incidents").status_code == 401
    client.get("/login")
    inputs = [{"id": "ember-url", "property": "pathname", "value": f"/incidents/{A}"}]
    state = [{"id": "ember-url", "property": "search", "value": ""}]
    forged = callback(client, "ember-page.children", inputs, state)  # the sign-in gate: 401
    assert forged.status_code == 401 and f"MARK-{A}" not in forged.get_data(as_text=True)


def test_analyst_never_gets_an_unmasked_phone(world_app: Dash) -> None:
    client = _client(world_app, "analyst")
    texts = []
    for iid in (A, B):
        texts.append(client.get(f"/incidents/{iid}").get_data(as_text=True))
        texts.append(client.get(f"/api/incidents/{iid}").get_data(as_text=True))
        forced = client.get(f"/api/incidents/{iid}?unmask=1")
        assert forced.status_code == 403
        texts.append(forced.get_data(as_text=True))
        texts.append(_router(client, f"/incidents/{iid}"))
        texts.append(_unmask(client, iid)[1])
        texts.append(_console_detail(client, iid))
    texts.append(client.get("/api/incidents").get_data(as_text=True))
    texts.append(client.get("/console").get_data(as_text=True))
    texts.append(_router(client, "/console"))
    body = "\n".join(texts)
    assert f"MARK-{A}" in body  # the analyst did see the incidents, masked
    for phone in PHONES:
        assert phone not in body
    assert "138****" in body or "139****5678" in body


def _wall_drawer(client: FlaskClient, incident_id: str) -> str:
    app = client.application.extensions["ember_test_app"]
    inputs = [{"id": "wall-selected", "property": "data", "value": incident_id}]
    state = [
        {"id": "wall-cut", "property": "data", "value": None},
        {"id": "wall-i18n", "property": "data", "value": {"lang": "zh"}},
    ]
    response = callback(client, callback_key(app, "wall-drawer.children"), inputs, state)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["grid", "police"])
def test_forged_wall_drawer_callback(world_app: Dash, role: str) -> None:
    text = _wall_drawer(_client(world_app, role), B)
    assert f"MARK-{B}" not in text and "西溪社区2号" not in text, role


@pytest.mark.parametrize("role", ROLES)
def test_wall_only_for_whole_town_roles(world_app: Dash, role: str) -> None:
    """The wall reads the whole town: area and source roles are sent home (officers to /me)
    or refused, by URL, by its history layer and by a forged router callback."""
    client = _client(world_app, role)
    page = client.get("/")
    history = client.get("/wall/history.geojson?window=year")
    inputs = [{"id": "ember-url", "property": "pathname", "value": "/"}]
    state = [{"id": "ember-url", "property": "search", "value": ""}]
    router = callback(client, "ember-page.children", inputs, state)
    if ROLES_BY_NAME[role].area_field is None and ROLES_BY_NAME[role].sources is None:
        assert page.status_code == 200 and history.status_code in (200, 304), role
        assert router.status_code == 200
    else:
        assert page.status_code in (302, 403), role
        if page.status_code == 302:
            assert page.headers["Location"].endswith("/me")
        assert history.status_code == 403 and router.status_code == 403, role


def test_the_wall_account_reaches_the_wall_only(world_app: Dash) -> None:
    """A wall PC's account: the wall and its data, but no incident page, API or export."""
    client = _client(world_app, "wall")
    assert client.get("/").status_code == 200
    assert client.get("/wall/history.geojson?window=year").status_code in (200, 304)
    paths = (f"/incidents/{A}", "/api/incidents", f"/api/incidents/{A}", "/console",
             "/export/incidents.geojson", "/reports", "/ogc/collections")  # fmt: skip
    for path in paths:
        assert client.get(path).status_code == 403, path
