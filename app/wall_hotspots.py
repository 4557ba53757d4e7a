"""The map wall's hotspot layers, computed on the server: Gi* hot cells and a KDE heat grid.

Both are functions of the wall's incident frame (the KPI frame with ``lon``/``lat`` that
:mod:`app.wall_data` caches) within the wall's filters (:class:`app.wall_data.WallFilters`:
time window, category, source, village), so the layers always show the same incidents as the
points and the KPI tiles.

- **Gi* hot cells** (:func:`gi_layer`): incidents per grid cell, Getis-Ord Gi* (queen
  contiguity, analytic p-values, Benjamini-Hochberg; :func:`geo.hotspots.gi_star`); only cells
  hot at 90% or more are sent, with ``bin`` 1/2/3 for 90/95/99% and a bilingual ``label``.
  ``bins`` (grid code -> bin) lets the wall restyle its existing grid layer through a
  ``hideout`` instead of drawing a second polygon layer.
- **KDE heat grid** (:func:`heat_layer`): the Gaussian kernel density surface
  (:func:`geo.hotspots.kde`, bandwidth in metres) sampled on a ``cell_m`` grid; only cells above
  ``min_share`` of the peak are sent, as points at the cell centres with ``v`` (share of the
  peak, 0-1), ``c`` (class 1-5, fifths of the peak: the browser maps a class to a colour, as
  ``gridStyle`` does) and ``d`` (incidents per km²). ``cell_m`` travels in the collection's
  ``meta`` so the browser can draw squares or circles of the right size.

:func:`for_wall` is what a wall callback calls: it reads the frame and the grid layer, applies
the filters, computes both layers (cached per store, cut, filters and refresh bucket, so many
wall clients share the work) and shifts the coordinates for the basemap (GCJ-02 for AMap).
Nothing here sees personal data: the wall's frame is read with the wall's masked scope and
carries none of those columns anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from app import wall_data as wd
from app._gzip import gzip_with_etag
from app.basemap import IDENTITY, Display
from app.cli_hotspots import feature_collection, gi_frame
from store import open_store

#: Gi* bins sent to the wall and their labels (bin 1/2/3 = hot at 90/95/99% confidence,
#: -1/-2/-3 cold at the same levels).
HOT_LABELS: dict[int, str] = {
    3: "热点 99% hot",
    2: "热点 95% hot",
    1: "热点 90% hot",
    -1: "冷点 90% cold",
    -2: "冷点 95% cold",
    -3: "冷点 99% cold",
}
#: The labels in each language, for the wall's legend.
HOT_WORDS: dict[int, tuple[str, str]] = {
    b: (f"{'热' if b > 0 else '冷'}点 {lv}%", f"{'hot' if b > 0 else 'cold'} spot {lv}%")
    for b, lv in ((3, 99), (2, 95), (1, 90), (-1, 90), (-2, 95), (-3, 99))
}
#: Fill colours per bin: ColorBrewer RdBu (diverging, colour-blind safe), for the legend and
#: ``assets/wall_map.js`` (``HOT`` there).
HOT_COLOURS: dict[int, str] = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
#: Heat classes 1-5 (fifths of the peak density) and suggested colours (YlOrRd).
HEAT_COLOURS: dict[int, str] = {
    1: "#ffffb2",
    2: "#fecc5c",
    3: "#fd8d3c",
    4: "#f03b20",
    5: "#bd0026",
}
#: Below this many incidents in the window neither layer is computed (nothing to say).
MIN_INCIDENTS = 5
#: Defaults of the heat grid: Gaussian bandwidth and cell size in metres, share of the peak.
BANDWIDTH_M = 200.0
CELL_M = 100.0
MIN_SHARE = 0.05
#: Seconds during which clients share one computation (the wall refreshes every 30 s).
BUCKET_SECONDS = 60


def _empty(**meta: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [], "meta": meta}


def incident_points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Rows of a wall frame with a location, as WGS84 points (``received_at`` kept)."""
    rows = frame.loc[frame["lon"].notna() & frame["lat"].notna()]
    return gpd.GeoDataFrame(
        {"received_at": rows["received_at"].to_numpy()},
        geometry=gpd.points_from_xy(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float)),
        crs=4326,
    )


