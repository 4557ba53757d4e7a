"""Callback view and the printable review in a browser: a broken commitment reopens in one step."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from app import officer_actions as actions
from app.auth import scope_for
from app.components.callback_cards import RESULT_CLASS
from app.config import Settings
from app.server import create_app
from incidents.model import State
from store import Scope
from tests.app._fields import clipped_fields
from tests.app._officer_fixtures import GRID_A, PASSWORD, build_store

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


def _sign_in(page: Any, url: str, path: str, username: str) -> None:
    page.goto(f"{url}{path}")
    page.wait_for_url("**/login**")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def _due_today(store: Any, ids: tuple[str, ...], who: str, amount: int) -> None:
    """Arrive at and resolve ``ids`` with a commitment due yesterday: callbacks due today."""
    officer = scope_for("grid", [GRID_A], "wang")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for iid in ids:
        actions.arrive(store, officer, iid, 2, None)
        promise = actions.parse_commitment(who, "补发工资", amount, yesterday)
        actions.resolve(store, officer, iid, 3, "调解成功", [promise] if promise else [])


def test_callback_reopens_and_report_prints(
    browser: Any, town_gpkg: Path, tmp_path: Path,
    live_server: Callable[[Dash], AbstractContextManager[str]],
) -> None:  # fmt: skip
    store = build_store(town_gpkg, tmp_path)
    _due_today(store, ("E-A1",), "某五金厂", 7000)
    app = create_app(Settings(db=store.url).validate())
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(app) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        _sign_in(page, url, "/callbacks", "hui")
        card = page.locator("#cb-card-E-A1")
        card.wait_for(timeout=20_000)
        assert "7,000" in card.inner_text()
        assert clipped_fields(page) == []  # the find field and the card's note, on a phone
        card.locator("label", has_text="已接通").click()
        card.locator("label", has_text="基本满意").click()
        card.locator("label", has_text="未兑现").click()
        page.wait_for_selector("#cb-card-E-A1 .cb-will-reopen", timeout=20_000)
        card.locator(".cb-btn-submit").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "callback_1_will_reopen.png"))
        card.locator(".cb-btn-submit").click()
        page.wait_for_selector(".cb-msg-warn", timeout=20_000)
        assert "重开" in page.inner_text("#cb-msg")
        page.screenshot(path=str(ARTIFACTS / "callback_2_reopened.png"))
        assert page.locator("#cb-card-E-A1").count() == 0
        context.close()

        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        _sign_in(page, url, "/reports?kind=daily&lang=en", "boss")
        page.wait_for_selector("#report-level-town table", timeout=30_000)
        assert "10-minute arrival rate" in page.inner_text("#report-level-town")
        page.screenshot(path=str(ARTIFACTS / "report_1_screen.png"), full_page=True)
        page.emulate_media(media="print")
        assert not page.locator(".report-controls").is_visible()
        page.screenshot(path=str(ARTIFACTS / "report_2_print.png"), full_page=True)
        context.close()
    status = store.get_incident("E-A1", Scope.everything()).status
    assert status.state == State.REOPENED and status.last_satisfaction == "基本满意"
    assert [c.status for c in status.commitments] == ["broken"]


def test_find_narrows_the_callbacks_list(
    browser: Any, town_gpkg: Path, tmp_path: Path,
    live_server: Callable[[Dash], AbstractContextManager[str]],
) -> None:  # fmt: skip
    store = build_store(town_gpkg, tmp_path)
    _due_today(store, ("E-A1", "E-A2"), "某厂", 3000)
    app = create_app(Settings(db=store.url).validate())
    with live_server(app) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        _sign_in(page, url, "/callbacks", "hui")
        page.locator("#cb-card-E-A1").wait_for(timeout=20_000)
        assert page.locator("#cb-card-E-A2").count() == 1
        page.fill("#cb-find", "e-a2")
        page.press("#cb-find", "Enter")
        page.locator("#cb-card-E-A1").wait_for(state="detached", timeout=20_000)
        assert page.locator("#cb-card-E-A2").count() == 1
        assert "找到待回访 1 件" in page.inner_text(".cb-count")
        page.fill("#cb-find", "")
        page.press("#cb-find", "Enter")
        page.locator("#cb-card-E-A1").wait_for(timeout=20_000)
        context.close()


def _resolve(page: Any, iid: str, what: str, amount: str, due: str) -> None:
    card = page.locator(f"#officer-list-to_handle #officer-task-{iid}")
    card.wait_for(timeout=20_000)
    card.locator("summary").click()
    card.locator("textarea").fill(f"调解：{what}")
    inputs = card.locator(".officer-commit input")
    for i, value in enumerate(("某五金厂", what, amount, due)):
        inputs.nth(i).fill(value)
    card.locator(".officer-btn-resolve").click()
    page.wait_for_function(
        "document.querySelector('#officer-msg').innerText.includes('处置完毕')", timeout=20_000
    )


def _call_back(page: Any, iid: str, satisfaction: str, kept: str, expect: str) -> None:
    page.reload()
    card = page.locator(f"#cb-card-{iid}")
    card.wait_for(timeout=20_000)
    for label in ("已接通", satisfaction, kept):
        card.locator("label", has_text=label).first.click()
    will = RESULT_CLASS[expect]
    page.wait_for_selector(f"#cb-card-{iid} .cb-will-{will}", timeout=20_000)
    card.locator(".cb-btn-submit").click()
    page.wait_for_selector(f"#cb-msg .cb-msg-{'warn' if expect == 'reopen' else 'ok'}")


def test_the_closed_loop_across_roles(
    browser: Any, town_gpkg: Path, tmp_path: Path,
    live_server: Callable[[Dash], AbstractContextManager[str]],
) -> None:  # fmt: skip
    """Team member arrives and resolves with a commitment → the clerk finds it broken →
    reopened → resolved again → kept and satisfied → closed (issue #7's wage case, from
    dispatch on)."""
    store = build_store(town_gpkg, tmp_path)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    app = create_app(Settings(db=store.url).validate())
    shots = ARTIFACTS / "loop"
    shots.mkdir(parents=True, exist_ok=True)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
    with live_server(app) as url:
        officer_ctx = browser.new_context(
            **phone, permissions=["geolocation"],
            geolocation={"longitude": 120.0051, "latitude": 30.0051},
        )  # fmt: skip
        clerk_ctx = browser.new_context(**phone)
        officer, clerk = officer_ctx.new_page(), clerk_ctx.new_page()
        _sign_in(officer, url, "/me", "team1")
        officer.locator("#officer-task-E-A1 .officer-btn-arrive").click()
        officer.wait_for_selector(".officer-msg-ok", timeout=20_000)
        _resolve(officer, "E-A1", "补发工资", "7000", yesterday)
        officer.screenshot(path=str(shots / "1_team_resolved.png"))
        _sign_in(clerk, url, "/callbacks", "hui")
        _call_back(clerk, "E-A1", "基本满意", "未兑现", "reopen")
        clerk.screenshot(path=str(shots / "2_clerk_reopened.png"))
        officer.reload()
        _resolve(officer, "E-A1", "补足余款", "4000", yesterday)
        officer.screenshot(path=str(shots / "3_team_resolved_again.png"))
        _call_back(clerk, "E-A1", "满意", "已兑现", "close")
        clerk.screenshot(path=str(shots / "4_clerk_closed.png"))
        officer_ctx.close()
        clerk_ctx.close()
    status = store.get_incident("E-A1", Scope.everything()).status
    assert status.state == State.CLOSED and status.reopen_count == 1
    assert [c.status for c in status.commitments] == ["broken", "kept"]
    assert (status.satisfaction, status.last_satisfaction) == ("基本满意", "满意")
    actors = [e.actor for e in store.events("E-A1", Scope.everything())]
    assert actors[2:] == ["team1", "team1", "hui", "team1", "hui"]
