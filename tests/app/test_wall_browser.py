"""The map wall in real headless Chromium on the demo town: 1080p and 4K screenshots, a click on
an incident, a window change, live deltas, the staleness banner and reconnect; offline."""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.config import Settings
from app.server import create_app
from app.server import serve_in_thread as serve
from incidents.model import Incident, Party
from store import open_store
from tests._signin import sign_in_page, with_account
from tests.app.test_town_map_browser import ARTIFACTS, foreign

pytestmark = pytest.mark.browser

#: The README's picture of the wall: written when missing or when EMBER_UPDATE_README_SHOT is set.
README_SHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "wall.png"
PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")  # not digits of a coordinate


def open_wall(
    browser: Any, url: str, width: int, height: int, path: str = "/", init_script: str = ""
) -> tuple[Any, Any, list, list]:
    """Open the wall at ``path`` and wait until tiles, feed and incident clusters are drawn;
    ``init_script`` runs in the page before its own scripts."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1, locale="zh-CN"
    )
    if init_script:
        context.add_init_script(init_script)
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    page.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in_page(page, url, next=path)  # as the wall account (wall_app: with_account)
    page.wait_for_load_state("networkidle")
    page.locator("#wall-kpi-received").wait_for(state="visible", timeout=30_000)
    page.locator(".wall-feed-row").first.wait_for(state="visible", timeout=30_000)
    page.locator(".wall-cluster, .wall-station").first.wait_for(timeout=30_000)
    page.wait_for_function(
        "document.querySelectorAll('.wall-charts .js-plotly-plot .main-svg').length >= 4",
        timeout=30_000,
    )
    page.wait_for_load_state("networkidle")
    return context, page, requests, errors


#: The ::before pseudo-element of the first match of a selector: content, width, colour.
BEFORE = """
(selector) => {
  const s = getComputedStyle(document.querySelector(selector), '::before');
  return {content: s.content, width: parseFloat(s.width) || 0, colour: s.backgroundColor};
}
"""
NO_COLOUR = ("", "rgba(0, 0, 0, 0)", "transparent")


def test_wall_1080p_click_and_window(browser: Any, wall_app: Any) -> None:
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080)
        try:
            ARTIFACTS.mkdir(exist_ok=True)
            # The clock shows Asia/Shanghai time whatever the browser's zone (UTC here).
            page.wait_for_function("document.querySelector('#wall-clock').textContent.length > 0")
            shown = page.locator("#wall-clock").inner_text()
            local = datetime.now(ZoneInfo("Asia/Shanghai"))
            assert f"{local.month}月{local.day}日" in shown or local.hour == 0, shown
            assert shown.split()[-1][:2] in (f"{local.hour:02d}", f"{(local.hour - 1) % 24:02d}")
            time.sleep(0.8)  # let the clusters settle for the picture
            page.screenshot(path=str(ARTIFACTS / "wall_1080p.png"))
            if not README_SHOT.exists() or os.environ.get("EMBER_UPDATE_README_SHOT"):
                README_SHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ARTIFACTS / "wall_1080p.png", README_SHOT)
            assert len(page.locator(".wall-tile").all()) == 8
            # What CSS draws: the tiles' small labels and the legends' colour swatches.
            assert page.evaluate(BEFORE, ".wall-tile .wall-trend")["content"] == '"环比"'
            for legend in (".wall-legend li", ".wall-grid-scale li"):
                swatch = page.evaluate(BEFORE, legend)
                drawn = swatch["content"] not in ("none", "normal")  # else no pseudo-element
                assert drawn and swatch["width"] >= 8 and swatch["colour"] not in NO_COLOUR, swatch
            # The four charts, drawn by the locally served plotly.js, inside the viewport.
            assert page.locator(".wall-charts .js-plotly-plot").count() >= 4
            assert page.locator(".wall-charts .bars .point").count() >= 24
            assert "涉流动人口" in page.locator("#wall-chart-migrant").inner_text()
            boxes = [c.bounding_box() for c in page.locator(".wall-chart").all()]
            assert all(b and b["y"] + b["height"] <= 1080 and b["height"] > 150 for b in boxes)
            # Click an incident in the feed: the drawer opens, masked, with the trinity.
            page.locator(".wall-feed-row").first.click()
            drawer = page.locator(".wall-drawer-open")
            drawer.wait_for(state="visible", timeout=10_000)
            text = drawer.inner_text()
            assert "三合一责任人" in text and "处置时间线" in text
            assert "网格员" in text
            assert not PHONE.search(text), "personal data must be masked on the wall"
            page.locator(".wall-target").wait_for(timeout=10_000)  # trinity highlight
            page.screenshot(path=str(ARTIFACTS / "wall_1080p_drawer.png"))
            page.locator(".wall-close").click()
            page.wait_for_selector(".wall-drawer-open", state="detached", timeout=10_000)
            # Change the window: a new history URL, fetched once, and a new total.
            before = page.locator(".wall-legend-total b").inner_text()
            with page.expect_response(lambda r: "window=30d" in r.url) as seen:
                page.get_by_text("近30天", exact=True).click()
            assert seen.value.status == 200
            page.wait_for_function(
                "b => document.querySelector('.wall-legend-total b').textContent !== b",
                arg=before,
                timeout=10_000,
            )
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(ARTIFACTS / "wall_1080p_30d.png"))
        finally:
            context.close()
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)
    assert any("/wall/history.geojson" in r for r in requests)


def test_wall_4k(browser: Any, wall_app: Any) -> None:
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(browser, url, 3840, 2160)
        try:
            time.sleep(0.8)
            page.screenshot(path=str(ARTIFACTS / "wall_4k.png"))
            size = page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('.wall-tile-value')).fontSize)"
            )
            assert size >= 80, size  # legible at 5 m on a 4K wall
        finally:
            context.close()
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)


def test_live_delta_staleness_and_reconnect(browser: Any, demo_gpkg: Path, tmp_path: Path) -> None:
    db = tmp_path / "live.gpkg"
    shutil.copyfile(demo_gpkg, db)
    app = with_account(create_app(Settings(db=str(db)).validate()))
    with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        context, page, requests, _errors = open_wall(browser, url, 1920, 1080)
        responses: list[int] = []
        page.on(
            "response",
            lambda r: responses.append(len(r.body())) if "_dash-update" in r.url else None,
        )
        try:
            # The first live delta carries the demo's own changes since the hour's cut (its
            # year ends now): count its live markers before adding ours. The 30 s overview is
            # stopped: were the hour to turn, it would move the cut and restart the live layer.
            with page.expect_response(
                lambda r: "_dash-update" in r.url and "wall-delta" in (r.request.post_data or ""),
                timeout=12_000,
            ) as first:
                page.evaluate("window.dash_clientside.set_props('wall-slow', {disabled: true})")
            before = len(first.value.json()["response"]["wall-delta"]["data"]["features"])
            store = open_store(str(db))
            town = store.read_layer("town")
            centre = town.geometry.iloc[0].representative_point()
            lon, lat = centre.x, centre.y
            store.add_incidents(
                [
                    Incident(
                        id="LIVE0001",
                        source="110",
                        source_id="J-LIVE-1",
                        received_at=datetime.now(UTC),
                        category="noise",
                        description="深夜噪音扰民",
                        address="演示镇测试路1号",
                        lon=lon,
                        lat=lat,
                        parties=(Party(name="王小明", phone="13912345678"),),
                    )
                ]
            )
            store.close()
            # Within 10 s (one 5 s poll and then some), the new incident pulses on the map.
            page.wait_for_function(
                "n => document.querySelectorAll('.wall-live').length > n"
                " && document.querySelector('.wall-live.wall-pulse') !== null",
                arg=before,
                timeout=12_000,
            )
        except BaseException:
            context.close()
            raise
    # The server is gone: after a minute without deltas the banner says so.
    try:
        page.evaluate("window.__wallLastOk = Date.now() - 3 * 60 * 1000")
        page.wait_for_function(
            "document.querySelector('#wall-stale').textContent.includes('数据延迟')",
            timeout=12_000,
        )
        assert "数据延迟 3 分钟" in page.locator("#wall-stale").inner_text()
        with serve(app, port):
            page.wait_for_function(
                "document.querySelector('#wall-stale').textContent === ''", timeout=20_000
            )
    finally:
        context.close()
    assert foreign(requests) == [], foreign(requests)
    assert responses and max(responses) < 100_000, responses