def gi_layer(
    points: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    min_bin: int = 1,
    village: str | None = None,
) -> dict[str, Any]:
    """Grid cells hot or cold at ``min_bin`` (1 = 90%, 2 = 95%, 3 = 99%) or more, as GeoJSON;
    Gi* over all ``cells``, only ``village``'s cells kept when given.

    Properties: ``code``, ``name``, ``n`` (incidents in the window), ``z`` (Gi* z-score),
    ``bin`` (negative: cold) and ``label``; ``meta`` holds ``n``, ``bins`` (code -> bin of
    every hot or cold cell) and ``counts`` per bin label.
    """
    if len(points) < MIN_INCIDENTS or len(cells) < 2:
        return _empty(n=len(points), bins={}, counts={})
    res = gi_frame(points, cells.reset_index(drop=True))
    keep = np.abs(res["gi_bin"].to_numpy()) >= min_bin
    if village is not None:
        keep &= (res["village_code"] == village).to_numpy()
    hot = res[keep].copy()
    hot["z"] = hot["gi_z"].astype(float).round(2)
    hot["bin"] = hot["gi_bin"].astype(int)
    hot["label"] = hot["bin"].map(HOT_LABELS)
    hot = hot.sort_values("z", ascending=False)
    cols = [c for c in ("code", "name") if c in hot] + ["n", "z", "bin", "label"]
    fc = feature_collection(hot, cols)
    counts = hot["bin"].value_counts()
    fc["meta"] = {
        "n": len(points),
        "bins": {str(c): int(b) for c, b in zip(hot["code"], hot["bin"], strict=True)},
        "counts": {str(HOT_LABELS[int(b)]): int(v) for b, v in sorted(counts.items())},
    }
    return fc


def heat_layer(
    points: gpd.GeoDataFrame,
    *,
    bandwidth_m: float = BANDWIDTH_M,
    cell_m: float = CELL_M,
    min_share: float = MIN_SHARE,
) -> dict[str, Any]:
    """The KDE surface of ``points`` as a point grid (cell centres above ``min_share`` of the
    peak) with ``v`` (share of the peak), ``c`` (class 1-5) and ``d`` (incidents per km²)."""
    from geo.hotspots import kde

    meta = {"n": len(points), "bandwidth_m": bandwidth_m, "cell_m": cell_m}
    if len(points) < MIN_INCIDENTS:
        return _empty(**meta, max_km2=0.0)
    surface = kde(points, bandwidth_m, cell_m=cell_m)
    top = float(surface.values.max(initial=0.0))
    if top <= 0:
        return _empty(**meta, max_km2=0.0)
    gx, gy = surface.centres()
    share = surface.values / top
    keep = share >= min_share
    centres = gpd.GeoSeries(shapely.points(gx[keep], gy[keep]), crs=surface.crs).to_crs(4326)
    lon = np.round(centres.x.to_numpy(), 6)
    lat = np.round(centres.y.to_numpy(), 6)
    v = np.round(share[keep], 3)
    c = np.minimum(5, 1 + np.floor(share[keep] * 5)).astype(int)
    d = np.round(surface.values[keep] * 1e6, 2)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
            "properties": {"v": float(vv), "c": int(cc), "d": float(dd)},
        }
        for x, y, vv, cc, dd in zip(lon, lat, v, c, d, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "meta": {**meta, "max_km2": round(top * 1e6, 2), "min_share": min_share},
    }


@dataclass(frozen=True)
class WallHotspots:
    """Both layers for one wall view (coordinates already in the display's system)."""

    hot: dict[str, Any]
    heat: dict[str, Any]

    def legend(self, lang: str | None = None) -> list[tuple[str, str]]:
        """(colour, label) rows for the wall's legend: hot bins, cold bins, then the heat
        classes; labels in both languages, or in ``lang`` ("zh" or "en") when given."""
        rows = [(HOT_COLOURS[b], _say(HOT_WORDS[b], lang)) for b in HOT_COLOURS]
        top = float(self.heat.get("meta", {}).get("max_km2", 0.0))
        for k in (5, 4, 3, 2, 1):
            lo, hi = f"{top * (k - 1) / 5:.0f}", f"{top * k / 5:.0f}"
            words = (f"热力 {lo}–{hi} 件/km²", f"heat {lo}–{hi} per km²")
            rows.append((HEAT_COLOURS[k], _say(words, lang)))
        return rows


