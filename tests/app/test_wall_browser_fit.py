"""The wall's map opens with the town clear of the legends over the map's left side, at the zoom
an even padding gives it (``assets/wall_map_fit.js``), in real headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.components.town_map import load_town
from app.server import serve_in_thread as serve
from store import open_store
from tests.app.test_town_map_browser import ARTIFACTS
from tests.app.test_wall_browser import open_wall
from tests.app.test_wall_browser_interact import KEEP_MAPS

pytestmark = pytest.mark.browser

#: Where the town's bounds are on the map (container pixels), the map's zoom, the zoom the
#: even padding of app.components.wall_map gives, and the boxes over the map's left side.
PLACES = """
([south, west, north, east]) => {
  const map = window.__maps.find((m) => m.getContainer().id === "wall-map");
  const edge = map.getContainer().getBoundingClientRect();
  const sw = map.latLngToContainerPoint([south, west]);
  const ne = map.latLngToContainerPoint([north, east]);
  const bounds = L.latLngBounds([[south, west], [north, east]]);
  const boxes = [".wall-grid-control", ".wall-legend"].map((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return {left: r.left - edge.left, right: r.right - edge.left, top: r.top - edge.top,
            bottom: r.bottom - edge.top};
  });
  return {town: {left: sw.x, right: ne.x, top: ne.y, bottom: sw.y}, width: edge.width,
          height: edge.height, zoom: map.getZoom(),
          even: map.getBoundsZoom(bounds, false, L.point(32, 32)), boxes: boxes};
}
"""


@pytest.mark.parametrize(("width", "height", "clear"), [(1920, 1080, True), (1366, 768, False)])
def test_the_town_opens_clear_of_the_legends(
    browser: Any, wall_app: Any, demo_gpkg: Path, width: int, height: int, clear: bool
) -> None:
    west, south, east, north = load_town(open_store(str(demo_gpkg))).bounds
    with serve(wall_app) as url:
        context, page, _requests, errors = open_wall(
            browser, url, width, height, init_script=KEEP_MAPS
        )
        try:
            got = page.evaluate(PLACES, [south, west, north, east])
            page.screenshot(path=str(ARTIFACTS / f"wall_fit_{width}.png"))
        finally:
            context.close()
    assert not errors, errors
    town, boxes = got["town"], got["boxes"]
    # the zoom an even padding gives: the town is moved, not made smaller
    assert got["zoom"] == got["even"], got
    # the whole town on the map
    assert town["left"] >= 0 and town["right"] <= got["width"], got
    assert town["top"] >= 0 and town["bottom"] <= got["height"], got
    reach = max(b["right"] for b in boxes)
    if clear:  # a wall's map is wide enough: right of both boxes
        assert town["left"] >= reach, got
    else:  # too narrow: as far right as the zoom allows, its right edge at the map's padding
        assert town["left"] < reach and town["right"] >= got["width"] - 16 - 2, got
