"""Incidents counted per area (grid cell, village, beat), optionally split by a column."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.hotspots._dask import is_dask
from geo.hotspots._frames import METRIC_EPSG, to_metric_frame


def area_index(
    points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, metric_crs: Any = METRIC_EPSG
) -> np.ndarray:
    """Row position in ``areas`` of the polygon holding each point (-1 outside all of them).

    Both layers are brought to ``metric_crs``; a point on a shared edge goes to the first area.
    """
    pts = to_metric_frame(points, metric_crs, "points")
    polys = to_metric_frame(areas, metric_crs, "areas").reset_index(drop=True)
    left = gpd.GeoDataFrame(geometry=pts.geometry.reset_index(drop=True))
    joined = gpd.sjoin(left, polys[["geometry"]], how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    return joined["index_right"].fillna(-1).to_numpy(dtype=np.int64)


def count_points(
    points: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    column: str = "n",
    metric_crs: Any = METRIC_EPSG,
) -> gpd.GeoDataFrame:
    """``areas`` with the number of ``points`` inside each (zero where none).

    Parameters
    ----------
    points : GeoDataFrame or dask_geopandas.GeoDataFrame
        Incidents (any CRS; they must have one). A dask frame is counted per partition and the
        counts summed (:mod:`geo.hotspots._dask`).
    areas : GeoDataFrame
        Polygons (any CRS; they must have one); returned in their own CRS and row order.
    by : str, optional
        Also count per value of this column, as ``{column}_{value}`` columns.
    column : str
        Name of the total count column.
    metric_crs : CRS-like
        Projected CRS in which the point-in-polygon test is made.
    """
    if is_dask(points):
        from geo.hotspots._dask import count_points_dask

        return count_points_dask(points, areas, by=by, column=column, metric_crs=metric_crs)
    pos = area_index(points, areas, metric_crs)
    inside = pos >= 0
    out = areas.copy()
    out[column] = np.bincount(pos[inside], minlength=len(areas)).astype(np.int64)
    if by is not None:
        values = pd.Series(points[by].to_numpy())[inside]
        for value in sorted(values.dropna().unique(), key=str):
            sel = (values == value).to_numpy()
            counts = np.bincount(pos[inside][sel], minlength=len(areas)).astype(np.int64)
            out[f"{column}_{value}"] = counts
    return out


__all__ = ["area_index", "count_points"]
