"""The wall over a local MBTiles or PMTiles basemap in headless Chromium: tiles come from Ember
itself (127.0.0.1 only, every one found), and the grid choropleth switches to the per-1,000
rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.components.town_map import load_town
from app.config import Settings
from app.server import create_app
from app.server import serve_in_thread as serve
from store import open_store
from tests._signin import sign_in_page, with_account
from tests.app.test_town_map_browser import ARTIFACTS, foreign
from tests.tile_archives import covering, write_mbtiles, write_pmtiles

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=["mbtiles", "pmtiles"])
def archive_app(
    request: Any, demo_gpkg: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Any]:
    kind = request.param
    west, south, east, north = load_town(open_store(str(demo_gpkg))).bounds
    bounds = (west - 0.01, south - 0.01, east + 0.01, north + 0.01)
    path = tmp_path_factory.mktemp("tiles") / f"town.{kind}"
    writer = write_mbtiles if kind == "mbtiles" else write_pmtiles
    writer(path, covering(bounds, range(9, 15)), "png", bounds)
    settings = Settings(db=str(demo_gpkg), basemap=kind, basemap_path=str(path))
    return kind, with_account(create_app(settings.validate()))


def test_wall_over_a_local_archive_loads_tiles_from_ember_only(
    browser: Any, archive_app: tuple[str, Any]
) -> None:
    kind, app = archive_app
    with serve(app) as url:
        context = browser.new_context(
            viewport={"width": 1920, "height": 1080}, device_scale_factor=1, locale="zh-CN"
        )
        requests: list[str] = []
        tiles: dict[str, int] = {}
        context.on("request", lambda r: requests.append(r.url))

        def on_response(r: Any) -> None:
            if urlsplit(r.url).path.startswith("/tiles/"):
                tiles[r.url] = r.status

        context.on("response", on_response)
        page = context.new_page()
        page.on("websocket", lambda ws: requests.append(ws.url))
        try:
            sign_in_page(page, url, next="/")  # as the wall account (with_account)
            page.wait_for_load_state("networkidle")
            page.locator(".wall-cluster, .wall-station").first.wait_for(timeout=30_000)
            page.wait_for_function(
                "document.querySelectorAll('.wall-leaflet img.leaflet-tile-loaded').length >= 4",
                timeout=30_000,
            )
            page.locator("#wall-grid-title").wait_for(timeout=30_000)
            assert "在办" in page.locator("#wall-grid-title").inner_text()
            page.get_by_text("每千人", exact=True).click()
            page.wait_for_function(
                "document.querySelector('#wall-grid-title').textContent.includes('每千名')",
                timeout=30_000,
            )
            page.wait_for_load_state("networkidle")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"wall_{kind}_rate.png"))
            assert foreign(requests) == [], foreign(requests)[:5]
            assert len(tiles) >= 4
            assert all(urlsplit(u).hostname == "127.0.0.1" for u in tiles)
            missing = [u for u, status in tiles.items() if status not in (200, 304)]
            assert missing == [], missing[:5]  # the layer asks only for tiles the archive holds
        finally:
            context.close()
