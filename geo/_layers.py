"""Private helpers of :mod:`geo.trinity`: the layers as sorted arrays with exact lookups."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo.crs import STORAGE_EPSG

IntArray = npt.NDArray[np.intp]


def storage(frame: Any, name: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValueError(f"{name} 应为 GeoDataFrame / {name} must be a GeoDataFrame")
    if frame.crs is None:
        raise ValueError(f"{name} 没有坐标系 / {name} has no CRS")
    return frame if frame.crs.to_epsg() == STORAGE_EPSG else frame.to_crs(STORAGE_EPSG)


def sorted_by_code(
    frame: gpd.GeoDataFrame, name: str, required: tuple[str, ...]
) -> gpd.GeoDataFrame:
    missing = [c for c in ("code", *required) if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} 缺少字段 / {name} lacks columns: {', '.join(missing)}")
    codes = frame["code"].astype(str)
    dup = sorted(set(codes[codes.duplicated()]))
    if dup:
        raise ValueError(f"{name} 编码重复 / duplicate codes in {name}: {', '.join(dup[:5])}")
    return frame.iloc[np.argsort(codes.to_numpy(dtype=object), kind="stable")]


class Lookup:
    """Codes and attributes of the items of one layer, as categorical columns by item index."""

    def __init__(self, frame: pd.DataFrame, columns: dict[str, str]) -> None:
        self.tables: dict[str, tuple[pd.Index, IntArray]] = {}
        for out, src in columns.items():
            codes, cats = pd.factorize(frame[src].astype("object"), sort=True)
            self.tables[out] = (pd.Index(cats, dtype=object), np.append(codes, -1).astype(np.intp))

    def columns(self, idx: IntArray) -> dict[str, pd.Categorical]:
        """Categorical columns for item indices ``idx`` (-1 gives null)."""
        return {
            out: pd.Categorical.from_codes(table[idx], categories=cats)
            for out, (cats, table) in self.tables.items()
        }


class Polygons:
    """A polygon layer sorted by code with an STRtree for the exact test."""

    def __init__(self, frame: gpd.GeoDataFrame, name: str, columns: dict[str, str]) -> None:
        frame = sorted_by_code(storage(frame, name), name, tuple(columns.values()))
        self.geoms = np.asarray(frame.geometry.values, dtype=object)
        types = set(shapely.get_type_id(self.geoms[~shapely.is_missing(self.geoms)]))
        if not types <= {3, 6}:
            raise ValueError(f"{name} 应为面图层 / {name} must hold polygons")
        self.tree = shapely.STRtree(self.geoms)
        self.lookup = Lookup(frame, columns)

    def covering(self, points: npt.NDArray[np.object_]) -> IntArray:
        """Smallest index of the polygons covering each point, -1 where none does."""
        out = np.full(len(points), len(self.geoms), dtype=np.intp)
        # For a point, "intersects" is "covered_by" (a point meets a polygon only by being in
        # its closure) and GEOS evaluates it faster.
        pt, poly = self.tree.query(points, predicate="intersects")
        np.minimum.at(out, pt, poly)
        out[out == len(self.geoms)] = -1
        return out


def coverage_by_station(
    coverage: gpd.GeoDataFrame | None, station_codes: pd.Series, minutes: int
) -> npt.NDArray[np.object_]:
    """One (unioned, prepared) coverage geometry per station, None where it has none."""
    out = np.full(len(station_codes), None, dtype=object)
    if coverage is None or len(coverage) == 0:
        return out
    cov = storage(coverage, "fire_station_coverage")
    if "station_code" not in cov.columns:
        raise ValueError("消防覆盖图层缺少 station_code / coverage lacks column station_code")
    if "minutes" in cov.columns:
        cov = cov[pd.to_numeric(cov["minutes"], errors="coerce") == minutes]
    by_code = {
        str(code): shapely.union_all(group.geometry.values)
        for code, group in cov.groupby(cov["station_code"].astype(str))
    }
    for s, code in enumerate(station_codes.astype(str)):
        geom = by_code.get(code)
        if geom is not None and not geom.is_empty:
            shapely.prepare(geom)
            out[s] = geom
    return out


__all__ = ["Lookup", "Polygons", "coverage_by_station", "sorted_by_code", "storage"]
