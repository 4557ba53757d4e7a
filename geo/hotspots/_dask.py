"""Hotspot analysis on a dask-geopandas frame: per-partition work, reduced, finished in memory.

Counting incidents per cell and binning them for a KDE are sums over incidents, so each
partition is counted (or binned) on its own, the small per-partition results are summed by
dask's tree reduction, and the rest runs in memory on the reduced table: Gi* and the rates on
the per-cell counts, the Gaussian filter on the binned grid. The per-partition work calls the
in-memory functions themselves (:func:`geo.hotspots.aggregate.area_index`,
:func:`geo.hotspots._kde_grid.linear_bin`), so the answers are the in-memory ones: counts
exactly, floats up to the order of summation.

dask is imported lazily: nothing here runs unless a dask frame is passed in.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.hotspots._frames import point_xy, require_crs, weights_of

if TYPE_CHECKING:
    from geo.hotspots.kde import Surface

FloatArray = npt.NDArray[np.float64]
_KEY = "_key"


def is_dask(frame: Any) -> bool:
    """Whether ``frame`` is a dask (or dask-geopandas) collection, without importing dask."""
    return hasattr(frame, "npartitions") and hasattr(frame, "map_partitions")


def require_dask_crs(frame: Any, name: str) -> Any:
    """``frame`` if it is a dask-geopandas frame with a CRS; raise otherwise."""
    if not hasattr(frame, "crs") or not hasattr(frame, "geometry"):
        raise TypeError(f"{name} must be a (dask-)GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise ValueError(f"{name} has no CRS: set it (stored data is EPSG:4326)")
    return frame


def _empty_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pos": pd.Series([], dtype=np.int64),
            _KEY: pd.Series([], dtype=object),
            "n": pd.Series([], dtype=np.int64),
        }
    )


def _partition_counts(
    part: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    by: str | None,
    metric_crs: Any,
) -> pd.DataFrame:
    """Long table (area position, ``by`` value as text, n) of one partition's points."""
    from geo.hotspots.aggregate import area_index

    if not len(part):
        return _empty_counts()
    pos = area_index(part, areas, metric_crs)
    inside = pos >= 0
    if by is None:
        key = pd.Series([""] * int(inside.sum()), dtype=object)
    else:
        values = pd.Series(part[by].to_numpy())[inside].reset_index(drop=True)
        key = values.map(lambda v: None if pd.isna(v) else f"v:{v}").astype(object)
    table = pd.DataFrame({"pos": pos[inside], _KEY: key.fillna("").to_numpy(), "n": 1})
    out = table.groupby(["pos", _KEY], sort=False, as_index=False)["n"].sum()
    return out.astype({"pos": np.int64, _KEY: object, "n": np.int64})


def cell_counts(
    points: Any, areas: gpd.GeoDataFrame, by: str | None, metric_crs: Any
) -> pd.DataFrame:
    """Per-(area position, ``by`` value) counts of a dask frame's points, reduced in memory.

    Values of ``by`` come back as ``"v:<value>"`` (``""`` for the total rows when ``by`` is
    None, and for rows whose ``by`` value is missing).
    """
    require_dask_crs(points, "points")
    require_crs(areas, "areas")
    work = partial(_partition_counts, areas=areas, by=by, metric_crs=metric_crs)
    counted = points.map_partitions(work, meta=_empty_counts())
    reduced = counted.groupby(["pos", _KEY])["n"].sum(split_out=1).compute()
    return reduced.reset_index().astype({"pos": np.int64, "n": np.int64})


def count_points_dask(
    points: Any,
    areas: gpd.GeoDataFrame,
    *,
    by: str | None,
    column: str,
    metric_crs: Any,
) -> gpd.GeoDataFrame:
    """:func:`geo.hotspots.aggregate.count_points` of a dask frame (same columns, same order)."""
    table = cell_counts(points, areas, by, metric_crs)
    n = len(areas)
    out = areas.copy()
    total = table.groupby("pos")["n"].sum()
    out[column] = np.bincount(total.index, weights=total.to_numpy(), minlength=n).astype(np.int64)
    if by is not None:
        # one column per value found inside an area, ordered by its text as in memory
        labelled = table[table[_KEY] != ""]
        for key in sorted(labelled[_KEY].unique(), key=lambda k: str(k)[2:]):
            sel = labelled[labelled[_KEY] == key]
            counts = np.bincount(sel["pos"], weights=sel["n"], minlength=n).astype(np.int64)
            out[f"{column}_{str(key)[2:]}"] = counts
    return out


