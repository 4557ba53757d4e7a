"""Point clusters for a web map, per zoom level, computed once on the server.

A wall showing 100,000 incidents should not send 100,000 points to the browser only to have it
cluster them: :func:`cluster_levels` clusters the points for every zoom level at once, and the
map asks for the clusters of its zoom and view (a few hundred features).

At each zoom, points are first binned into square cells of ``radius_px`` screen pixels of the
Web Mercator tile pyramid (vectorised); the cells are then merged greedily, largest first, with
every other cell whose centroid lies within ``radius_px`` of theirs (as supercluster merges
points), so no two cluster symbols sit on top of each other. A cluster is drawn at its members'
centroid; the zoom at which its members first fall into more than one feature (its *expansion
zoom*, where a click on it takes the map) is computed from the members themselves.

Hand-written because no maintained Python library does it: the field's display clusterers
(supercluster, Leaflet.markercluster) are JavaScript and run in the browser, which is what this
replaces; scikit-learn's clusterers find density clusters, not a per-zoom display hierarchy.
The greedy pass runs over cells, not points (a few thousand at street level), with SciPy's
k-d tree for the neighbour queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["ClusterLevels", "cluster_levels", "lonlat_to_world", "world_to_lonlat"]

#: Web Mercator's latitude limit: points beyond cannot be placed on a web map.
MAX_LAT = 85.05112878
#: Tile size of the Web Mercator pyramid in pixels (Leaflet's and every web map's).
TILE_PX = 256


def lonlat_to_world(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Longitude/latitude (degrees) to Web Mercator world coordinates in [0, 1), y down.

    This is the tile pyramid's own normalisation (zoom 0 is one tile), not a CRS transform:
    pixel ``x * 256 * 2**z`` at zoom ``z``.
    """
    x = (np.asarray(lon, dtype=float) + 180.0) / 360.0
    phi = np.radians(np.clip(np.asarray(lat, dtype=float), -MAX_LAT, MAX_LAT))
    y = 0.5 - np.log(np.tan(np.pi / 4 + phi / 2)) / (2 * np.pi)
    return x, y


