"""The town map in real headless Chromium: offline, drawn, labelled; screenshots for review."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.config import Settings
from app.server import create_app, page_layout
from tests._signin import sign_in_page, with_account

ARTIFACTS = Path(__file__).resolve().parent.parent / "_artifacts"
VIEWPORT = {"width": 1920, "height": 1080}
LOCAL_SCHEMES = ("data", "blob", "about")

pytestmark = pytest.mark.browser


def foreign(urls: list[str]) -> list[str]:
    """URLs that would leave this host (anything but 127.0.0.1 and in-page data)."""
    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if parts.hostname != "127.0.0.1":
            out.append(url)
    return out


def open_map(browser: Any, base_url: str, min_paths: int) -> tuple[Any, Any, list[str], list[str]]:
    """Open the map page, wait until the grid is drawn; return context, page, requests, errors."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="zh-CN")
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_page(page, base_url, next="/map")  # as the wall account (with_account)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "n => document.querySelectorAll('path.leaflet-interactive').length >= n",
        arg=min_paths,
        timeout=30_000,
    )
    page.wait_for_load_state("networkidle")
    return context, page, requests, errors


def test_town_map_in_chromium(browser: Any, town_app: Any, live_server: Any) -> None:
    started = time.perf_counter()
    with live_server(with_account(town_app)) as url:
        context, page, requests, errors = open_map(browser, url, min_paths=4)
        try:
            for name in ("东山村", "西溪社区"):
                label = page.locator(".ember-label span", has_text=name)
                label.wait_for(state="visible")
                box = label.bounding_box()
                assert box and box["height"] >= 14, name
            assert page.locator(".ember-title").inner_text().endswith("测试镇 · 非警务事项态势")
            control = page.locator(".leaflet-control-layers-overlays").inner_text()
            for name in ("镇界", "村社区", "网格", "警格", "消防站", "3分钟覆盖", "道路"):
                assert name in control
            assert page.locator(".leaflet-tile").count() == 0
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "town_map.png"))

            # Hover a grid cell: the Chinese tooltip; click it: the feature card.
            cell = _centre(page, ".leaflet-ember-grid-cells-pane path.leaflet-interactive")
            page.mouse.move(*cell)
            tip = page.locator(".leaflet-tooltip.ember-tip")
            tip.wait_for(state="visible")
            assert "网格员" in tip.inner_text()
            page.mouse.click(*cell)
            card = page.locator(".ember-info")
            card.get_by_text("网格员", exact=True).wait_for(state="visible")
            assert "东山村第1网格" in card.inner_text()
            page.wait_for_load_state("networkidle")
        finally:
            context.close()
    assert not errors, errors
    assert requests, "no request recorded"
    assert foreign(requests) == [], foreign(requests)
    print(f"browser test: {time.perf_counter() - started:.1f} s, {len(requests)} requests")


def _centre(page: Any, selector: str) -> tuple[float, float]:
    """Page pixel at the centre of the first element matching ``selector``."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_demo_town_in_chromium(browser: Any, live_server: Any, demo_gpkg: Path) -> None:
    app = with_account(create_app(Settings(db=str(demo_gpkg)).validate()))
    from app.components.town_map import LAYER_IDS

    grid = next(
        c
        for c in page_layout(app, "/map")._traverse()
        if getattr(c, "id", None) == LAYER_IDS["grid_cells"]
    )
    with live_server(app) as url:
        context, page, requests, errors = open_map(browser, url, len(grid.data["features"]))
        try:
            page.locator(".ember-label span").first.wait_for(state="visible")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "town_map_demo.png"))
        finally:
            context.close()
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)
