"""The wall in headless Chromium, as a user drives it: a click on an incident marker on the
map, a custom date range chosen in the filter bar, and the wall in English.

Leaflet's API is used (``page.evaluate``) only to find where a marker is on the screen; the
clicks themselves are mouse clicks, as a user's.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from app import wall_data as wd
from app.server import serve_in_thread as serve
from store import IncidentQuery, Scope, open_store
from tests.app.test_town_map_browser import ARTIFACTS, foreign
from tests.app.test_wall_browser import open_wall

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
LOCAL = ZoneInfo("Asia/Shanghai")

#: Keeps every Leaflet map the page creates in ``window.__maps`` (test only): Leaflet assigns
#: the global ``L`` once its bundle loads; the init hook runs for each map made after that.
KEEP_MAPS = """
(() => {
  let real;
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return real; },
    set(v) {
      real = v;
      if (v && v.Map && !v.Map.__emberTest) {
        v.Map.__emberTest = true;
        v.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
      }
    },
  });
})();
"""

#: Screen position of an unclustered incident marker of the history layer that a click would
#: hit (its canvas is the topmost element there), or null.
FIND_MARKER = """
() => {
  const map = (window.__maps || [])[0];
  if (!map) return null;
  const box = map.getContainer().getBoundingClientRect();
  let found = null;
  map.eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (found || !p || p.cluster || p.id === undefined || p.s === undefined || !l.getLatLng) return;
    const xy = map.latLngToContainerPoint(l.getLatLng());
    const x = box.left + xy.x, y = box.top + xy.y;
    if (x < box.left + 40 || x > box.right - 40 || y < box.top + 40 || y > box.bottom - 40) return;
    const top = document.elementFromPoint(x, y);
    if (top && top.tagName === "CANVAS") found = { x: x, y: y, id: String(p.id) };
  });
  return found;
}
"""

#: Kinds and codes of the trinity layer's features now on the map.
TRINITY = """
() => {
  const out = [];
  window.__maps[0].eachLayer((l) => {
    const p = l.feature && l.feature.properties;
    if (p && p.kind) out.push([p.kind, p.code || null]);
  });
  return out;
}
"""


#: wall.selectedId (assets/wall_map.js) for a marker, a cluster, a clicked feed row, a feed
#: row just drawn (n_clicks 0) and the drawer's close button; "none" for no_update.
SELECT_CASES = """
() => {
  const ns = window.dash_clientside, saved = ns.callback_context;
  const run = (id, value) => {
    ns.callback_context = {triggered_id: id, triggered: [{prop_id: "x", value: value}]};
    const got = ns.wall.selectedId();
    return got === ns.no_update ? "none" : got;
  };
  const out = [
    run("wall-incidents", {properties: {id: "E1", s: 0}}),
    run("wall-incidents", {properties: {cluster: true, point_count: 9}}),
    run({type: "wall-feed-row", id: "E2"}, 1),
    run({type: "wall-feed-row", id: "E2"}, 0),
    run({type: "wall-close", id: "x"}, 1),
  ];
  ns.callback_context = saved;
  return out;
}
"""


def test_click_an_incident_marker_on_the_map(browser: Any, wall_app: Any, demo_gpkg: Path) -> None:
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080, init_script=KEEP_MAPS)
        try:
            # What a click selects (wall.selectedId, clientside): a marker or a clicked row;
            # not a cluster, nor a feed row freshly drawn by a refresh; the close button: none.
            assert page.evaluate(SELECT_CASES) == ["E1", "none", "E2", "none", None]
            marker = None
            for _ in range(10):  # zoom in like a user: click the smallest cluster
                page.wait_for_timeout(700)  # the zoom animation
                marker = page.evaluate(FIND_MARKER)
                if marker:
                    break
                clusters = page.locator(".wall-cluster").all()
                counts = [int(re.sub(r"\D", "", c.inner_text()) or 0) for c in clusters]
                clusters[counts.index(min(counts))].click()
            assert marker, "no unclustered incident marker after zooming in"
            page.mouse.click(marker["x"], marker["y"])
            drawer = page.locator(".wall-drawer-open")
            drawer.wait_for(state="visible", timeout=10_000)
            assert drawer.locator("dd").first.inner_text() == marker["id"]
            text = drawer.inner_text()
            assert "处置时间线" in text and "三合一责任人" in text
            assert drawer.locator(".wall-timeline li").count() >= 1
            page.locator(".wall-target").wait_for(timeout=10_000)  # the incident, ringed
            store = open_store(str(demo_gpkg))
            status = store.get_incident(marker["id"], Scope.everything(actor="test")).status
            store.close()
            page.wait_for_function(
                f"() => window.__maps[0] && ({TRINITY})().some(k => k[0] === 'grid')",
                timeout=10_000,
            )
            drawn = {tuple(k) for k in page.evaluate(TRINITY)}
            assert ("grid", status.grid_code) in drawn
            if status.beat_code:
                assert ("beat", status.beat_code) in drawn
            if status.station_code:
                assert ("station", status.station_code) in drawn
            page.wait_for_timeout(400)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wall_1080p_marker.png"))
        finally:
            context.close()
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)


def test_custom_date_range_is_filtered_on_the_server(
    browser: Any, wall_app: Any, demo_gpkg: Path
) -> None:
    today = pd.Timestamp.now(tz=LOCAL)
    # Days with incidents: from the 1st of the month of yesterday to yesterday (the fixture's
    # demo year ends now).
    last_day = today.normalize() - pd.Timedelta(days=1)
    if last_day.day < 2:
        last_day -= pd.Timedelta(days=1)
    first, last = 1, last_day.day
    start = date(last_day.year, last_day.month, first)
    end = date(last_day.year, last_day.month, last)
    back = (today.year * 12 + today.month) - (last_day.year * 12 + last_day.month)
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080)
        try:
            page.get_by_text("自定义", exact=True).click()
            # the redraw the window change asks for first: on a loaded CI machine its answer
            # came while the calendar was open and the calendar was gone before the second day
            page.wait_for_load_state("networkidle")
            page.locator("#wall-dates").click()
            # The calendar in Chinese: months as 2026年12月, weeks from Monday, weekdays 一 … 日.
            caption = page.get_by_text(f"{last_day.year}年{last_day.month}月", exact=True).first
            caption_now = page.get_by_text(f"{today.year}年{today.month}月", exact=True).first
            caption_now.wait_for(timeout=10_000)  # the calendar is open
            weekdays = page.evaluate(
                "() => [...document.querySelectorAll('.dash-datepicker-calendar thead tr + tr th"
                " span')].slice(0, 7).map(s => getComputedStyle(s, '::after').content)"
            )
            assert weekdays == [f'"{d}"' for d in "一二三四五六日"], weekdays
            for _ in range(back):
                page.get_by_role("button", name="Previous month").click()
            caption.wait_for(timeout=10_000)  # on the month of the range
            days = page.locator("td.dash-datepicker-calendar-date-inside")
            days.get_by_text(str(first), exact=True).first.click()
            with page.expect_response(lambda r: "start=" in r.url and "end=" in r.url) as seen:
                days.get_by_text(str(last), exact=True).first.click()
            response = seen.value
            assert response.status == 200
            assert f"start={start:%Y-%m-%d}" in response.url, response.url
            assert f"end={end:%Y-%m-%d}" in response.url, response.url
            body = response.body()  # Playwright hands over the body decoded
            body = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
            shown = json.loads(body)["features"]
            page.keyboard.press("Escape")
            page.wait_for_load_state("networkidle")
            # What the store answers for the same local days [start, end + 1 day).
            t0 = pd.Timestamp(start).tz_localize(LOCAL)
            t1 = pd.Timestamp(end).tz_localize(LOCAL) + pd.Timedelta(days=1)
            store = open_store(str(demo_gpkg))
            found = store.query_incidents(
                IncidentQuery(received_from=t0.to_pydatetime(), received_to=t1.to_pydatetime()),
                Scope.everything(actor="test"),
            )
            store.close()
            assert 0 < len(found) < len(wd.history_frame(str(demo_gpkg), wd.cut_of(wd.now_utc())))
            located = found.loc[~found.geometry.is_empty & found.geometry.notna()]
            # The map shows the zoom's clusters: every located incident of the range once.
            assert sum(f["properties"].get("point_count", 1) for f in shown) == len(located)
            # The same range without the map's zoom: exactly those incidents.
            whole = re.sub(r"&(z|bbox)=[^&]*", "", response.url)
            raw = page.request.get(whole).body()
            raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            points = json.loads(raw)["features"]
            assert sorted(f["properties"]["id"] for f in points) == sorted(located["id"])
            total = wd.wan(len(found))
            page.wait_for_function(
                "t => document.querySelector('.wall-legend-total b').textContent === t",
                arg=total,
                timeout=10_000,
            )
            note = page.locator("#wall-chart-category-note").inner_text()
            assert note.replace(" ", "") == f"共{total}件", note
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wall_1080p_custom.png"))
        finally:
            context.close()
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)


#: Text of every text node outside data (``.wall-data``, village labels) and the language
#: switch (which names each language in itself) that holds CJK characters.
CJK_LABELS = """
() => {
  const cjk = /[\\u3400-\\u9fff\\uff00-\\uffef\\u3000-\\u303f]/;
  const skip = ".wall-data, #wall-lang, .ember-village-label, script, style, title";
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (el && !el.closest(skip) && cjk.test(n.textContent)) out.push(n.textContent);
  }
  return out;
}
"""


def test_the_wall_in_english(browser: Any, wall_app: Any) -> None:
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(
            browser, url, 1920, 1080, "/?lang=en&window=30d"
        )
        try:
            page.wait_for_function("document.querySelector('#wall-clock').textContent.length > 0")
            assert "Non-police affairs" in page.locator(".wall-brand h1").inner_text()
            assert "Category mix" in page.locator(".wall-charts").inner_text()
            assert "Incidents" in (page.locator(".leaflet-control-layers").text_content() or "")
            assert page.evaluate(CJK_LABELS) == []
            page.locator(".wall-feed-row").first.click()
            drawer = page.locator(".wall-drawer-open")
            drawer.wait_for(state="visible", timeout=10_000)
            assert "Timeline" in drawer.inner_text() and "Trinity on duty" in drawer.inner_text()
            assert page.evaluate(CJK_LABELS) == []
            page.evaluate("window.__wallLastOk = Date.now() - 2 * 60 * 1000")
            page.wait_for_function(
                "document.querySelector('#wall-stale').textContent === 'Data delayed 2 min'",
                timeout=12_000,
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wall_1080p_en.png"))
            # Back to Chinese, the filters kept.
            page.locator("#wall-lang-zh").click()
            page.locator(".wall-tile").first.wait_for(timeout=30_000)
            assert "非警务事项态势" in page.locator(".wall-brand h1").inner_text()
            assert "lang=zh" in page.url and "window=30d" in page.url
            assert page.locator("#wall-window input[value='30d']").is_checked()
            time.sleep(0.2)
        finally:
            context.close()
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)