def _say(words: tuple[str, str], lang: str | None) -> str:
    """Chinese, English, or both (``lang`` None)."""
    zh, en = words
    return en if lang == "en" else zh if lang == "zh" else f"{zh} {en}"


def hotspots(
    frame: pd.DataFrame,
    cells: gpd.GeoDataFrame,
    filters: wd.WallFilters,
    now: pd.Timestamp,
    *,
    display: Display = IDENTITY,
    bandwidth_m: float = BANDWIDTH_M,
    cell_m: float = CELL_M,
) -> WallHotspots:
    """Both layers over the rows of ``frame`` within ``filters`` at ``now``.

    With a village filter the heat is of that village's incidents, while Gi* is computed over
    the whole town (same window and category) and only the village's hot cells are kept: a
    village's ten-odd cells are too few for Gi* on their own, and the town's other cells,
    empty in a village-filtered frame, would make the whole village look "hot".
    """
    points = incident_points(wd.filtered(frame, filters, now))
    town = points
    if filters.village:
        town = incident_points(wd.filtered(frame, replace(filters, village=None), now))
    hot = gi_layer(town, cells, village=filters.village)
    heat = heat_layer(points, bandwidth_m=bandwidth_m, cell_m=cell_m)
    start, end = filters.bounds(now)
    for fc in (hot, heat):
        fc["meta"]["window"] = [start.isoformat(), end.isoformat()]
    return WallHotspots(hot=display.collection(hot), heat=display.collection(heat))


def payload(layers: WallHotspots, layer: str) -> tuple[bytes, str]:
    """One layer (``hot`` or ``heat``) as gzipped compact JSON and its ETag, for an HTTP route
    such as ``/wall/hotspots.geojson?layer=heat&cut=…`` (as the history layer is served)."""
    if layer not in ("hot", "heat"):
        raise ValueError(f"unknown layer {layer!r}: 'hot' or 'heat'")
    fc = layers.hot if layer == "hot" else layers.heat
    raw = json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip_with_etag(raw)


# --- the wall's callback ----------------------------------------------------------------


@lru_cache(maxsize=4)
def grid_cells(url: str) -> gpd.GeoDataFrame:
    """The grid layer (code, name, village, geometry) of the store at ``url``, read once."""
    cells = open_store(url).read_layer("grid_cells")
    keep = [c for c in ("code", "name", "village_code") if c in cells]
    return gpd.GeoDataFrame(cells[keep], geometry=cells.geometry, crs=cells.crs)


def _bucket(now: pd.Timestamp) -> str:
    seconds = int(now.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


def for_wall(
    url: str,
    cut: str | None,
    args: dict[str, Any],
    display: Display = IDENTITY,
    now: pd.Timestamp | None = None,
) -> WallHotspots:
    """Both layers for the wall's filter values ``args`` at the page's ``cut``: the history
    at ``cut`` plus what arrived since (:func:`app.wall_view.current_frame`), shared by all
    clients for :data:`BUCKET_SECONDS`."""
    now = wd.now_utc() if now is None else now
    cut = cut or wd.cut_of(now)
    return _for_wall(url, cut, wd.WallFilters.from_args(args), display, _bucket(now))


@lru_cache(maxsize=16)
def _for_wall(
    url: str, cut: str, filters: wd.WallFilters, display: Display, bucket: str
) -> WallHotspots:
    from app import wall_view

    now = pd.Timestamp(bucket) + pd.Timedelta(seconds=BUCKET_SECONDS)
    frame = wall_view.current_frame(url, cut, pd.Timestamp(bucket))
    frame = frame.loc[frame["received_at"] <= now]
    return hotspots(frame, grid_cells(url), filters, now, display=display)


__all__ = [
    "HEAT_COLOURS",
    "HOT_COLOURS",
    "HOT_LABELS",
    "HOT_WORDS",
    "WallHotspots",
    "for_wall",
    "gi_layer",
    "heat_layer",
    "hotspots",
    "incident_points",
    "payload",
]
