"""The town map page at Dash level: layout, labels, served HTML and assets (no browser)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dash_leaflet as dl
import geopandas as gpd
import pandas as pd
import pytest
from dash import Dash, html
from plotly.utils import PlotlyJSONEncoder
from shapely.geometry import box

from app.components import town_map as tm
from app.config import Settings
from app.server import ASSETS_DIR, TITLE, create_app, page_layout, serve
from layers.io import write_layers
from store import open_store
from tests._signin import sign_in_client, with_account

LAYER_NAMES = ["镇界", "村社区", "网格", "警格", "消防站", "3分钟覆盖", "道路"]


def components(app: Dash) -> list[Any]:
    """Every component of the town map page's layout (routed at ``/map``)."""
    root = page_layout(app, "/map")
    return [root, *root._traverse()]


def text_of(component: Any) -> str:
    """All text under a component, concatenated."""
    if isinstance(component, str | int | float):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list | tuple):
        children = [children]
    return "".join(text_of(c) for c in children)


def geojson_by_id(app: Dash) -> dict[str, dl.GeoJSON]:
    return {
        c.id: c for c in components(app) if isinstance(c, dl.GeoJSON) and getattr(c, "id", None)
    }


def test_layer_control_has_the_chinese_overlays(town_app: Dash) -> None:
    overlays = [c for c in components(town_app) if isinstance(c, dl.Overlay)]
    assert [o.name for o in overlays] == LAYER_NAMES
    assert all(o.checked for o in overlays)
    (control,) = [c for c in components(town_app) if isinstance(c, dl.LayersControl)]
    assert control.collapsed is False


def test_layers_carry_the_town(town_app: Dash) -> None:
    layers = geojson_by_id(town_app)
    grid = layers[tm.LAYER_IDS["grid_cells"]]
    assert len(grid.data["features"]) == 4
    props = grid.data["features"][0]["properties"]
    assert {"code", "name", "officer_name"} <= set(props)
    assert "officer_phone" not in props  # only what the map shows leaves the server
    assert grid.hideout["tooltip"]["rows"] == [["编码", "code"], ["网格员", "officer_name"]]
    beats = layers[tm.LAYER_IDS["police_beats"]]
    assert beats.hideout["tooltip"]["rows"] == [["民警", "officer_name"]]
    assert beats.data["features"][0]["properties"]["officer_name"] == "李警官"
    stations = layers[tm.LAYER_IDS["fire_stations"]]
    assert stations.pointToLayer == {"variable": "dashExtensions.ember.stationToLayer"}
    labels = layers["town-map-village-labels"]
    names = [f["properties"]["name"] for f in labels.data["features"]]
    assert names == ["东山村", "西溪社区"]
    assert all(f["geometry"]["type"] == "Point" for f in labels.data["features"])
    json.dumps(page_layout(town_app, "/map").to_plotly_json(), cls=PlotlyJSONEncoder)


def test_map_fits_the_town_and_draws_no_tiles(town_app: Dash) -> None:
    (the_map,) = [c for c in components(town_app) if isinstance(c, dl.Map)]
    assert the_map.bounds == [[30.0, 120.0], [30.02, 120.04]]
    assert the_map.attributionControl is False
    assert not [c for c in components(town_app) if isinstance(c, dl.TileLayer)]


def test_basemap_url_adds_a_tile_layer(town_settings: Settings) -> None:
    url = "http://127.0.0.1:9000/tiles/{z}/{x}/{y}.png"
    app = create_app(Settings(db=town_settings.db, basemap_url=url).validate())
    tiles = [c for c in components(app) if isinstance(c, dl.TileLayer)]
    assert [t.url for t in tiles] == [url]


def test_header_shows_title_and_counts(town_app: Dash) -> None:
    (header,) = [c for c in components(town_app) if isinstance(c, html.Header)]
    text = text_of(header)
    assert "测试镇 · 非警务事项态势" in text
    counts = {
        getattr(c, "id", None): c.children for c in components(town_app) if isinstance(c, html.B)
    }
    assert counts == {
        "count-villages": "2",
        "count-grid_cells": "4",
        "count-police_beats": "1",
        "count-fire_stations": "1",
    }


