"""The three views rendered by the app's router, per role and language; personal data masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import officer_actions as actions
from app.auth import scope_for
from app.config import Settings
from app.server import create_app
from store import IncidentStore
from tests.app._officer_fixtures import CALLER, GRID_A, build_store, login, render

PHONE = str(CALLER.phone)


@pytest.fixture
def store(town_gpkg: Path, tmp_path: Path) -> Iterator[IncidentStore]:
    s = build_store(town_gpkg, tmp_path)
    officer = scope_for("grid", [GRID_A], "wang")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    actions.arrive(s, officer, "E-A1", 2, None)
    c = actions.parse_commitment("某厂", "补发工资", 3000, yesterday)
    actions.resolve(s, officer, "E-A1", 3, "调解成功", [c] if c else [])
    yield s
    s.close()


@pytest.fixture
def client(store: IncidentStore) -> FlaskClient:
    return create_app(Settings(db=store.url).validate()).server.test_client()


@pytest.mark.parametrize(
    ("user", "path", "marks"),
    [
        ("wang", "/me", ("我的网格", "待到场 (1)", "待回访 (1)", "E-A2")),
        ("team1", "/me", ("我的任务",)),  # a team has tasks, not an area
        ("hui", "/callbacks", ("今日待回访 1 件", "cb-card-E-A1", "138****5678")),
        ("boss", "/reports", ("天天推进", "十分钟到场率", "全镇")),
        ("ana", "/reports", ("天天推进", "report-level-grid")),
    ],
)
def test_pages_render_in_both_languages(
    client: FlaskClient, user: str, path: str, marks: tuple[str, ...]
) -> None:
    denied = render(client, path, status=401)  # not signed in: the sign-in gate, no data
    assert "请先登录" in denied and "E-A" not in denied
    login(client, user)
    page = render(client, path)
    for mark in marks:
        assert mark in json.loads(json.dumps(page)), mark
    assert PHONE not in page and "罗大明" not in page
    english = render(client, path, "?lang=en")
    assert '"lang": "en"' in english.replace('"lang":"en"', '"lang": "en"')
    if path in ("/me", "/callbacks"):  # the incidents' categories in the page's language
        page_text = json.loads(json.dumps(english))
        assert "Unpaid wages" in page_text and "劳资纠纷" not in page_text
    if user == "hui":  # a commitment's amount
        assert "CNY 3,000" in english and "3,000 元" in page


def test_other_roles_see_nothing(client: FlaskClient) -> None:
    login(client, "li")  # the other grid
    page = render(client, "/me")
    assert "E-A1" not in page and "E-A2" not in page and "E-B1" in page
    login(client, "ana")
    assert "请先以有权限的账号登录" in render(client, "/callbacks")


def test_unmasking_a_phone_is_audited(client: FlaskClient, store: IncidentStore) -> None:
    login(client, "hui")
    render(client, "/callbacks")
    token = client.get_cookie("_csrf_token")
    assert token is not None
    target = {"id": "E-A1", "type": "cb-contact"}
    body = {
        "output": '{"id":["MATCH"],"type":"cb-contact"}.children',
        "outputs": {"id": target, "property": "children"},
        "inputs": [{"id": {"id": "E-A1", "type": "cb-unmask"}, "property": "n_clicks", "value": 1}],
        "state": [],
        "changedPropIds": ['{"id":"E-A1","type":"cb-unmask"}.n_clicks'],
    }
    got = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    assert got.status_code == 200 and PHONE in got.get_data(as_text=True)
    last = store.audit_log(incident_id="E-A1")[-1]
    assert (last.actor, last.action) == ("hui", "view_personal")
