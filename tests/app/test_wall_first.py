"""The wall's first render without a browser: the history layer's first frame in the layout,
the renderer's requests preloaded, and Dash's polyfill only for browsers that need it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from dash import Dash, html

from app import _index, wall_routes
from app import wall_data as wd
from app import wall_history as wh
from app.basemap import IDENTITY
from tests._signin import sign_in_client
from tests.app.test_wall_layout import layout_props


def test_first_frame_is_every_small_zoom_of_the_kept_clusters(demo_gpkg: Path) -> None:
    url, cut = str(demo_gpkg), wd.cut_of(wd.now_utc())
    f = wd.WallFilters.from_args({"window": "year"})
    other = wd.WallFilters.from_args({"window": "year", "category": "noise"})
    assert wh.first_frame(url, cut, other, IDENTITY) == {}  # not computed: nothing, no wait
    wh.prepare(url, cut, f)
    frames = wh.first_frame(url, cut, f, IDENTITY)
    assert wh.first_frame(url, cut, other, IDENTITY) == {}  # other filters: still nothing
    zooms = [int(z) for z in frames]
    assert zooms == list(range(wh.MIN_ZOOM, wh.MIN_ZOOM + len(zooms))) and len(zooms) >= 3
    levels, props = wh._levels(url, cut, f, IDENTITY)
    for z in zooms:  # the whole town at that zoom, as the history route answers it
        expected = json.loads(wh.clusters_geojson(levels.at(z, None), props))
        assert frames[str(z)] == expected
        assert 0 < len(expected["features"]) <= wh.FIRST_FRAME_MAX
    nxt = zooms[-1] + 1
    assert nxt > wh.MAX_ZOOM or len(levels.at(nxt, None)) > wh.FIRST_FRAME_MAX


def test_kept_levels_drop_the_least_recently_used() -> None:
    kept = wh._Kept(2)
    a, b, c = (object(), object()), (object(), object()), (object(), object())
    kept.put(("a",), a)  # type: ignore[arg-type]
    kept.put(("b",), b)  # type: ignore[arg-type]
    assert kept.get(("a",)) is a  # a is now the most recent
    kept.put(("c",), c)  # type: ignore[arg-type]
    assert kept.get(("b",)) is None and kept.get(("a",)) is a and kept.get(("c",)) is c


def test_wall_layout_carries_the_first_frame_once_computed(
    wall_app: Dash, frozen_wall_clock: pd.Timestamp
) -> None:
    client = sign_in_client(wall_app.server.test_client())
    cut = wd.cut_of(frozen_wall_clock)  # the layout's cut too, even as the hour turns
    referer = {"Referer": "http://localhost/?window=month&category=wage"}
    f = wd.WallFilters.from_args({"window": "month", "category": "wage"})
    # Not computed yet for these filters: the layout does not wait for it.
    layout = layout_props(client.get("/_dash-layout", headers=referer).get_json())
    assert layout["wall-first"].get("data") in ({}, None)
    client.get(f"/wall/history.geojson?{wd.history_url(cut, f).split('?', 1)[1]}&z=12")
    layout = layout_props(client.get("/_dash-layout", headers=referer).get_json())
    frames = layout["wall-first"]["data"]
    assert frames and "12" in frames
    assert frames["12"]["type"] == "FeatureCollection" and frames["12"]["features"]
    assert layout["wall-history"]["data"] == wd.history_url(cut, f)


def test_the_wall_preloads_the_renderers_requests(wall_app: Dash) -> None:
    client = sign_in_client(wall_app.server.test_client())
    page = client.get("/?window=year").get_data(as_text=True)
    head = page.split("</head>", 1)[0]
    preloads = re.findall(
        r'<link rel="preload" href="([^"]+)" as="fetch" crossorigin="anonymous"'
        r' fetchpriority="low">',
        head,
    )
    assert preloads == ["/" + p for p in wall_routes.PRELOADS]
    for path in preloads:
        assert client.get(path).status_code == 200
    assert 'rel="preload"' not in client.get("/map").get_data(as_text=True)


def test_dash_polyfill_only_for_browsers_that_need_it(wall_app: Dash) -> None:
    client = sign_in_client(wall_app.server.test_client())
    for path in ("/?window=year", "/map"):
        page = client.get(path).get_data(as_text=True)
        assert not _index.POLYFILL_TAG.search(page), path  # no plain polyfill tag left
        loader = re.search(
            r"<script>if\(!\((.+?)\)\)\{document\.write\('(.+?)'\);\}</script>", page
        )
        assert loader, path
        assert loader.group(1) == _index.MODERN_TEST
        src = re.search(r'src="([^"]+)"', loader.group(2))
        assert src and "/deps/polyfill@" in src.group(1)
        assert client.get(src.group(1)).status_code == 200
        assert "regenerator-runtime.js" in page  # what Dash's bundles need of it
        assert "dash_table/bundle" not in page  # a bundle Ember does not use
    # Dash still writes the tag this module replaces (a Dash upgrade that changes it fails here).
    plain = Dash(__name__, serve_locally=True)
    plain.layout = html.Div("x")
    with plain.server.test_client() as c:
        page = c.get("/").get_data(as_text=True)
        assert _index.POLYFILL_TAG.search(page) and _index.UNUSED_TAG.search(page)


def test_ember_uses_no_datatable() -> None:
    """dash_table's bundle is left out of every page (app._index): nothing may need it."""
    root = Path(__file__).resolve().parents[2]
    users = [
        str(path.relative_to(root))
        for path in (root / "app").rglob("*.py")
        if re.search(r"dash_table|DataTable", path.read_text(encoding="utf-8"))
        and path.name != "_index.py"
    ]
    assert users == [], f"{users} use dash_table: keep its bundle (app._index.UNUSED_TAG)"
