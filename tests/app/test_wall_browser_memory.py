"""The wall runs for days: 1,000 refreshes of the live layer must not grow the browser's heap.

The refreshes are the real thing, only faster: the test stops the 5 s poll (``wall-tick``) and
sets its ``n_intervals`` itself, as the interval would, each time as soon as the previous
delta has been merged. Every refresh is a round trip to the server (the ``live`` callback,
~40 ms here), a clientside merge (``dash_clientside.wall.mergeDelta``), the staleness banner
and a redraw of the live layer's markers, 50 of them (incidents received after the page's
cut), rebuilt from a new FeatureCollection each time.

The bound: the JS heap after 1,000 refreshes (after a forced GC, ``HeapProfiler.
collectGarbage``) at most 20 % above the heap after the first 100 (the warm-up: caches,
JIT, plotly and Leaflet's lazily made objects settle there; the test also runs the 30 s
overview refresh once in it). One refresh allocates a
FeatureCollection of 50 features and 50 Leaflet markers with their DOM icons, some 100 KB;
were a reference to each kept (the classic leak: a listener or a store holding old data),
900 refreshes would add ~90 MB, several times the whole heap of the page (~20-40 MB), and
even a leak of a tenth of that would cross the bound. DOM nodes and event listeners are held
to the same bound.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.server import create_app
from app.server import serve_in_thread as serve
from incidents.model import Incident
from store import open_store
from tests._signin import with_account
from tests.app.test_town_map_browser import foreign
from tests.app.test_wall_browser import open_wall

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE = 50
WARM_UP, TOTAL = 100, 1_000

#: Count the merges of live deltas (wraps the clientside callback: Dash looks it up at each
#: call); stop the 5 s poll and the 30 s overview: the test drives them.
COUNT_MERGES = """
() => {
  const ns = window.dash_clientside.wall;
  const merge = ns.mergeDelta;
  window.__merges = 0;
  ns.mergeDelta = function () {
    window.__merges += 1;
    return merge.apply(this, arguments);
  };
  window.dash_clientside.set_props("wall-tick", { disabled: true });
  // and the 30 s overview, which would move the cut when the hour turns mid-test (a new
  // history layer: the live layer starts again from the new cut); the test runs it once
  window.dash_clientside.set_props("wall-slow", { disabled: true });
  window.__tick = 1000;
}
"""

#: Run ``n`` polls one after the other, each as soon as the previous delta is merged: what the
#: interval does every 5 s (``n_intervals`` + 1). Resolves to the milliseconds they took.
REFRESH = """
async (n) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const before = window.__merges;
    window.__tick += 1;
    window.dash_clientside.set_props("wall-tick", { n_intervals: window.__tick });
    const t = performance.now();
    while (window.__merges === before) {
      if (performance.now() - t > 10000) throw new Error("no delta merged in 10 s");
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)));
  return performance.now() - t0;
}
"""


def metrics(cdp: Any) -> dict[str, float]:
    """JS heap, DOM nodes and listeners after a full garbage collection."""
    for _ in range(2):
        cdp.send("HeapProfiler.collectGarbage")
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: values[k] for k in ("JSHeapUsedSize", "Nodes", "JSEventListeners")}


def test_heap_does_not_grow_over_1000_live_refreshes(
    browser: Any, demo_gpkg: Path, tmp_path: Path
) -> None:
    db = tmp_path / "memory.gpkg"
    shutil.copyfile(demo_gpkg, db)
    store = open_store(str(db))
    town = store.read_layer("town")
    west, south, east, north = town.total_bounds
    now = datetime.now(UTC)
    store.add_incidents(
        [
            Incident(
                id=f"MEM{i:04d}",
                source="12345",
                source_id=f"MEM-{i}",
                received_at=now - timedelta(seconds=i),
                category="noise",
                description="测试",
                address="演示镇测试路",
                lon=west + (east - west) * (0.3 + 0.4 * (i % 10) / 10),
                lat=south + (north - south) * (0.3 + 0.4 * (i // 10) / (LIVE / 10)),
            )
            for i in range(LIVE)
        ]
    )
    store.close()
    app = with_account(create_app(Settings(db=str(db)).validate()))
    with serve(app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080)
        try:
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.evaluate(COUNT_MERGES)
            started = time.perf_counter()
            page.evaluate(REFRESH, WARM_UP - 1)
            # The 30 s overview refresh (tiles, feed, charts) once within the warm-up too: its
            # first redraw of the charts makes plotly's lazily built objects.
            with page.expect_response(lambda r: "_dash-update-component" in r.url):
                page.evaluate("window.dash_clientside.set_props('wall-slow', {n_intervals: 1})")
            page.wait_for_load_state("networkidle")
            page.evaluate(REFRESH, 1)  # after it: it may have moved the cut, if the hour turned
            page.wait_for_timeout(300)
            # ours, plus demo incidents changed since the cut that the browser is sent once
            # (wall_data.delta skips only what the browser holds)
            drawn = page.locator(".wall-live").count()
            assert drawn >= LIVE
            warm = metrics(cdp)
            took = page.evaluate(REFRESH, TOTAL - WARM_UP)
            assert page.evaluate("window.__merges") == TOTAL
            assert page.locator(".wall-live").count() == drawn  # redrawn, not piled up
            after = metrics(cdp)
            elapsed = time.perf_counter() - started
        finally:
            context.close()
    print(
        f"\n{TOTAL} refreshes in {elapsed:.1f} s ({took / (TOTAL - WARM_UP):.1f} ms each); "
        f"heap {warm['JSHeapUsedSize'] / 1e6:.1f} -> {after['JSHeapUsedSize'] / 1e6:.1f} MB, "
        f"nodes {warm['Nodes']:.0f} -> {after['Nodes']:.0f}, "
        f"listeners {warm['JSEventListeners']:.0f} -> {after['JSEventListeners']:.0f}"
    )
    for name, value in after.items():
        assert value <= 1.2 * warm[name], (name, warm[name], value)
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)


#: Dash's undo history as the page holds it: how many entries, and the latest (``present``).
HISTORY = """
() => {
  const h = window.store.getState().history;
  return {past: h.past.length, present: h.present, keep: window.emberHistory.KEEP};
}
"""


def test_dash_undo_history_stays_short_as_intervals_tick(browser: Any, demo_gpkg: Path) -> None:
    """Dash records each tick of a dcc.Interval in its undo history and never drops one
    (~20,000 a day on the wall); ``assets/ember_history.js`` keeps the last few. The tick is
    the interval's own (``setProps``, what Dash records), only faster: every 100 ms."""
    app = with_account(create_app(Settings(db=str(demo_gpkg)).validate()))
    with serve(app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080)
        try:
            page.evaluate("window.dash_clientside.set_props('wall-slow', {disabled: true})")
            start = page.evaluate(HISTORY)
            page.evaluate("window.dash_clientside.set_props('wall-tick', {interval: 100})")
            # the history as it was when the 80th tick was its latest entry, read in the same
            # evaluation (the next change, a tick or the map's, moves ``present`` on)
            end = page.wait_for_function(
                f"() => {{ const h = ({HISTORY})(); const p = h.present;"
                " return p && p.id === 'wall-tick' && p.props.n_intervals >= 80 && h; }",
                timeout=60_000,
            ).json_value()
        finally:
            context.close()
    ticks = end["present"]["props"]["n_intervals"]
    print(f"\nundo history: {start['past']} entries at load, {end['past']} after {ticks} ticks")
    assert ticks >= 80
    assert end["past"] <= end["keep"] < ticks, end
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)
