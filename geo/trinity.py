"""Trinity assignment 网格+警格+智慧消防站: for WGS84 points, the grid cell, village, police beat
and their officers, the nearest fire station with its distance, and whether the point is inside
that station's coverage.

Rules
-----
* Membership is shapely's ``covers`` on the layers in EPSG:4326 (the storage CRS; other CRSs are
  transformed first): a point on an edge or a vertex is covered by every polygon it touches.
* Shared boundaries: among the grid cells covering a point the one with the smallest ``code``
  (string order) wins; the same for police beats. So a point on the edge between cells
  ``…001001`` and ``…001002``, or on a vertex they share with more cells, goes to ``…001001``.
* Town: a point is inside when the town polygon covers it (its outer boundary counts as inside);
  without a town layer, when some grid cell covers it. Points outside, and points with invalid
  coordinates (see :mod:`geo.coords`), get null codes and a reason; inside points in no cell or
  no beat (gaps in the layers) get the codes that exist and a reason.
* Nearest fire station: smallest planar distance in EPSG:4549 metres, ties to the smallest code.
  ``in_station_coverage`` is whether that station's coverage polygons of ``minutes`` minutes
  cover the point (NA when the station has none).

How it is fast
--------------
:class:`TrinityIndex` rasterises the layers once in EPSG:4549 (``pixel_m`` metres, 5 by
default): pixels are labelled by the face of the layer arrangement they lie in, and each face is
classified once with the exact test above; pixels a boundary comes near are "mixed" and their
points take the exact path (``STRtree`` + ``covers``). See :mod:`geo._raster` for why a pure pixel's
answer is exact. Stations are found with ``scipy.spatial.cKDTree``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo._layers import Lookup, Polygons, coverage_by_station, sorted_by_code, storage
from geo._raster import Grid, LabelArray, boundary_samples, face_labels
from geo.coords import REASON_CODES, coordinate_reasons, reason_text
from geo.crs import from_metric, to_metric

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_PIXEL_M = 5.0
MAX_PIXELS = 20_000_000  # 80 MB per int32 label raster

#: Reasons added to those of :mod:`geo.coords` (their integer codes follow those).
TRINITY_REASONS: dict[str, tuple[str, str]] = {
    "outside_town": ("镇域外", "outside the town"),
    "no_grid_cell": ("不在任何网格内", "in no grid cell"),
    "no_beat": ("不在任何警格内", "in no police beat"),
    "no_grid_cell_or_beat": ("不在任何网格和警格内", "in no grid cell and no police beat"),
}
_CODES: tuple[str, ...] = REASON_CODES + tuple(TRINITY_REASONS)
#: Reason texts, "中文 / English", in code order without ``ok``.
REASON_TEXTS: tuple[str, ...] = tuple(reason_text(c) for c in REASON_CODES[1:]) + tuple(
    f"{zh} / {en}" for zh, en in TRINITY_REASONS.values()
)
OUTSIDE_TOWN = REASON_TEXTS[_CODES.index("outside_town") - 1]

COLUMNS = (
    "grid_code", "village_code", "beat_code", "grid_officer_id", "grid_officer_name",
    "beat_officer_id", "beat_officer_name", "station_code", "station_distance_m",
    "in_station_coverage", "reason",
)  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class TrinityIndex:
    """Precomputed trinity lookup over one town's layers; build with :meth:`from_layers`."""

    grid: Grid
    cells: Polygons
    beats: Polygons
    town: shapely.Geometry | None
    #: Face label per pixel (0 = mixed) and, per face, cell / beat index and inside-town flag;
    #: entry 0 is unused (mixed pixels take the exact path), the last is "off the grid".
    area_labels: LabelArray
    area_table: dict[str, npt.NDArray[Any]]
    station_xy: FloatArray
    station_lookup: Lookup
    kdtree: cKDTree | None
    #: Per station its coverage geometry or None; coverage faces like the area faces.
    coverage: npt.NDArray[np.object_]
    cov_labels: LabelArray | None
    cov_table: BoolArray

    def __repr__(self) -> str:
        return (
            f"TrinityIndex({len(self.cells.geoms)} grid cells, {len(self.beats.geoms)} beats, "
            f"{len(self.station_xy)} stations, {self.pixel_m:g} m pixels, "
            f"{self.mixed_share:.1%} mixed)"
        )

    @property
    def pixel_m(self) -> float:
        """Pixel size actually used (grows when the town would need more than MAX_PIXELS)."""
        return self.grid.px

    @property
    def mixed_share(self) -> float:
        """Share of the raster's pixels that take the exact path for the grid-cell lookup."""
        return float(np.mean(self.area_labels == 0))

    @classmethod
    def from_layers(
        cls,
        grid_cells: gpd.GeoDataFrame,
        police_beats: gpd.GeoDataFrame,
        fire_stations: gpd.GeoDataFrame,
        fire_station_coverage: gpd.GeoDataFrame | None = None,
        town: gpd.GeoDataFrame | None = None,
        pixel_m: float = DEFAULT_PIXEL_M,
        minutes: int = 3,
    ) -> TrinityIndex:
        """Build the index from the layers (any CRS; each must have one).

        Parameters
        ----------
        grid_cells : GeoDataFrame
            Columns ``code``, ``village_code``, ``officer_id``, ``officer_name``; polygons.
        police_beats : GeoDataFrame
            Columns ``code``, ``officer_id``, ``officer_name``; polygons.
        fire_stations : GeoDataFrame
            Column ``code``; points.
        fire_station_coverage : GeoDataFrame, optional
            Columns ``station_code`` and ``minutes``; only rows of ``minutes`` minutes are used.
        town : GeoDataFrame, optional
            The town polygon(s); without it the union of the grid cells is the town.
        pixel_m : float
            Raster pixel size in metres (smaller: fewer exact tests, more memory).
        minutes : int
            Which coverage rows count.
        """
        cells = Polygons(
            grid_cells, "grid_cells",
            {"grid_code": "code", "village_code": "village_code",
             "grid_officer_id": "officer_id", "grid_officer_name": "officer_name"},
        )  # fmt: skip
        if len(cells.geoms) == 0:
            raise ValueError("网格图层为空 / the grid_cells layer is empty")
        beats = Polygons(
            police_beats, "police_beats",
            {"beat_code": "code", "beat_officer_id": "officer_id",
             "beat_officer_name": "officer_name"},
        )  # fmt: skip
        town_geom = None
        if town is not None:
            town_geom = shapely.union_all(storage(town, "town").geometry.values)
            shapely.prepare(town_geom)
        stations = sorted_by_code(storage(fire_stations, "fire_stations"), "fire_stations", ())
        coverage = coverage_by_station(fire_station_coverage, stations["code"], minutes)

        area = np.concatenate([cells.geoms, beats.geoms, [town_geom]])
        area = area[~shapely.is_missing(area)]
        ax, ay = boundary_samples(area, pixel_m / 2)
        cx, cy = boundary_samples(coverage[~shapely.is_missing(coverage)], pixel_m / 2)
        # If the grid grows coarser than pixel_m the samples are denser than needed: still sound.
        grid = Grid.around(np.append(ax, cx), np.append(ay, cy), pixel_m, MAX_PIXELS)
        area_labels, reps = face_labels(grid, ax, ay)
        rlon, rlat = from_metric(*grid.centre(reps))
        reps_pt = shapely.points(rlon, rlat)
        cell = np.append(cells.covering(reps_pt), -1)  # last entry: off the grid
        inside = (
            cell[:-1] >= 0 if town_geom is None else shapely.intersects_xy(town_geom, rlon, rlat)
        )
        area_table = {
            "cell": np.concatenate([[-1], cell]),
            "beat": np.concatenate([[-1], beats.covering(reps_pt), [-1]]),
            "inside": np.concatenate([[False], inside, [False]]),
        }
        cov_labels, cov_table = None, np.zeros((1, len(coverage)), dtype=bool)
        if len(cx):
            cov_labels, creps = face_labels(grid, cx, cy)
            clon, clat = from_metric(*grid.centre(creps))
            cov_table = np.zeros((len(creps) + 2, len(coverage)), dtype=bool)
            for s, geom in enumerate(coverage):
                if geom is not None:
                    cov_table[1:-1, s] = shapely.intersects_xy(geom, clon, clat)
        sxy = shapely.get_coordinates(stations.geometry.values)
        if len(sxy) != len(stations):
            raise ValueError("消防站应为点 / fire_stations must hold one point each")
        station_xy = np.column_stack(to_metric(sxy[:, 0], sxy[:, 1])) if len(sxy) else sxy
        return cls(
            grid=grid, cells=cells, beats=beats, town=town_geom, area_labels=area_labels,
            area_table=area_table, station_xy=station_xy,
            station_lookup=Lookup(stations, {"station_code": "code"}),
            kdtree=cKDTree(station_xy) if len(station_xy) else None, coverage=coverage,
            cov_labels=cov_labels, cov_table=cov_table,
        )  # fmt: skip

    def assign(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> pd.DataFrame:
        """Trinity of each WGS84 point.

        Returns
        -------
        pandas.DataFrame
            One row per point, columns :data:`COLUMNS`: codes and officers as categoricals
            (null when not assigned), ``station_distance_m`` (float, metres in EPSG:4549),
            ``in_station_coverage`` (nullable boolean) and ``reason`` (null when assigned,
            else "中文 / English", e.g. "镇域外 / outside the town").
        """
        reason = coordinate_reasons(lon, lat).astype(np.intp)
        x_all = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        y_all = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        n = len(x_all)
        ok = np.flatnonzero(reason == 0)
        sub: IntArray | slice = slice(None) if len(ok) == n else ok
        lon_ok, lat_ok = x_all[sub], y_all[sub]
        x, y = to_metric(lon_ok, lat_ok)
        cell, beat, inside = self._areas(lon_ok, lat_ok, x, y)
        reason[sub] = np.select(
            [~inside, (cell < 0) & (beat < 0), cell < 0, beat < 0],
            [
                _CODES.index(c)
                for c in ("outside_town", "no_grid_cell_or_beat", "no_grid_cell", "no_beat")
            ],
            0,
        )
        cells = np.full(n, -1, dtype=np.intp)
        beats = np.full(n, -1, dtype=np.intp)
        cells[sub], beats[sub] = cell, beat
        station = np.full(n, -1, dtype=np.intp)
        dist = np.full(n, np.nan)
        cov = np.zeros(n, dtype=bool)
        known = np.zeros(n, dtype=bool)
        loc = np.flatnonzero(inside)
        idx = loc if len(ok) == n else ok[loc]
        if self.kdtree is not None and len(idx):
            xi, yi = x[loc], y[loc]
            station[idx], dist[idx] = self._nearest(xi, yi)
            cov[idx], known[idx] = self._covered(lon_ok[loc], lat_ok[loc], xi, yi, station[idx])
        columns: dict[str, Any] = {
            **self.cells.lookup.columns(cells),
            **self.beats.lookup.columns(beats),
            **self.station_lookup.columns(station),
            "station_distance_m": dist,
            "in_station_coverage": pd.arrays.BooleanArray(cov, ~known),
            "reason": pd.Categorical.from_codes(reason - 1, categories=list(REASON_TEXTS)),
        }
        return pd.DataFrame({c: columns[c] for c in COLUMNS})

    def _areas(
        self, lon: FloatArray, lat: FloatArray, x: FloatArray, y: FloatArray
    ) -> tuple[IntArray, IntArray, BoolArray]:
        flat, on = self.grid.locate(x, y)
        off = len(self.area_table["cell"]) - 1
        face = np.where(on, self.area_labels[flat], off)
        cell = self.area_table["cell"][face]
        beat = self.area_table["beat"][face]
        inside = self.area_table["inside"][face]
        mixed = np.flatnonzero(face == 0)
        if len(mixed):
            mlon, mlat = lon[mixed], lat[mixed]
            points = shapely.points(mlon, mlat)
            cell[mixed] = self.cells.covering(points)
            beat[mixed] = self.beats.covering(points)
            if self.town is not None:
                inside[mixed] = shapely.intersects_xy(self.town, mlon, mlat)
            else:
                inside[mixed] = cell[mixed] >= 0
        cell[~inside] = -1
        beat[~inside] = -1
        return cell, beat, inside

    def _nearest(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, FloatArray]:
        assert self.kdtree is not None
        n_st = len(self.station_xy)
        xy = np.column_stack([x, y])
        if n_st == 1:
            d, i = self.kdtree.query(xy)
            return np.asarray(i, dtype=np.intp), np.asarray(d)
        d, i = self.kdtree.query(xy, k=2)
        best, dist = i[:, 0].astype(np.intp), d[:, 0]
        tie = np.flatnonzero(d[:, 1] == d[:, 0])
        if len(tie):  # equal distances: the smallest index (= smallest code) among all tied
            dt, it = self.kdtree.query(xy[tie], k=n_st)
            best[tie] = np.where(dt == dt[:, :1], it, n_st).min(axis=1)
        return best, dist

    def _covered(
        self, lon: FloatArray, lat: FloatArray, x: FloatArray, y: FloatArray, station: IntArray
    ) -> tuple[BoolArray, BoolArray]:
        known = ~shapely.is_missing(self.coverage)[station]
        if self.cov_labels is None:
            return np.zeros(len(lon), dtype=bool), known
        flat, on = self.grid.locate(x, y)
        face = np.where(on, self.cov_labels[flat], len(self.cov_table) - 1)
        inside = self.cov_table[face, station]
        mixed = np.flatnonzero(face == 0)
        for s in np.unique(station[mixed]):
            if self.coverage[s] is not None:
                m = mixed[station[mixed] == s]
                inside[m] = shapely.intersects_xy(self.coverage[s], lon[m], lat[m])
        return inside, known


def assign_trinity(
    points: gpd.GeoDataFrame,
    grid_cells: gpd.GeoDataFrame,
    police_beats: gpd.GeoDataFrame,
    fire_stations: gpd.GeoDataFrame,
    fire_station_coverage: gpd.GeoDataFrame | None = None,
    town: gpd.GeoDataFrame | None = None,
    pixel_m: float = DEFAULT_PIXEL_M,
) -> gpd.GeoDataFrame:
    """Add the trinity columns (:data:`COLUMNS`) to a GeoDataFrame of points.

    ``points`` needs a CRS; its geometries must be points (missing or empty ones get the reason
    "坐标缺失或不是数字 / coordinate missing or not a number"). The layers are as for
    :meth:`TrinityIndex.from_layers`; the index is built for this call, so for repeated calls
    build a :class:`TrinityIndex` once and use :meth:`TrinityIndex.assign`.
    """
    points_wgs = storage(points, "points")
    geoms = points_wgs.geometry.values
    kinds = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]))
    if not kinds <= {0}:
        raise ValueError("points 应为点 / points must hold Point geometries")
    clash = sorted(set(COLUMNS) & set(points.columns))
    if clash:
        raise ValueError(f"points 已含列 / points already has columns: {', '.join(clash)}")
    index = TrinityIndex.from_layers(
        grid_cells, police_beats, fire_stations, fire_station_coverage, town, pixel_m
    )
    found = index.assign(shapely.get_x(geoms), shapely.get_y(geoms))
    out = points.copy()
    for col in COLUMNS:
        out[col] = found[col].to_numpy() if col == "station_distance_m" else found[col].array
    return out


__all__ = ["COLUMNS", "OUTSIDE_TOWN", "REASON_TEXTS", "TrinityIndex", "assign_trinity"]
