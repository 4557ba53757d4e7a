"""The console and the incident page in headless Chromium at 1366×768: sign in as a dispatcher,
place a low-confidence incident on the map, dispatch another, open its page; screenshots of
each step in tests/_artifacts. Offline: no request leaves the host."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash

from app.server import serve_in_thread
from tests.app import test_console_world as world
from tests.app._fields import clipped_fields
from tests.app.test_console_world import (
    LOW,
    PASSWORD,
    A,
    B,
)
from tests.app.test_town_map_browser import ARTIFACTS

# The world's fixtures, shared with the other console tests.
fresh_world = world.fresh_world
world_path = world.world_path

pytestmark = pytest.mark.browser


def _sign_in(page: Any, url: str, role: str, target: str) -> None:
    page.goto(f"{url}/login?next={target}")
    page.fill("#username", f"u_{role}")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{target}")


def _message(page: Any, text: str) -> None:
    page.locator("#console-msg", has_text=text).wait_for(timeout=15_000)


def test_console_place_dispatch_and_incident_page(browser: Any, fresh_world: Dash) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_in_thread(fresh_world) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        errors: list[str] = []
        outside: list[str] = []
        context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(url) else 0)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, url, "dispatcher", "/console")
        page.locator(".console-queue-row", has_text=LOW).wait_for(timeout=30_000)
        page.locator(".console-col-sv .console-queue-row").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "console_queue.png"))

        page.locator(".console-queue-row", has_text=LOW).click()
        page.locator("#console-detail", has_text="需人工定位").wait_for(timeout=15_000)
        page.wait_for_timeout(800)  # the map flies to the incident
        box = page.locator("#console-map").bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.4)
        page.locator('#console-map path[stroke="#2f9bff"]').wait_for(timeout=10_000)
        page.click("#console-place")
        _message(page, "已人工定位")
        # the level in words (人工定位 · 可信度 100%), no longer the raw code "manual"
        page.locator("#console-detail", has_text="人工定位 · 可信度").wait_for(timeout=15_000)
        row = page.locator(".console-queue-row", has_text=LOW)
        row.filter(has_not_text="需人工定位").wait_for(timeout=15_000)  # the queue is refreshed
        page.screenshot(path=str(ARTIFACTS / "console_placed.png"))

        page.locator(".console-queue-row", has_text=A).click()
        page.locator("#console-detail h2", has_text=A).wait_for(timeout=15_000)
        page.click("#console-dispatch")
        _message(page, "已派遣")
        page.wait_for_function(
            f"!document.querySelector('.console-col-queue').innerText.includes('{A}')",
            timeout=15_000,
        )
        page.screenshot(path=str(ARTIFACTS / "console_dispatched.png"))

        page.locator(".console-queue-row", has_text=LOW).click()
        page.locator("#console-detail", has_text=LOW).wait_for(timeout=15_000)
        page.click("#console-return")
        _message(page, "请填写退回原因")
        page.screenshot(path=str(ARTIFACTS / "console_error.png"))

        page.goto(f"{url}/incidents/{A}")
        page.locator(".incident-timeline li", has_text="派遣").wait_for(timeout=15_000)
        page.wait_for_function(
            "document.querySelectorAll('#incident-map path').length >= 5", timeout=15_000
        )  # the four grid cells and the incident
        page.screenshot(path=str(ARTIFACTS / "incident_page.png"))
        page.click("#incident-unmask")
        page.locator("#incident-parties", has_text="罗小明").wait_for(timeout=15_000)
        page.goto(f"{url}/incidents/{A}?lang=en")
        page.locator(".incident-timeline", has_text="Dispatched").wait_for(timeout=15_000)
        page.wait_for_function(
            "document.querySelectorAll('#incident-map path').length >= 5", timeout=15_000
        )
        page.screenshot(path=str(ARTIFACTS / "incident_page_en.png"))
        context.close()
    assert not errors, errors
    assert not outside, outside


def test_console_finds_an_incident_by_address(browser: Any, fresh_world: Dash) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_in_thread(fresh_world) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, url, "dispatcher", "/console")
        page.locator(".console-queue-row", has_text=LOW).wait_for(timeout=30_000)
        assert clipped_fields(page) == []  # the find field and the reason's
        page.set_viewport_size({"width": 1366, "height": 300})  # a queue longer than its column
        assert page.locator(".console-col-queue").evaluate("c => c.scrollHeight > c.clientHeight")
        assert clipped_fields(page) == []  # the column scrolls; the find field is not squashed
        page.set_viewport_size({"width": 1366, "height": 768})
        page.fill("#console-find", "西溪")
        page.press("#console-find", "Enter")
        found = page.locator(".console-found .console-queue-row")
        found.filter(has_text=B).wait_for(timeout=15_000)
        assert found.count() == 1 and "找到 1 件" in page.inner_text(".console-found")
        page.screenshot(path=str(ARTIFACTS / "console_found.png"))
        found.click()
        page.locator("#console-detail h2", has_text=B).wait_for(timeout=15_000)
        context.close()
    assert not errors, errors
