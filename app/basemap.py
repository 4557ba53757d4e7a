"""The basemap under Ember's layers, and the display transform it implies.

:func:`basemap_of` turns the validated settings into a :class:`Basemap`: the tile sources the maps
draw (none by default) and the coordinate system the tiles are drawn in. Ember stores WGS84;
Tianditu (CGCS2000, within centimetres of WGS84), OpenStreetMap and local archives need no shift,
AMap's tiles are GCJ-02. :class:`Display` is the one place where coordinates change on their way
to the browser (:meth:`Display.collection`, :meth:`Display.lonlat`) and back from it
(:meth:`Display.back`, for clicked positions).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping, shape

from geo import crs

if TYPE_CHECKING:
    from app.config import Settings

#: Route of a local archive's tiles (``app.server``); Leaflet fills in z, x, y.
TILE_ROUTE = "/tiles/{z}/{x}/{y}"
TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
#: Tianditu style -> (base layer, annotation layer).
TIANDITU_LAYERS = {"vec": ("vec", "cva"), "img": ("img", "cia")}
AMAP = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
ATTRIBUTION = {
    "tianditu": "天地图 © 国家地理信息公共服务平台",
    "amap": "© 高德地图 AutoNavi",
    "osm": '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
}

T = TypeVar("T")


@dataclass(frozen=True)
class TileSource:
    """One Leaflet tile layer: URL template and the options it needs."""

    url: str
    subdomains: str = "abc"
    max_native_zoom: int = 18
    min_native_zoom: int = 0
    #: ``(west, south, east, north)``: Leaflet asks for no tile outside (local archives).
    bounds: tuple[float, float, float, float] | None = None
    attribution: str = ""

    def options(self) -> dict[str, Any]:
        """Keyword arguments of ``dash_leaflet.TileLayer``."""
        out: dict[str, Any] = {
            "url": self.url,
            "subdomains": self.subdomains,
            "maxNativeZoom": self.max_native_zoom,
            "minNativeZoom": self.min_native_zoom,
            "maxZoom": 20,
            "attribution": self.attribution,
        }
        if self.bounds is not None:
            west, south, east, north = self.bounds
            out["bounds"] = [[south, west], [north, east]]
        return out


@dataclass(frozen=True)
class Display:
    """Coordinates as the browser draws them: ``wgs84`` (no change) or ``gcj02`` (AMap)."""

    crs: str = "wgs84"

    @property
    def shifted(self) -> bool:
        return self.crs != "wgs84"

    def lonlat(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Stored WGS84 -> display coordinates (arrays; shifted ones rounded to ~0.1 m)."""
        if not self.shifted:
            return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        x, y = crs.from_wgs84(lon, lat, self.crs)
        return np.round(x, 6), np.round(y, 6)

    def back(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Display coordinates (a click) -> WGS84, for anything the app computes with."""
        if not self.shifted:
            return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        return crs.to_wgs84(lon, lat, self.crs)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """One WGS84 point for display, rounded to ~0.1 m."""
        x, y = self.lonlat([lon], [lat])
        return round(float(x[0]), 6), round(float(y[0]), 6)

    def _xy(self, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.column_stack(self.lonlat(xy[:, 0], xy[:, 1]))

    def collection(self, fc: dict[str, Any]) -> dict[str, Any]:
        """A copy of a GeoJSON FeatureCollection (or any dict with ``features``) for display;
        the same object when nothing shifts."""
        if not self.shifted or not fc.get("features"):
            return fc
        features = fc["features"]
        present = [f for f in features if f.get("geometry")]
        moved = shapely.transform(np.array([shape(f["geometry"]) for f in present]), self._xy)
        by_id = {id(f): mapping(g) for f, g in zip(present, moved, strict=True)}
        out = [{**f, "geometry": by_id[id(f)]} if id(f) in by_id else f for f in features]
        return {**fc, "features": out}

    def bounds(self, b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` for display."""
        (west, east), (south, north) = self.lonlat([b[0], b[2]], [b[1], b[3]])
        return float(west), float(south), float(east), float(north)

    def town(self, data: T) -> T:
        """A :class:`~app.components.town_map.TownData` with every layer shifted for display."""
        if not self.shifted:
            return data
        d: Any = data
        return dataclasses.replace(  # type: ignore[type-var]
            d,
            bounds=self.bounds(d.bounds),
            layers={name: self.collection(fc) for name, fc in d.layers.items()},
            labels=self.collection(d.labels),
        )


IDENTITY = Display()


@dataclass(frozen=True)
class Basemap:
    """The basemap: its tile layers (bottom first), attribution and display transform."""

    kind: str = "none"
    tiles: tuple[TileSource, ...] = ()
    display: Display = IDENTITY

    @property
    def attribution(self) -> str:
        return " | ".join(t.attribution for t in self.tiles if t.attribution)


NONE = Basemap()


def basemap_of(settings: Settings) -> Basemap:
    """The basemap selected by validated ``settings`` (archives are opened to read their zooms)."""
    kind = settings.basemap.strip().lower()
    if kind in ("none", "") and settings.basemap_url:
        kind = "url"  # settings not passed through ``validate()``'s normalisation
    if kind in ("mbtiles", "pmtiles"):
        from layers.tiles import open_archive

        archive = open_archive(settings.basemap_path, kind)
        info = archive.info
        archive.close()
        tile = TileSource(TILE_ROUTE, "", info.max_zoom, info.min_zoom, info.bounds, attribution="")
        return Basemap(kind, (tile,))
    if kind == "tianditu":
        layers = TIANDITU_LAYERS[settings.tianditu_style]
        key = settings.tianditu_key
        urls = [TIANDITU.replace("{layer}", layer).replace("{key}", key) for layer in layers]
        base = TileSource(urls[0], "01234567", 18, attribution=ATTRIBUTION["tianditu"])
        return Basemap(kind, (base, TileSource(urls[1], "01234567", 18)))
    if kind == "amap":
        tile = TileSource(AMAP, "1234", 18, attribution=ATTRIBUTION["amap"])
        return Basemap(kind, (tile,), Display("gcj02"))
    if kind == "osm":
        return Basemap(kind, (TileSource(OSM, "", 19, attribution=ATTRIBUTION["osm"]),))
    if kind == "url":
        return Basemap(kind, (TileSource(settings.basemap_url, "abc", 20),))
    return NONE


def custom(url: str) -> Basemap:
    """A basemap of one tile URL template (empty: none)."""
    return Basemap("url", (TileSource(url, "abc", 20),)) if url else NONE