def test_index_and_assets_are_served_locally(town_app: Dash) -> None:
    client = sign_in_client(with_account(town_app).server.test_client())
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f"<title>{TITLE}</title>" in body
    urls = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert any("ember_map.js" in u for u in urls)
    assert any("ember.css" in u for u in urls)
    assert any("dash_leaflet" in u for u in urls)
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in ("", "http", "https"), url
        assert parts.hostname in (None, "127.0.0.1"), url
        if not parts.hostname:
            assert client.get(url).status_code == 200, url
    assert "//" not in re.sub(r"https?://127\.0\.0\.1", "", " ".join(urls))
    assert client.get("/_dash-layout").status_code == 200
    routed = page_layout(town_app, "/map").to_plotly_json()
    layout = json.dumps(routed, cls=PlotlyJSONEncoder, ensure_ascii=False)
    for label in [*LAYER_NAMES, "测试镇 · 非警务事项态势", "东山村", "西溪社区", "网格员", "民警"]:
        assert label in layout, label


def test_assets_folder_does_not_depend_on_cwd(
    town_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(town_settings)
    assert Path(app.config.assets_folder) == ASSETS_DIR
    client = app.server.test_client()
    assert client.get("/assets/ember_map.js").status_code == 200
    assert b"dashExtensions" in client.get("/assets/ember_map.js").data


def test_optional_layers_may_be_missing(tmp_path: Path, town_frames: dict) -> None:
    path = write_layers(tmp_path / "bare.gpkg", {"town": town_frames["town"]})
    app = create_app(Settings(db=str(path)).validate())
    layers = geojson_by_id(app)
    assert layers[tm.LAYER_IDS["grid_cells"]].data == tm.empty_collection()


def test_only_the_three_minute_coverage_is_drawn(tmp_path: Path, town_frames: dict) -> None:
    cover = town_frames["fire_station_coverage"]
    five = cover.assign(minutes=5, geometry=[box(119.99, 29.99, 120.05, 30.03)])
    both = gpd.GeoDataFrame(pd.concat([cover, five], ignore_index=True), crs=cover.crs)
    frames = {**town_frames, "fire_station_coverage": both}
    data = tm.load_town(open_store(str(write_layers(tmp_path / "cover.gpkg", frames))))
    minutes = [f["properties"]["minutes"] for f in data.layers["fire_station_coverage"]["features"]]
    assert minutes == [3]


def test_feature_card() -> None:
    feature = {"properties": {"name": "东山村第1网格", "code": "330784199001001", "households": 0}}
    card = tm.feature_card("grid_cells", feature)
    text = "".join(text_of(c) for c in card)
    assert "网格" in text and "东山村第1网格" in text and "户数0" in text
    assert tm.feature_card(None, feature) == []
    assert tm.feature_card("grid_cells", None) == []


def test_serve_is_importable() -> None:
    assert callable(serve)


def test_the_map_in_english(town_app: Dash) -> None:
    """``/map?lang=en``: layer control, header, tooltips and the feature card in English (the
    places keep their Chinese names: they are data)."""
    root = page_layout(town_app, "/map", "?lang=en")
    nodes = [root, *root._traverse()]
    names = [n.name for n in nodes if isinstance(n, dl.Overlay)]
    assert names == ["Town boundary", "Villages", "Grid cells", "Police beats", "Fire stations",
                     "3-min coverage", "Roads"]  # fmt: skip
    (header,) = [n for n in nodes if isinstance(n, html.Header)]
    text = text_of(header)
    assert "Non-police affairs" in text and "Grid cells" in text and "中文" in text
    assert not re.search(r"[\u3400-\u9fff]", text.replace("测试镇", "").replace("中文", ""))
    grid = next(n for n in nodes if getattr(n, "id", None) == tm.LAYER_IDS["grid_cells"])
    assert grid.hideout["tooltip"]["rows"] == [["Code", "code"], ["Grid officer", "officer_name"]]
    feature = {"properties": {"name": "东山村第1网格", "code": "330784199001001", "households": 0}}
    card = "".join(text_of(c) for c in tm.feature_card("grid_cells", feature, "en"))
    assert "Grid cell" in card and "Households0" in card and "户数" not in card
    # and the Chinese page switches to English
    zh = text_of(next(n for n in components(town_app) if isinstance(n, html.Header)))
    assert "EN" in zh
