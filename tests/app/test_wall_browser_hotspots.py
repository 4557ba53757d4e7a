"""The wall's overlays that are off at load, in headless Chromium: the hotspot overlays (not
computed until switched on, then drawn on their canvases with a legend; offline) and the town
layers off by default (villages, 3-minute coverage: fetched once switched on)."""

from __future__ import annotations

from typing import Any

import pytest

from app.components import wall_hot, wall_map
from app.i18n import t
from app.server import serve_in_thread as serve
from tests.app.test_town_map_browser import ARTIFACTS, foreign
from tests.app.test_wall_browser import NO_COLOUR, open_wall

pytestmark = pytest.mark.browser

#: Painted (non-transparent) pixels of the canvases in a map pane.
PAINTED = """
(pane) => {
  let n = 0;
  for (const c of document.querySelectorAll('.leaflet-' + pane + '-pane canvas')) {
    if (!c.width || !c.height) continue;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 16) if (data[i] > 0) n++;
  }
  return n;
}
"""


def test_hotspot_overlays_switch_on_and_draw(browser: Any, wall_app: Any) -> None:
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080, "/?window=year")
        try:
            assert not [r for r in requests if wall_hot.ROUTE in r], "computed only when on"
            assert page.evaluate(PAINTED, "wall-heat") == 0
            control = page.locator(".leaflet-control-layers")
            control.hover()
            for name, layer in (
                (wall_hot._m("heat", "zh"), "heat"),
                (wall_hot._m("hot", "zh"), "hot"),
            ):
                with page.expect_response(lambda r, k=layer: f"layer={k}" in r.url) as resp:
                    control.get_by_text(name, exact=True).click()
                assert resp.value.status == 200 and "window=year" in resp.value.url
            page.locator(".wall-hot-legend-on .wall-hot-scale li").first.wait_for(timeout=15_000)
            page.wait_for_function(f"({PAINTED})('wall-heat') > 100", timeout=15_000)
            page.wait_for_function(f"({PAINTED})('wall-hotspots') > 100", timeout=15_000)
            for item in page.locator(".wall-hot-legend-on .wall-hot-scale li").all():
                swatch = item.evaluate(
                    "li => { const s = getComputedStyle(li, '::before');"
                    " return [s.backgroundColor, parseFloat(s.width) || 0, s.content]; }"
                )
                drawn = swatch[2] not in ("none", "normal")  # else no pseudo-element at all
                assert drawn and swatch[1] >= 8 and swatch[0] not in NO_COLOUR, swatch
            legend = page.locator(".wall-hot-legend").inner_text()
            assert "热力" in legend and "热点" in legend and "件/km²" in legend
            page.mouse.move(900, 600)  # collapse the control for the picture
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "wall_1080p_hotspots.png"))
            # Switched off: the legend goes, nothing more is fetched.
            control.hover()
            control.get_by_text(wall_hot._m("heat", "zh"), exact=True).click()
            control.get_by_text(wall_hot._m("hot", "zh"), exact=True).click()
            page.locator(".wall-hot-legend-on").wait_for(state="detached", timeout=10_000)
            assert not errors, errors
            assert not foreign(requests), foreign(requests)
        finally:
            context.close()


def test_town_overlays_off_at_load_are_fetched_when_switched_on(
    browser: Any, wall_app: Any
) -> None:
    lazy = [wall_map.layer_url(n) for _key, names in wall_map.LAZY for n in names]
    with serve(wall_app) as url:
        context, page, requests, errors = open_wall(browser, url, 1920, 1080, "/?window=year")
        try:
            drawn = [r for r in requests if "/wall/layers/" in r]
            assert [r for r in drawn if "/town.geojson" in r], "the layers on at load are fetched"
            assert not [r for r in drawn if any(r.endswith(u) for u in lazy)], drawn
            assert page.evaluate(PAINTED, "wall-coverage") == 0
            control = page.locator(".leaflet-control-layers")
            control.hover()
            for key, pane in (
                ("layer.villages", "wall-villages"),
                ("layer.coverage", "wall-coverage"),
            ):
                control.get_by_text(t(key, "zh"), exact=True).click()
                page.wait_for_function(f"({PAINTED})('{pane}') > 100", timeout=15_000)
            page.locator(".ember-village-label").first.wait_for(state="attached", timeout=15_000)
            assert sorted(r for r in requests if any(r.endswith(u) for u in lazy)) == sorted(
                url + u for u in lazy
            ), "each fetched once"
            # Off and on again: drawn from what it holds, not fetched again.
            control.get_by_text(t("layer.coverage", "zh"), exact=True).click()
            page.wait_for_function(f"({PAINTED})('wall-coverage') === 0", timeout=15_000)
            control.get_by_text(t("layer.coverage", "zh"), exact=True).click()
            page.wait_for_function(f"({PAINTED})('wall-coverage') > 100", timeout=15_000)
            assert len([r for r in requests if any(r.endswith(u) for u in lazy)]) == len(lazy)
            assert not errors, errors
        finally:
            context.close()
