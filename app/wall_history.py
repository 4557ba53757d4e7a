"""The wall's history layer over HTTP: ``GET /wall/history.geojson?cut=…&window=…[&z=…&bbox=…]``.

With ``z`` (the map's zoom) the answer is what the map draws at that zoom: clusters of
incidents (``cluster``, ``point_count``, ``e`` the zoom at which it splits, ``o`` how many of its
incidents are overdue) and the incidents left on their own, within ``bbox`` (west,south,east,
north) when given. The clusters of every zoom are computed once per (store, cut, filters,
display) by :func:`geo.map_clusters.cluster_levels` and kept; an answer is a crop of them. A
town's wall at 100,000 incidents thus receives a few hundred features instead of every point,
and the browser clusters nothing.

Without ``z`` the answer is every point of the filtered history (for clients other than the
wall: scripts, exports of the view).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from app._gzip import gzip_with_etag
from app.basemap import IDENTITY, Display
from app.wall_data import STATES, WallFilters, filtered, history_frame, overdue_flags, parse_cut
from geo.map_clusters import ClusterLevels, cluster_levels

__all__ = [
    "BadViewArgument",
    "answer",
    "clusters_payload",
    "first_frame",
    "history_payload",
    "parse_bbox",
    "parse_zoom",
    "points_geojson",
    "prepare",
]

#: Zoom levels clustered on the server (the map's own range is 9–19): from a county down to a
#: street; above :data:`MAX_ZOOM` the wall shows single incidents.
MIN_ZOOM, MAX_ZOOM = 9, 16
#: Cluster radius in screen pixels at 1080p, about the largest cluster symbol (the browser asks
#: a zoom lower on a larger screen, where symbols are drawn twice as large).
RADIUS_PX = 72
#: Fewest incidents shown as a cluster.
MIN_POINTS = 3
#: Most features of a zoom in the wall's first frame (:func:`first_frame`): a town opens at
#: a zoom of a few dozen clusters; 150 keeps the layout within ~25 KB at 100,000 incidents.
FIRST_FRAME_MAX = 150


def _located(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame["lon"].notna() & frame["lat"].notna()]


def _point_props(rows: pd.DataFrame, now: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """State index ``s`` and overdue flag ``o`` of every row."""
    state_index = {s: i for i, s in enumerate(STATES)}
    codes = rows["state"].map(state_index).fillna(0).astype(int).to_numpy()
    return codes, overdue_flags(rows, now).astype(int)


def _collection(lon: Any, lat: Any, properties: list[str]) -> bytes:
    """A FeatureCollection of points from coordinates and each feature's properties (JSON
    objects as text), as UTF-8 bytes: written directly, for 100,000 points in a blink."""
    parts = [
        f'{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{x},{y}]}},'
        f'"properties":{p}}}'
        for x, y, p in zip(lon, lat, properties, strict=True)
    ]
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


def _incident_props(ids: Any, states: Any, late: Any) -> list[str]:
    """``{"id", "s", "o"}`` of single incidents: nothing personal."""
    return [f'{{"id":"{i}","s":{s},"o":{o}}}' for i, s, o in zip(ids, states, late, strict=True)]


def points_geojson(frame: pd.DataFrame, now: pd.Timestamp, display: Display = IDENTITY) -> bytes:
    """A compact GeoJSON FeatureCollection of ``frame``'s points: ``id``, state index ``s``,
    overdue flag ``o``; rows without a location are left out; coordinates in ``display``'s
    system. UTF-8 bytes."""
    rows = _located(frame)
    lon, lat = display.lonlat(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float))
    codes, late = _point_props(rows, now)
    return _collection(lon, lat, _incident_props(rows["id"].to_numpy(), codes, late))


@lru_cache(maxsize=16)
def history_payload(
    url: str, cut: str, filters: WallFilters, display: Display = IDENTITY
) -> tuple[bytes, str]:
    """Gzipped points of the filtered history at ``cut`` (for ``display``), and its ETag."""
    now = pd.Timestamp(cut)
    return gzip_with_etag(
        points_geojson(filtered(history_frame(url, cut), filters, now), now, display)
    )


class _Kept:
    """The last :data:`size` results of :func:`_compute_levels` by their arguments, least
    recently used dropped first; unlike ``functools.lru_cache``, it can be asked whether a
    result is kept without computing it (the layout's first frame must not wait for one)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], tuple[ClusterLevels, pd.DataFrame]]
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[ClusterLevels, pd.DataFrame] | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple[Any, ...], value: tuple[ClusterLevels, pd.DataFrame]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_KEPT = _Kept(8)


def _levels(
    url: str, cut: str, filters: WallFilters, display: Display
) -> tuple[ClusterLevels, pd.DataFrame]:
    """The clusters of every zoom of the filtered history, and its located rows (id, s, o):
    kept for the last few (store, cut, filters, display)."""
    key = (url, cut, filters, display)
    kept = _KEPT.get(key)
    if kept is None:
        kept = _compute_levels(url, cut, filters, display)
        _KEPT.put(key, kept)
    return kept


def _compute_levels(
    url: str, cut: str, filters: WallFilters, display: Display
) -> tuple[ClusterLevels, pd.DataFrame]:
    now = pd.Timestamp(cut)
    rows = _located(filtered(history_frame(url, cut), filters, now))
    codes, late = _point_props(rows, now)
    lon, lat = display.lonlat(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float))
    levels = cluster_levels(
        lon,
        lat,
        min_zoom=MIN_ZOOM,
        max_zoom=MAX_ZOOM,
        radius_px=RADIUS_PX,
        min_points=MIN_POINTS,
        weights={"o": late},
    )
    props = pd.DataFrame({"id": rows["id"].to_numpy(), "s": codes, "o": late})
    # Kept without the per-point labels of every zoom (8 int64 arrays of the history's length):
    # answers need only the features.
    slim = ClusterLevels(levels.levels, {}, levels.points, levels.min_zoom, levels.max_zoom)
    return slim, props


