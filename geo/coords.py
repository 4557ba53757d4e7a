"""Validation of incoming lon/lat coordinates, with a reason for every rejected point.

Checks, in this order (the first failing one is the reason):

``missing``
    NaN, infinite or not a number.
``zero``
    exactly (0, 0), the usual placeholder of a device without a fix ("Null Island").
``swapped``
    the point is not in China's bounding box but (lat, lon) read the other way round is. China's
    longitudes (73–135°E) and latitudes (4–54°N) do not overlap, so a swapped Chinese point always
    lands outside China and the test cannot mistake a correct point for a swapped one.
``out_of_range``
    longitude outside −180…180 or latitude outside −90…90.
``outside_china``
    outside China's bounding box :data:`CHINA_BBOX` (a rectangle, not the border).
``far_from_town``
    only with a town polygon: farther than ``margin_m`` metres (EPSG:4549) from the town.

Every reason has a Chinese and an English text, see :data:`REASONS`.
"""

from __future__ import annotations

from typing import TypeAlias

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo.crs import METRIC_EPSG, STORAGE_EPSG, to_metric

#: China's bounding box (lon_min, lat_min, lon_max, lat_max), Zengmu Ansha to Mohe, Pamirs to
#: Fuyuan; a coarse plausibility test, not the national border.
CHINA_BBOX = (73.4, 3.8, 135.1, 53.6)

#: Default tolerance of the town test: points farther than this outside the town are rejected.
DEFAULT_MARGIN_M = 1000.0

#: Reason code -> (Chinese, English); the position of a code is its integer value (``ok`` = 0).
REASONS: dict[str, tuple[str, str]] = {
    "ok": ("", ""),
    "missing": ("坐标缺失或不是数字", "coordinate missing or not a number"),
    "zero": ("坐标为 (0, 0)", "coordinates are (0, 0)"),
    "swapped": ("经纬度颠倒", "latitude and longitude swapped"),
    "out_of_range": (
        "坐标超出经纬度取值范围",
        "coordinates out of range (longitude -180..180, latitude -90..90)",
    ),
    "outside_china": ("坐标不在中国境内", "coordinates outside China"),
    "far_from_town": ("距镇界超过 {margin:g} 米", "more than {margin:g} m outside the town"),
}
REASON_CODES: tuple[str, ...] = tuple(REASONS)

TownLike: TypeAlias = shapely.Geometry | gpd.GeoDataFrame | gpd.GeoSeries


def reason_text(code: str, margin_m: float = DEFAULT_MARGIN_M) -> str:
    """The bilingual text ``"中文 / English"`` of a reason code ("" for ``ok``)."""
    zh, en = REASONS[code]
    if not zh:
        return ""
    return f"{zh} / {en}".format(margin=margin_m)


def _in_china(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    x0, y0, x1, y1 = CHINA_BBOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def town_geometry(town: TownLike) -> shapely.Geometry:
    """The town as one shapely geometry in EPSG:4326 (a GeoDataFrame/GeoSeries is unioned)."""
    if isinstance(town, gpd.GeoDataFrame | gpd.GeoSeries):
        if town.crs is None:
            raise ValueError("镇界图层没有坐标系 / the town layer has no CRS")
        return shapely.union_all(town.to_crs(STORAGE_EPSG).geometry.values)
    return town


def coordinate_reasons(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    town_polygon: TownLike | None = None,
    margin_m: float = DEFAULT_MARGIN_M,
) -> npt.NDArray[np.int8]:
    """Reason code of each point as an integer (index into :data:`REASON_CODES`, 0 = ok).

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees, same length.
    town_polygon : shapely geometry (EPSG:4326), GeoDataFrame or GeoSeries, optional
        With a town, points farther than ``margin_m`` from it are ``far_from_town``.
    margin_m : float
        Tolerance in metres (EPSG:4549).
    """
    x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"经纬度数组长度不一致 / lon and lat must be 1-D arrays of one length, "
            f"got {x.shape} and {y.shape}"
        )
    code = np.zeros(len(x), dtype=np.int8)

    def mark(mask: npt.NDArray[np.bool_], name: str) -> None:
        code[(code == 0) & mask] = REASON_CODES.index(name)

    with np.errstate(invalid="ignore"):
        mark(~(np.isfinite(x) & np.isfinite(y)), "missing")
        mark((x == 0) & (y == 0), "zero")
        in_china = _in_china(x, y)
        mark(~in_china & _in_china(y, x), "swapped")
        mark((np.abs(x) > 180) | (np.abs(y) > 90), "out_of_range")
        mark(~in_china, "outside_china")
    if town_polygon is not None:
        mark(
            _far_from_town(x, y, code == 0, town_geometry(town_polygon), margin_m), "far_from_town"
        )
    return code


def _far_from_town(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    candidates: npt.NDArray[np.bool_],
    town: shapely.Geometry,
    margin_m: float,
) -> npt.NDArray[np.bool_]:
    far = np.zeros(len(x), dtype=bool)
    idx = np.flatnonzero(candidates)
    if len(idx) == 0:
        return far
    outside = idx[~shapely.intersects_xy(town, x[idx], y[idx])]
    if len(outside) == 0:
        return far
    town_m = gpd.GeoSeries([town], crs=STORAGE_EPSG).to_crs(METRIC_EPSG).iloc[0]
    px, py = to_metric(x[outside], y[outside])
    far[outside] = shapely.distance(town_m, shapely.points(px, py)) > margin_m
    return far


def validate_coordinates(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    town_polygon: TownLike | None = None,
    margin_m: float = DEFAULT_MARGIN_M,
) -> pd.DataFrame:
    """Check WGS84 coordinates; one row per point with the reason it is rejected.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees, same length.
    town_polygon : shapely geometry (EPSG:4326), GeoDataFrame or GeoSeries, optional
        The town; points farther than ``margin_m`` metres outside it are rejected.
    margin_m : float
        Tolerance of the town test in metres.

    Returns
    -------
    pandas.DataFrame
        Columns ``ok`` (bool), ``reason_code`` (see :data:`REASONS`, ``"ok"`` when ok),
        ``reason_zh`` and ``reason_en`` (empty strings when ok).
    """
    code = coordinate_reasons(lon, lat, town_polygon, margin_m)
    zh = [REASONS[c][0].format(margin=margin_m) for c in REASON_CODES]
    en = [REASONS[c][1].format(margin=margin_m) for c in REASON_CODES]
    return pd.DataFrame(
        {
            "ok": code == 0,
            "reason_code": np.asarray(REASON_CODES, dtype=object)[code],
            "reason_zh": np.asarray(zh, dtype=object)[code],
            "reason_en": np.asarray(en, dtype=object)[code],
        }
    )


__all__ = [
    "CHINA_BBOX",
    "DEFAULT_MARGIN_M",
    "REASONS",
    "REASON_CODES",
    "coordinate_reasons",
    "reason_text",
    "town_geometry",
    "validate_coordinates",
]
