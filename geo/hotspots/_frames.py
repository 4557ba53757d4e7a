"""Private helpers shared by the hotspot modules: CRS checks and metric coordinates."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo.crs import METRIC_EPSG

__all__ = ["METRIC_EPSG", "point_xy", "require_crs", "require_geoframe", "times_of"]
__all__ += ["to_metric_frame", "weights_of"]

FloatArray = npt.NDArray[np.float64]


def require_geoframe(frame: Any, name: str = "frame") -> gpd.GeoDataFrame:
    """Return ``frame`` if it is a GeoDataFrame; raise otherwise."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
    return frame


def require_crs(frame: Any, name: str = "frame") -> gpd.GeoDataFrame:
    """Return ``frame`` if it is a GeoDataFrame with a CRS; raise otherwise."""
    require_geoframe(frame, name)
    if frame.crs is None:
        raise ValueError(f"{name} has no CRS: set it (stored data is EPSG:4326)")
    return frame


def to_metric_frame(frame: gpd.GeoDataFrame, metric_crs: Any, name: str) -> gpd.GeoDataFrame:
    """``frame`` in ``metric_crs``, after checking it has a CRS and the target is projected."""
    require_crs(frame, name)
    target = gpd.GeoSeries([], crs=metric_crs).crs
    if target is None or not target.is_projected:
        raise ValueError(f"metric_crs {metric_crs!r} is not a projected (metric) CRS")
    return frame if frame.crs == target else frame.to_crs(target)


def point_xy(
    frame: gpd.GeoDataFrame, metric_crs: Any = METRIC_EPSG, name: str = "points"
) -> tuple[FloatArray, FloatArray]:
    """Metric x, y of a point layer (empty or missing geometries are an error)."""
    metric = to_metric_frame(frame, metric_crs, name)
    geom = metric.geometry.to_numpy()
    if len(geom) and (
        shapely.is_missing(geom).any()
        or shapely.is_empty(geom).any()
        or (shapely.get_type_id(geom) != 0).any()
    ):
        raise ValueError(f"{name} must hold non-empty Point geometries only")
    xy = shapely.get_coordinates(geom)
    return xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)


def weights_of(frame: pd.DataFrame, weight: str | None) -> FloatArray:
    """The weight column as floats (ones when ``weight`` is None); negative or NaN is an error."""
    if weight is None:
        return np.ones(len(frame), dtype=np.float64)
    w = pd.to_numeric(frame[weight], errors="raise").to_numpy(dtype=np.float64)
    if np.isnan(w).any() or (w < 0).any():
        raise ValueError(f"weight column {weight!r} must be non-negative numbers")
    return w


def times_of(frame: pd.DataFrame, column: str) -> pd.Series:
    """An aware datetime column as UTC (naive times are refused: say which zone they are in)."""
    t = pd.to_datetime(frame[column])
    if t.dt.tz is None:
        raise ValueError(f"{column!r} must be timezone-aware")
    return t.dt.tz_convert("UTC")