def prepare(url: str, cut: str, filters: WallFilters, display: Display = IDENTITY) -> None:
    """Compute (and keep) the clusters of every zoom for ``filters`` at ``cut``."""
    _levels(url, cut, filters, display)


def first_frame(
    url: str, cut: str, filters: WallFilters, display: Display = IDENTITY
) -> dict[str, Any]:
    """What the wall's map draws first: ``{zoom: FeatureCollection}`` of the whole town, for
    every zoom from :data:`MIN_ZOOM` up to the last with at most :data:`FIRST_FRAME_MAX`
    features; empty unless the clusters for these arguments are already computed (a page's
    layout must not wait for them: the history request computes them then).

    The wall's page carries it in its layout, and the map draws the zoom it opens at from it
    as soon as it has its view (``assets/wall_map_first.js``), instead of a request made after
    the map's lazily loaded layers have rendered."""
    kept = _KEPT.get((url, cut, filters, display))
    if kept is None:
        return {}
    levels, props = kept
    frames: dict[str, Any] = {}
    for zoom in range(MIN_ZOOM, MAX_ZOOM + 1):
        features = levels.at(zoom, None)
        if len(features) > FIRST_FRAME_MAX:
            break
        frames[str(zoom)] = json.loads(clusters_geojson(features, props))
    return frames


def clusters_geojson(features: pd.DataFrame, props: pd.DataFrame) -> bytes:
    """GeoJSON of a zoom's features (:meth:`ClusterLevels.at`): clusters with ``cluster``,
    ``point_count``, expansion zoom ``e`` and overdue count ``o``; single incidents with the
    properties of :func:`points_geojson`."""
    one = features["row"].to_numpy() >= 0
    groups, single = features.loc[~one], features.loc[one]
    chosen = props.iloc[single["row"].to_numpy()]
    cluster_props = [
        f'{{"cluster":true,"point_count":{n},"e":{e},"o":{int(o)}}}'
        for n, e, o in zip(groups["n"], groups["expand"], groups["o"], strict=True)
    ]
    single_props = _incident_props(chosen["id"], chosen["s"], chosen["o"])
    return _collection(
        np.concatenate([np.round(groups["lon"].to_numpy(), 6), single["lon"].to_numpy()]),
        np.concatenate([np.round(groups["lat"].to_numpy(), 6), single["lat"].to_numpy()]),
        cluster_props + single_props,
    )


def clusters_payload(
    url: str,
    cut: str,
    filters: WallFilters,
    zoom: int,
    bbox: tuple[float, float, float, float] | None,
    display: Display = IDENTITY,
) -> tuple[bytes, str]:
    """Gzipped GeoJSON of what the map draws at ``zoom`` within ``bbox``, and its ETag."""
    levels, props = _levels(url, cut, filters, display)
    return gzip_with_etag(clusters_geojson(levels.at(zoom, bbox), props))


class BadViewArgument(ValueError):
    """A ``z`` or ``bbox`` argument that is not a zoom or a box (the route answers 400)."""


def parse_zoom(value: str | None) -> int | None:
    """The ``z`` argument: None when absent, else an integer zoom 0–24 (fractions are
    floored: the map's zoom snaps in quarters).

    Raises
    ------
    BadViewArgument
        When present but not a number in 0–24.
    """
    if value in (None, ""):
        return None
    try:
        zoom = float(value)
    except ValueError:
        zoom = float("nan")
    if not 0 <= zoom <= 24:
        raise BadViewArgument(f"z 须为 0–24 的缩放级别 / z must be a zoom level 0–24: {value!r}")
    return int(zoom)


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """The ``bbox`` argument ``west,south,east,north`` in degrees; None when absent.

    Raises
    ------
    BadViewArgument
        When present but not four finite numbers with west < east and south < north.
    """
    if value in (None, ""):
        return None
    try:
        parts = tuple(float(v) for v in str(value).split(","))
    except ValueError:
        parts = ()
    if len(parts) == 4 and all(np.isfinite(parts)) and parts[0] < parts[2] and parts[1] < parts[3]:
        return parts[0], parts[1], parts[2], parts[3]
    raise BadViewArgument(
        "bbox 须为 西,南,东,北 四个数 / bbox must be west,south,east,north: " + repr(value)
    )


def answer(
    args: dict[str, Any], url: str, display: Display, now: pd.Timestamp
) -> tuple[bytes, str]:
    """(gzipped body, ETag) for the request arguments ``args`` of the history route.

    Raises
    ------
    BadViewArgument
        For a malformed ``z`` or ``bbox``.
    """
    cut = parse_cut(args.get("cut"), now)
    filters = WallFilters.from_args(args)
    zoom = parse_zoom(args.get("z"))
    bbox = parse_bbox(args.get("bbox"))
    if zoom is None:
        return history_payload(url, cut, filters, display)
    return clusters_payload(url, cut, filters, zoom, bbox, display)
