"""Coordinate systems used in China: WGS84, CGCS2000, GCJ-02 (AMap, Tencent) and BD-09 (Baidu).

WGS84 <-> CGCS2000 and projections go through pyproj. GCJ-02 and BD-09 are obfuscations with no
EPSG code, so no maintained library covers them with an exact inverse; they are written here from
the published formulas, vectorised over numpy arrays. The inverses iterate the forward transform
(fixed-point), which converges to well below 0.01 m, instead of the common one-step
approximation that leaves errors of a metre or more.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

Array = npt.NDArray[np.float64]
CrsName = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
CRS_NAMES: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

#: Metric CRS for distances and areas: CGCS2000 / 3-degree Gauss-Kruger CM 120E.
METRIC_EPSG = 4549
STORAGE_EPSG = 4326
EXPORT_EPSG = 4490

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def outside_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where GCJ-02 leaves coordinates unchanged (the published rough rectangle)."""
    x, y = _as_arrays(lon, lat)
    return ~((x > 72.004) & (x < 137.8347) & (y > 0.8293) & (y < 55.8271))


def _delta(x: Array, y: Array) -> tuple[Array, Array]:
    dx, dy = x - 105.0, y - 35.0
    t_lat = -100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy
    t_lat += 0.2 * np.sqrt(np.abs(dx))
    t_lon = 300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * np.sqrt(np.abs(dx))
    common = (20.0 * np.sin(6.0 * dx * np.pi) + 20.0 * np.sin(2.0 * dx * np.pi)) * 2.0 / 3.0
    t_lat += common + (20.0 * np.sin(dy * np.pi) + 40.0 * np.sin(dy / 3.0 * np.pi)) * 2.0 / 3.0
    t_lat += (160.0 * np.sin(dy / 12.0 * np.pi) + 320 * np.sin(dy * np.pi / 30.0)) * 2.0 / 3.0
    t_lon += common + (20.0 * np.sin(dx * np.pi) + 40.0 * np.sin(dx / 3.0 * np.pi)) * 2.0 / 3.0
    t_lon += (150.0 * np.sin(dx / 12.0 * np.pi) + 300.0 * np.sin(dx / 30.0 * np.pi)) * 2.0 / 3.0
    rad = y / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (t_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """WGS84 -> GCJ-02; points outside China are returned unchanged."""
    x, y = _as_arrays(lon, lat)
    d_lon, d_lat = _delta(x, y)
    out = outside_china(x, y)
    return np.where(out, x, x + d_lon), np.where(out, y, y + d_lat)


def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[Array, Array]:
    """GCJ-02 -> WGS84 by fixed-point iteration of the forward transform (error << 1 cm)."""
    gx, gy = _as_arrays(lon, lat)
    x, y = gx.copy(), gy.copy()
    for _ in range(max_iter):
        fx, fy = wgs84_to_gcj02(x, y)
        ex, ey = fx - gx, fy - gy
        x, y = x - ex, y - ey
        err = max(np.nanmax(np.abs(ex), initial=0), np.nanmax(np.abs(ey), initial=0))
        if err < tol_deg:
            break
    return x, y


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 -> BD-09."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[Array, Array]:
    """BD-09 -> GCJ-02, refined by iterating the forward transform."""
    bx, by = _as_arrays(lon, lat)
    x, y = bx - 0.0065, by - 0.006
    for _ in range(max_iter):
        fx, fy = gcj02_to_bd09(x, y)
        ex, ey = fx - bx, fy - by
        x, y = x - ex, y - ey
        err = max(np.nanmax(np.abs(ex), initial=0), np.nanmax(np.abs(ey), initial=0))
        if err < tol_deg:
            break
    return x, y


def _system(name: str) -> str:
    """Canonical name of a coordinate system (``GCJ-02`` -> ``gcj02``, ``4490`` -> ``cgcs2000``)."""
    key = name.lower().replace("-", "").replace("_", "")
    key = {"4326": "wgs84", "4490": "cgcs2000"}.get(key, key)
    if key not in CRS_NAMES:
        known = ", ".join(CRS_NAMES)
        raise ValueError(
            f"未知坐标系 / unknown coordinate system {name!r}; expected one of {known}"
        )
    return key


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, source: str) -> tuple[Array, Array]:
    """Convert coordinates from ``source`` (wgs84, cgcs2000, gcj02, bd09) to WGS84.

    CGCS2000 and WGS84 (as realised in China) agree to a few centimetres; pyproj treats the
    transformation as a null shift, which is what is done here.
    """
    system = _system(source)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return _as_arrays(lon, lat)


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, target: str) -> tuple[Array, Array]:
    """Convert WGS84 coordinates to ``target`` (wgs84, cgcs2000, gcj02, bd09)."""
    system = _system(target)
    if system == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if system == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    return _as_arrays(lon, lat)


def to_metric(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """WGS84 lon/lat -> EPSG:4549 easting/northing in metres."""
    x, y = _TO_METRIC.transform(*_as_arrays(lon, lat))
    return np.asarray(x), np.asarray(y)


def from_metric(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[Array, Array]:
    """EPSG:4549 easting/northing -> WGS84 lon/lat."""
    lon, lat = _FROM_METRIC.transform(*_as_arrays(x, y))
    return np.asarray(lon), np.asarray(lat)


_TO_METRIC = Transformer.from_crs(STORAGE_EPSG, METRIC_EPSG, always_xy=True)
_FROM_METRIC = Transformer.from_crs(METRIC_EPSG, STORAGE_EPSG, always_xy=True)