def migrant_counts(
    incidents: Any, areas: gpd.GeoDataFrame, migrant: str, metric_crs: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """All incidents and those with ``migrant`` true, per area, of a dask frame."""
    flag = incidents[migrant].fillna(False).astype(bool)
    table = cell_counts(incidents.assign(_migrant=flag), areas, "_migrant", metric_crs)
    n = len(areas)
    all_ = np.bincount(table["pos"], weights=table["n"], minlength=n).astype(np.int64)
    mig = table[table[_KEY] == "v:True"]
    migrants = np.bincount(mig["pos"], weights=mig["n"], minlength=n).astype(np.int64)
    return all_, migrants


def _partition_extent(part: gpd.GeoDataFrame, metric_crs: Any, weight: str | None) -> pd.DataFrame:
    """One row: metric min/max of the partition's points and the sum of their weights."""
    x, y = point_xy(part, metric_crs)
    w = weights_of(part, weight)
    inf = np.inf
    return pd.DataFrame(
        {
            "xmin": [x.min(initial=inf)],
            "ymin": [y.min(initial=inf)],
            "xmax": [x.max(initial=-inf)],
            "ymax": [y.max(initial=-inf)],
            "n": [len(x)],
            "w": [float(w.sum())],
        }
    )


def _partition_bins(
    part: gpd.GeoDataFrame,
    metric_crs: Any,
    weight: str | None,
    origin: tuple[float, float],
    cell: float,
    shape: tuple[int, int],
) -> FloatArray:
    """One partition's points linearly binned onto the (padded) KDE grid."""
    from geo.hotspots._kde_grid import linear_bin

    x, y = point_xy(part, metric_crs)
    return linear_bin(x, y, weights_of(part, weight), origin[0], origin[1], cell, shape)


def kde_dask(
    points: Any,
    bandwidth_m: float,
    *,
    cell_m: float | None,
    shape: tuple[int, int] | None,
    bounds: tuple[float, float, float, float] | None,
    weight: str | None,
    metric_crs: Any,
) -> Surface:
    """:func:`geo.hotspots.kde.kde` of a dask frame: binned per partition, grids summed by
    dask.array's tree reduction, smoothed in memory."""
    import dask
    import dask.array as da

    from geo.hotspots._kde_grid import smooth
    from geo.hotspots.kde import TRUNCATE, Surface, _grid

    require_dask_crs(points, "points")
    extent_meta = _partition_extent(points._meta, metric_crs, weight)
    stats = points.map_partitions(
        partial(_partition_extent, metric_crs=metric_crs, weight=weight), meta=extent_meta
    ).compute()
    total_weight = float(stats["w"].sum())
    if bounds is None and int(stats["n"].sum()):
        pad = 3 * bandwidth_m
        bounds = (
            float(stats["xmin"].min()) - pad,
            float(stats["ymin"].min()) - pad,
            float(stats["xmax"].max()) + pad,
            float(stats["ymax"].max()) + pad,
        )
    empty = np.zeros(0, dtype=np.float64)
    x0, y0, cell, (ny, nx) = _grid(empty, empty, bandwidth_m, cell_m, shape, bounds)
    m = int(np.ceil(TRUNCATE * bandwidth_m / cell)) + 1
    padded = (ny + 2 * m, nx + 2 * m)
    work = partial(
        _partition_bins,
        metric_crs=metric_crs,
        weight=weight,
        origin=(x0 - m * cell, y0 - m * cell),
        cell=cell,
        shape=padded,
    )
    grids = [
        da.from_delayed(dask.delayed(work)(part), shape=padded, dtype=np.float64)
        for part in points.to_delayed()
    ]
    binned = np.asarray(da.stack(grids).sum(axis=0).compute(), dtype=np.float64)
    values = smooth(binned, cell, bandwidth_m, truncate=TRUNCATE)[m : m + ny, m : m + nx]
    return Surface(
        values=np.ascontiguousarray(values),
        x0=x0,
        y0=y0,
        cell_m=cell,
        bandwidth_m=float(bandwidth_m),
        crs=gpd.GeoSeries([], crs=metric_crs).crs,
        total_weight=total_weight,
    )


__all__ = ["cell_counts", "count_points_dask", "is_dask", "kde_dask", "migrant_counts"]
__all__ += ["require_dask_crs"]
