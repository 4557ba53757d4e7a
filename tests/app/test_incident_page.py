"""The incident page /incidents/<id> and its JSON twin: timeline, trinity people, related and
nearby incidents, audit; masked by default, unmasked only on request and then audited."""

from __future__ import annotations

from dash import Dash

from app.server import page_layout
from tests.app import test_console_world as world
from tests.app.test_console_world import (
    LATE,
    PHONE_A,
    REPEAT,
    A,
    callback,
    login,
)

# The world's fixtures, shared with the other console tests.
fresh_world = world.fresh_world
world_path = world.world_path


def _unmask(client, iid: str):  # type: ignore[no-untyped-def]
    inputs = [{"id": "incident-unmask", "property": "n_clicks", "value": 1}]
    state = [
        {"id": "incident-id", "property": "data", "value": iid},
        {"id": "incident-lang", "property": "data", "value": "zh"},
    ]
    return callback(client, "incident-parties.children", inputs, state)


def test_json_detail_is_masked_with_timeline_trinity_and_links(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "dispatcher")
    body = client.get(f"/api/incidents/{A}").get_json()
    assert body["masked"] and body["parties"][0]["phone"] == "139****5678"
    assert body["parties"][0]["name"] == "罗某" and PHONE_A not in str(body)
    assert [e["action"] for e in body["timeline"]] == ["receive"]
    tr = body["trinity"]
    assert tr["grid"]["unit"] == "东山村第1网格" and tr["grid"]["phone"] == "138****0000"
    assert tr["beat"]["name"] == "李某" and tr["team"] == ["T01", "第1处置队"]
    assert tr["department"] == ["D01", "劳动保障所"] and tr["station"]["code"] == "XF01"
    assert REPEAT in [r["id"] for r in body["nearby"]] and body["related"] == []
    assert "audit" in body
    linked = client.get(f"/api/incidents/{REPEAT}").get_json()["related"]
    assert [r["id"] for r in linked] == [A]
    grid = login(fresh_world.server.test_client(), "grid")
    assert grid.get(f"/api/incidents/{REPEAT}").get_json()["related"][0]["id"] == A


def test_unmask_is_explicit_and_audited(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "dispatcher")
    full = client.get(f"/api/incidents/{A}?unmask=1").get_json()
    assert full["parties"][0]["phone"] == PHONE_A and not full["masked"]
    client.get(f"/incidents/{A}")
    response = _unmask(client, A)
    assert response.status_code == 200 and PHONE_A in response.get_data(as_text=True)
    from app.components.console_directory import store_of

    db = fresh_world.server.extensions["ember_auth"].settings.db
    views = [e for e in store_of(db).audit_log(incident_id=A) if e.action == "view_personal"]
    assert [e.actor for e in views] == ["u_dispatcher", "u_dispatcher"]
    station = login(fresh_world.server.test_client(), "station")
    assert station.get(f"/api/incidents/{A}?unmask=1").status_code == 403
    refused = _unmask(station, A).get_data(as_text=True)
    assert PHONE_A not in refused and "无权查看个人信息" in refused


def test_page_layout_in_both_languages(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "grid")
    with fresh_world.server.test_request_context():
        from flask_login import login_user

        from app.auth.session import AuthUser
        from app.components.console_directory import store_of

        db = fresh_world.server.extensions["ember_auth"].settings.db
        user, hashed = store_of(db).user_credentials("u_grid")
        login_user(AuthUser(user, hashed))
        zh = str(page_layout(fresh_world, f"/incidents/{LATE}"))
        en = str(page_layout(fresh_world, f"/incidents/{LATE}", "?lang=en"))
    assert "处置时间线" in zh and "到场" in zh and "incident-map" in zh
    assert "Timeline" in en and "On scene" in en
    assert "查看完整信息" in zh  # a grid officer may unmask
    assert "操作留痕" not in zh  # ... but sees no audit lines
    assert client.get(f"/incidents/{LATE}").status_code == 200


def test_police_sees_status_only(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "police")
    body = client.get(f"/api/incidents/{A}").get_json()
    assert body["state"] == "received" and "parties" not in body and "description" not in body
    assert all(e["reason"] == "" for e in body["timeline"])
    assert "MARK" not in str(body)


def _links(component: object) -> dict[str, str]:
    """href -> text of the links under ``component`` (from its repr)."""
    import re

    found = re.findall(r"Link\(children='([^']*)', href='([^']*)'\)", str(component))
    return {href: text for text, href in found}


def test_header_links_each_role_to_its_own_page_in_its_language() -> None:
    from app.components import incident_panels as ip

    body = {"id": "X1", "category": "wage", "state": "received"}
    for role in ("dispatcher", "commander", "admin"):
        assert _links(ip.header(body, "u", "en", role))["/console?lang=en"] == "Dispatcher console"
    for role, href, text in (
        ("team", "/me?lang=en", "My tasks"),
        ("grid", "/me?lang=en", "My area"),
        ("analyst", "/reports?lang=en", "Reports"),
        ("callback", "/callbacks?lang=en", "Callbacks"),
        ("wall", None, None),
    ):
        links = _links(ip.header(body, "u", "en", role))
        assert not any(h.startswith("/console") for h in links), role
        if href:
            assert links[href] == text
    assert "/me?lang=zh" in _links(ip.header(body, "u", "zh", "team"))


def test_page_header_of_a_grid_officer_links_its_own_page(fresh_world: Dash) -> None:
    with fresh_world.server.test_request_context():
        from flask_login import login_user

        from app.auth.session import AuthUser
        from app.components.console_directory import store_of

        db = fresh_world.server.extensions["ember_auth"].settings.db
        user, hashed = store_of(db).user_credentials("u_grid")
        login_user(AuthUser(user, hashed))
        en = str(page_layout(fresh_world, f"/incidents/{LATE}", "?lang=en"))
    assert "/me?lang=en" in en and "'/console'" not in en and "/console?" not in en


def test_facts_name_the_geocode_level_team_and_department(fresh_world: Dash) -> None:
    from app.components import incident_panels as ip

    client = login(fresh_world.server.test_client(), "dispatcher")
    body = client.get(f"/api/incidents/{A}").get_json()
    assert (body["team_name"], body["department_name"]) == ("第1处置队", "劳动保障所")
    zh, en = str(ip.facts(body, "zh")), str(ip.facts(body, "en"))
    assert "门牌 · 可信度 100%" in zh and "House number · confidence 100%" in en
    assert "第1处置队 (T01)" in zh and "劳动保障所 (D01)" in zh
    assert "house (1.00)" not in zh and "'T01'" not in zh and "'D01'" not in zh
    for level, words in (("road", "道路"), ("group", "村民小组"), ("poi", "地标")):
        assert words in str(ip.facts({**body, "geocode_level": level}, "zh"))
    manual = str(ip.facts({**body, "geocode_level": "manual", "geocode_confidence": None}, "en"))
    assert "Placed by hand" in manual and "manual" not in manual
