"""The incident page on an officer's phone (360×740, from 详情 on /me): one column, no sideways
overflow, the header's links (sign out among them) on screen, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash

from app.server import serve_in_thread
from tests.app import test_console_world as world
from tests.app.test_console_browser import _sign_in
from tests.app.test_console_world import LATE
from tests.app.test_town_map_browser import ARTIFACTS

fresh_world = world.fresh_world
world_path = world.world_path

pytestmark = pytest.mark.browser

MEASURE = """
() => {
  const logout = document.querySelector('.console-nav a[href="/logout"]').getBoundingClientRect();
  const cols = [...document.querySelectorAll('.incident-col')];
  const widths = cols.map((c) => c.getBoundingClientRect().width);
  const header = document.querySelector('.console-header');
  const box = document.querySelector('.incident-page');
  const last = document.querySelector('.incident-timeline').getBoundingClientRect();
  return {header: header.scrollWidth - header.clientWidth, height: logout.height,
          page: box.scrollHeight, wide: box.scrollWidth - box.clientWidth,
          timeline: last.top + box.scrollTop,
          scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth,
          inner: window.innerWidth, logout: {left: logout.left, right: logout.right,
          top: logout.top, width: logout.width}, widths: widths};
}
"""


def test_incident_page_fits_a_phone(browser: Any, fresh_world: Dash) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_in_thread(fresh_world) as url:
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        try:
            page = context.new_page()
            _sign_in(page, url, "grid", f"/incidents/{LATE}")
            page.locator(".incident-timeline").wait_for(timeout=30_000)
            got = page.evaluate(MEASURE)
            page.screenshot(path=str(ARTIFACTS / "incident_page_phone.png"), full_page=True)
        finally:
            context.close()
    assert got["scroll"] <= got["inner"] and got["body"] <= got["inner"], got
    logout = got["logout"]
    assert logout["width"] > 0 and logout["left"] >= 0 and logout["right"] <= got["inner"], got
    assert got["header"] <= 0 and got["height"] < 30, got  # 退出 on one line, nothing cut off
    assert got["wide"] <= 0, got  # no sideways overflow inside the page either
    assert got["timeline"] < got["page"], got  # the timeline column is reached by scrolling
    assert got["page"] > 740, got  # ... which the page does, one column under another
    assert all(w >= 300 for w in got["widths"]), got  # one column, the phone's width
