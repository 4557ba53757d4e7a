"""The wall's filter dropdowns show their whole placeholder (全部村社区, All villages) at 1920×1080
in both languages, and the header still fits, in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from app.server import serve_in_thread as serve
from tests.app.test_wall_browser import open_wall

pytestmark = pytest.mark.browser

MEASURE = """
() => {
  const cut = [...document.querySelectorAll('.wall-select')].map((s) => {
    const text = s.querySelector('.dash-dropdown-placeholder, .dash-dropdown-value') || s;
    return {text: text.textContent, cut: text.scrollWidth > text.clientWidth + 1};
  });
  const header = document.querySelector('.wall-header');
  return {cut: cut, header: header.scrollWidth - header.clientWidth,
          page: document.documentElement.scrollWidth - window.innerWidth};
}
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_wall_selects_are_not_cut_off_at_1080p(browser: Any, wall_app: Any, lang: str) -> None:
    with serve(wall_app) as url:
        context, page, _requests, errors = open_wall(browser, url, 1920, 1080, f"/?lang={lang}")
        try:
            got = page.evaluate(MEASURE)
        finally:
            context.close()
    assert not errors, errors
    assert got["cut"] and not [c for c in got["cut"] if c["cut"]], got
    assert got["header"] <= 0 and got["page"] <= 0, got
