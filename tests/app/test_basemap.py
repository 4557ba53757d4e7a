"""Basemap settings: local archives served by Ember, online tile templates, and the AMap display
shift (WGS84 -> GCJ-02 on the way to the browser, back for clicks)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import dash_leaflet as dl
import numpy as np
import pytest
from dash import Dash

from app import wall_data as wd
from app.basemap import ATTRIBUTION, IDENTITY, TILE_ROUTE, Display, basemap_of
from app.config import Settings
from app.server import create_app, page_layout
from geo.crs import to_metric, wgs84_to_gcj02
from tests._signin import sign_in_client, with_account
from tests.tile_archives import png, write_mbtiles, write_pmtiles

TILES = {
    (0, 0, 0): png((10, 20, 30), 8),
    (12, 3413, 1673): png((200, 0, 0), 8),
    (12, 3413, 1674): png((0, 200, 0), 8),
}
KEY = "0123456789abcdef0123456789abcdef"


def layers_of(app: Dash, path: str) -> list[Any]:
    root = page_layout(app, path)
    return [root, *root._traverse()]


def tile_layers(app: Dash, path: str) -> list[dl.TileLayer]:
    return [c for c in layers_of(app, path) if isinstance(c, dl.TileLayer)]


@pytest.fixture(params=["mbtiles", "pmtiles"])
def archive_app(request: Any, tmp_path: Path, town_settings: Settings) -> Dash:
    kind = request.param
    writer = write_mbtiles if kind == "mbtiles" else write_pmtiles
    path = writer(tmp_path / f"base.{kind}", TILES, "png", (119.9, 29.9, 120.1, 30.1))
    settings = Settings(db=town_settings.db, basemap=kind, basemap_path=str(path)).validate()
    return with_account(create_app(settings))


def test_local_archive_is_served_by_ember(archive_app: Dash) -> None:
    client = sign_in_client(archive_app.server.test_client())
    for (z, x, y), data in TILES.items():
        got = client.get(f"/tiles/{z}/{x}/{y}")
        assert got.status_code == 200
        assert got.data == data
        assert got.headers["Content-Type"] == "image/png"
        assert "max-age" in got.headers["Cache-Control"]
    again = client.get("/tiles/0/0/0", headers={"If-None-Match": got.headers["ETag"]})
    assert again.status_code in (200, 304)
    same = client.get("/tiles/12/3413/1674", headers={"If-None-Match": got.headers["ETag"]})
    assert same.status_code == 304
    assert client.get("/tiles/12/3413/1675").status_code == 404  # not in the archive
    assert client.get("/tiles/3/9/9").status_code == 404  # off the grid
    assert client.get("/tiles/a/b/c").status_code == 404
    for path in ("/", "/map"):
        (layer,) = tile_layers(archive_app, path)
        assert layer.url == TILE_ROUTE  # same host: nothing leaves the command room
        assert (layer.minNativeZoom, layer.maxNativeZoom) == (0, 12)
        assert layer.bounds == [[29.9, 119.9], [30.1, 120.1]]


def test_no_basemap_draws_no_tiles_and_serves_none(town_app: Dash) -> None:
    assert not tile_layers(town_app, "/") and not tile_layers(town_app, "/map")
    client = sign_in_client(with_account(town_app).server.test_client())
    assert client.get("/tiles/0/0/0").status_code == 404


def test_online_basemaps(town_settings: Settings) -> None:
    def spec(**kw: Any) -> Any:
        return basemap_of(Settings(db=town_settings.db, **kw).validate())

    tianditu = spec(basemap="tianditu", tianditu_key=KEY)
    assert [t.url.split("/")[3] for t in tianditu.tiles] == ["vec_w", "cva_w"]
    assert all(f"tk={KEY}" in t.url and t.subdomains == "01234567" for t in tianditu.tiles)
    assert "{z}" in tianditu.tiles[0].url and tianditu.display is IDENTITY  # CGCS2000 ≈ WGS84
    img = spec(basemap="tianditu", tianditu_key=KEY, tianditu_style="img")
    assert [t.url.split("/")[3] for t in img.tiles] == ["img_w", "cia_w"]
    osm = spec(basemap="osm")
    assert osm.tiles[0].url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in osm.attribution and osm.display is IDENTITY
    amap = spec(basemap="amap")
    assert "autonavi.com" in amap.tiles[0].url and amap.display == Display("gcj02")
    assert amap.attribution == ATTRIBUTION["amap"]
    app = create_app(Settings(db=town_settings.db, basemap="osm").validate())
    for path in ("/", "/map"):
        (layer,) = tile_layers(app, path)
        assert layer.url == osm.tiles[0].url and "OpenStreetMap" in layer.attribution
        (the_map,) = [c for c in layers_of(app, path) if isinstance(c, dl.Map)]
        assert the_map.attributionControl is True  # online sources are credited


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    x, y = to_metric([a[0], b[0]], [a[1], b[1]])
    return float(np.hypot(x[1] - x[0], y[1] - y[0]))


def test_amap_shifts_what_is_drawn_and_clicks_back(demo_gpkg: Path) -> None:
    url = str(demo_gpkg)
    plain = with_account(create_app(Settings(db=url).validate()))
    amap = create_app(Settings(db=url, basemap="amap").validate())
    gcj = Display("gcj02")
    # Town layers: every vertex is the GCJ-02 of the stored one (grid cells, labels, bounds).
    for path, map_id in (("/", "wall-map"), ("/map", "town-map")):
        maps = {}
        for name, app in (("plain", plain), ("amap", amap)):
            (maps[name],) = [c for c in layers_of(app, path) if getattr(c, "id", "") == map_id]
        (south, west), (north, east) = maps["plain"].bounds
        x, y = wgs84_to_gcj02([west, east], [south, north])
        flat = [v for corner in maps["amap"].bounds for v in corner]
        assert flat == pytest.approx([y[0], x[0], y[1], x[1]], abs=1e-6)
    # The wall's grid cells, as its map fetches them.
    grid = {
        name: json.loads(
            gzip.decompress(
                sign_in_client(app.server.test_client()).get("/wall/layers/grid_cells.geojson").data
            )
        )["features"][0]["geometry"]["coordinates"][0][0]
        for name, app in (("plain", plain), ("amap", amap))
    }
    x, y = wgs84_to_gcj02(grid["plain"][0], grid["plain"][1])
    assert grid["amap"] == pytest.approx([float(x), float(y)], abs=2e-6)
    assert _metres(tuple(grid["plain"]), tuple(grid["amap"])) > 100  # the shift is real
    # Incident points: the history layer sends the GCJ-02 of each stored WGS84 point.
    cut = wd.cut_of(wd.now_utc())
    stored = wd.history_frame(url, cut).set_index("id")
    body = (
        sign_in_client(amap.server.test_client())
        .get(f"/wall/history.geojson?cut={cut}&window=year")
        .data
    )
    features = json.loads(gzip.decompress(body))["features"]
    assert len(features) > 100
    for f in features[:50]:
        lon, lat = stored.loc[f["properties"]["id"], ["lon", "lat"]]
        assert f["geometry"]["coordinates"] == pytest.approx(list(gcj.point(lon, lat)), abs=2e-6)
        # A click on the drawn point, shifted back, lands on the stored point.
        back = gcj.back(*f["geometry"]["coordinates"])
        assert _metres((float(back[0]), float(back[1])), (lon, lat)) < 0.5
    plain_body = sign_in_client(plain.server.test_client()).get(
        f"/wall/history.geojson?cut={cut}&window=year"
    )
    first = json.loads(gzip.decompress(plain_body.data))["features"][0]
    lon, lat = stored.loc[first["properties"]["id"], ["lon", "lat"]]
    assert first["geometry"]["coordinates"] == pytest.approx([lon, lat])  # none: unchanged
    # Street-level single incidents of the clustered layer are shifted the same way.
    client = sign_in_client(amap.server.test_client())
    singles = json.loads(
        gzip.decompress(client.get(f"/wall/history.geojson?cut={cut}&window=year&z=17").data)
    )["features"]
    assert len(singles) == len(features)
    for f in singles[:50]:
        lon, lat = stored.loc[f["properties"]["id"], ["lon", "lat"]]
        assert f["geometry"]["coordinates"] == pytest.approx(list(gcj.point(lon, lat)), abs=2e-6)


def test_display_collection_shifts_deltas_and_keeps_the_rest() -> None:
    gcj = Display("gcj02")
    delta = {
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [120.1, 30.2]},
                "properties": {"id": "A", "v": 3},
            },
            {"type": "Feature", "geometry": None, "properties": {"id": "B"}},
        ],
        "key": "k",
        "n": 2,
    }
    shifted = gcj.collection(delta)
    assert shifted["key"] == "k" and shifted["features"][1]["geometry"] is None
    x, y = wgs84_to_gcj02(120.1, 30.2)
    assert list(shifted["features"][0]["geometry"]["coordinates"]) == pytest.approx(
        [float(x), float(y)], abs=1e-6
    )
    assert delta["features"][0]["geometry"]["coordinates"] == [120.1, 30.2]  # not mutated
    assert IDENTITY.collection(delta) is delta
    for lon, lat in ((120.0, 30.0), (121.47, 31.23), (116.39, 39.9)):
        shown = gcj.point(lon, lat)
        back = gcj.back(*shown)
        assert _metres((float(back[0]), float(back[1])), (lon, lat)) < 0.5