def world_to_lonlat(
    x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The inverse of :func:`lonlat_to_world`."""
    lon = np.asarray(x, dtype=float) * 360.0 - 180.0
    t = np.exp((0.5 - np.asarray(y, dtype=float)) * 2 * np.pi)
    lat = np.degrees(2 * np.arctan(t) - np.pi / 2)
    return lon, lat


@dataclass(frozen=True)
class ClusterLevels:
    """Clusters and single points per zoom level.

    ``levels[z]`` is a DataFrame, one row per feature drawn at zoom ``z``: ``lon``, ``lat``
    (the members' centroid; the point itself for a single point), ``n`` (members), ``expand``
    (the zoom at which a cluster's members first fall into several features; 0 for single
    points), ``row`` (the input position of a single point, -1 for a cluster) and the sum of
    each weight column over the members. ``labels[z]`` gives, for every located input point
    (in the order of ``points``), the row of ``levels[z]`` it is drawn in. At zooms above
    ``max_zoom`` every point is drawn on its own (:meth:`at` answers with ``points``).
    """

    levels: Mapping[int, pd.DataFrame]
    labels: Mapping[int, npt.NDArray[np.int64]]
    points: pd.DataFrame
    min_zoom: int
    max_zoom: int

    def at(self, zoom: int, bbox: Sequence[float] | None = None) -> pd.DataFrame:
        """The features to draw at ``zoom`` (clamped to the levels; above them, the points)
        whose position lies in ``bbox`` = (west, south, east, north), if given."""
        z = max(self.min_zoom, int(zoom))
        frame = self.points if z > self.max_zoom else self.levels[z]
        if bbox is None or frame.empty:
            return frame
        west, south, east, north = bbox
        lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
        return frame.loc[(lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)]


def cluster_levels(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    min_zoom: int = 9,
    max_zoom: int = 16,
    radius_px: float = 64,
    min_points: int = 3,
    weights: Mapping[str, npt.ArrayLike] | None = None,
) -> ClusterLevels:
    """Cluster points for every zoom from ``min_zoom`` to ``max_zoom``.

    Parameters
    ----------
    lon, lat : array_like
        Point coordinates in degrees (WGS84, or the display system the map draws in). Points
        with a missing coordinate are left out.
    min_zoom, max_zoom : int
        Zoom levels to cluster at; above ``max_zoom`` the map shows single points.
    radius_px : float
        Screen pixels within which points are drawn as one cluster (about a symbol's size).
    min_points : int
        Fewest points that make a cluster; fewer are drawn one by one.
    weights : mapping of str to array_like, optional
        Per-point values summed over each cluster (e.g. an overdue flag, to count overdue
        incidents in a cluster); single points carry their own value.

    Returns
    -------
    ClusterLevels
    """
    if not 0 <= min_zoom <= max_zoom <= 24:
        raise ValueError(f"zooms must satisfy 0 <= min <= max <= 24: {min_zoom}, {max_zoom}")
    if not radius_px > 0:
        raise ValueError(f"radius_px must be positive: {radius_px}")
    if min_points < 2:
        raise ValueError(f"min_points must be at least 2: {min_points}")
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    keep = np.isfinite(lon_a) & np.isfinite(lat_a)
    x, y = lonlat_to_world(lon_a[keep], lat_a[keep])
    sums = {k: np.asarray(v, dtype=float)[keep] for k, v in (weights or {}).items()}
    points = pd.DataFrame(
        {
            "lon": lon_a[keep],
            "lat": lat_a[keep],
            "n": 1,
            "expand": 0,
            "row": np.flatnonzero(keep),
            **sums,
        }
    )
    zooms = range(min_zoom, max_zoom + 1)
    groups = {z: _groups(x, y, z, radius_px) for z in zooms}
    labels = {z: _labels(groups[z], min_points) for z in zooms}
    levels = {z: _features(labels[z], x, y, points, sums) for z in zooms}
    for z in zooms:
        cluster = levels[z]["row"].to_numpy() < 0
        levels[z].loc[cluster, "expand"] = _expansion(labels, z, max_zoom)[cluster]
    return ClusterLevels(levels, labels, points, min_zoom, max_zoom)


def _groups(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], zoom: int, radius: float
) -> npt.NDArray[np.int64]:
    """The group of every point at ``zoom``: cells of ``radius`` pixels, merged greedily."""
    if not len(x):
        return np.zeros(0, dtype=np.int64)
    scale = TILE_PX * 2.0**zoom
    px, py = x * scale, y * scale
    keys = np.floor(px / radius).astype(np.int64) * (1 << 32) + np.floor(py / radius).astype(
        np.int64
    )
    _, cell, counts = np.unique(keys, return_inverse=True, return_counts=True)
    cx = np.bincount(cell, weights=px) / counts
    cy = np.bincount(cell, weights=py) / counts
    # Largest cells first take every untaken cell whose centroid is within the radius.
    neighbours = cKDTree(np.column_stack([cx, cy])).query_ball_point(
        np.column_stack([cx, cy]), r=radius
    )
    group = np.full(len(counts), -1, dtype=np.int64)
    n_groups = 0
    for c in np.argsort(-counts, kind="stable"):
        if group[c] >= 0:
            continue
        for other in neighbours[c]:
            if group[other] < 0:
                group[other] = n_groups
        n_groups += 1
    return np.asarray(group[cell], dtype=np.int64)


def _labels(group: npt.NDArray[np.int64], min_points: int) -> npt.NDArray[np.int64]:
    """Feature row of every point: groups of at least ``min_points`` first (as clusters, in
    group order), then every other point on its own (in input order)."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    big = np.bincount(group) >= min_points
    labels = (np.cumsum(big) - 1)[group]
    alone = ~big[group]
    labels[alone] = int(big.sum()) + np.arange(int(alone.sum()))
    return np.asarray(labels, dtype=np.int64)


def _features(
    labels: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    points: pd.DataFrame,
    sums: Mapping[str, npt.NDArray[np.float64]],
) -> pd.DataFrame:
    """The rows of one zoom, in label order: clusters at their centroid, then single points."""
    counts = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    grouped = counts > 1  # clusters come first in the labels, single points after
    k = int(grouped.sum())
    cx = np.bincount(labels, weights=x, minlength=len(counts))[:k] / counts[:k]
    cy = np.bincount(labels, weights=y, minlength=len(counts))[:k] / counts[:k]
    lon, lat = world_to_lonlat(cx, cy)
    clusters = pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "n": counts[:k],
            "expand": 0,
            "row": -1,
            **{c: np.bincount(labels, v, minlength=len(counts))[:k] for c, v in sums.items()},
        }
    )
    alone = points.iloc[np.flatnonzero(counts[labels] == 1)] if len(labels) else points
    return pd.concat([clusters, alone], ignore_index=True)


def _expansion(
    labels: Mapping[int, npt.NDArray[np.int64]], zoom: int, max_zoom: int
) -> npt.NDArray[np.int64]:
    """Per feature of ``zoom``: the first zoom above it where its members lie in several
    features (``max_zoom + 1`` when they never do, e.g. points at one address)."""
    here = labels[zoom]
    n = int(here.max(initial=-1)) + 1
    out = np.full(n, max_zoom + 1, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for z in range(zoom + 1, max_zoom + 1):
        members = open_[here]
        if not members.any():
            break
        there = labels[z][members]
        width = int(there.max()) + 1
        pairs = np.unique(here[members] * width + there)
        owners, split = np.unique(pairs // width, return_counts=True)
        splitting = owners[split > 1]
        out[splitting] = z
        open_[splitting] = False
    return out
