"""Checks across the governance layers: grid cells tile the town, nest in villages and beats.

All areas are measured in EPSG:4549 (metres). A discrepancy smaller than ``tol_m2`` (1 m² by
default) is floating-point noise from reprojection and is ignored.

Rules
-----
- grid cells do not overlap, and cover the town with no gap;
- every grid cell lies inside exactly one village, and its ``village_code`` names that village;
  its 15-digit code starts with that village code;
- every village's code starts with the town code and the village lies inside the town;
- every grid cell lies inside exactly one police beat, and every beat is a union of whole grid
  cells (no beat boundary cuts a cell, no part of a beat is outside all cells);
- fire stations lie inside the town; coverage areas name existing stations.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers._schema import Problem
from layers.validate import feature_ids

METRIC_EPSG = 4549


def _metric(frame: gpd.GeoDataFrame) -> np.ndarray:
    if frame.crs is not None and frame.crs.to_epsg() == METRIC_EPSG:
        return frame.geometry.to_numpy()
    return frame.to_crs(METRIC_EPSG).geometry.to_numpy()


def _shared_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area shared by each pair ``a[k]``, ``b[k]`` of intersecting polygons.

    Exact overlay is the expensive part of every check, so pairs are settled by cheaper
    predicates first: ``b`` covering ``a`` shares all of ``a``; polygons that only touch share
    nothing. Only the rest are intersected.
    """
    out = np.zeros(len(a))
    if len(a) == 0:
        return out
    shapely.prepare(b)
    covered = shapely.covers(b, a)
    out[covered] = shapely.area(a[covered])
    rest = ~covered
    rest[rest] = ~shapely.touches(a[rest], b[rest])
    out[rest] = shapely.area(shapely.intersection(a[rest], b[rest]))
    return out


def _lonlat(geom_m: shapely.Geometry) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.point_on_surface(geom_m)], crs=METRIC_EPSG).to_crs(4326).iloc[0]
    return float(p.x), float(p.y)


def _pieces(geom: shapely.Geometry, tol_m2: float) -> list[shapely.Geometry]:
    parts = shapely.get_parts(shapely.make_valid(geom))
    return [p for p in parts if shapely.area(p) > tol_m2]


def check_grid_tiling(
    grids: gpd.GeoDataFrame, town: gpd.GeoDataFrame | None, tol_m2: float = 1.0
) -> list[Problem]:
    """Overlaps between grid cells, and gaps between them inside the town."""
    problems: list[Problem] = []
    g = _metric(grids)
    ids = feature_ids(grids)
    tree = shapely.STRtree(g)
    left, right = tree.query(g, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = _shared_area(g[left], g[right])
    for i, j, area in zip(left, right, shared, strict=True):
        if area > tol_m2:
            inter = shapely.intersection(g[i], g[j])
            problems.append(
                Problem(
                    "grid_cells",
                    ids[i],
                    "overlap",
                    f"网格 {ids[i]} 与 {ids[j]} 重叠 {area:.1f} 平方米",
                    f"grid cell {ids[i]} overlaps {ids[j]} by {area:.1f} m²",
                    *_lonlat(inter),
                )
            )
    if town is not None and len(town):
        t = shapely.union_all(_metric(town))
        covered = shapely.union_all(g)
        for gap in _pieces(shapely.difference(t, covered), tol_m2):
            problems.append(
                Problem(
                    "grid_cells",
                    "",
                    "gap",
                    f"镇域内有 {shapely.area(gap):.1f} 平方米未被任何网格覆盖",
                    f"{shapely.area(gap):.1f} m² of the town is covered by no grid cell",
                    *_lonlat(gap),
                )
            )
        shapely.prepare(t)
        for i in np.flatnonzero(~shapely.covers(t, g)):
            out = shapely.area(shapely.difference(g[i], t))
            if out > tol_m2:
                problems.append(
                    Problem(
                        "grid_cells",
                        ids[i],
                        "outside_town",
                        f"网格有 {out:.1f} 平方米在镇界外",
                        f"{out:.1f} m² of the grid cell lies outside the town",
                        *_lonlat(g[i]),
                    )
                )
    return problems


def _containers(
    inner: np.ndarray, outer: np.ndarray, tol_m2: float
) -> tuple[list[list[int]], np.ndarray]:
    """For each inner geometry: the outer ones it overlaps by more than ``tol_m2``, and the area
    of it left outside all of them."""
    tree = shapely.STRtree(outer)
    a, b = tree.query(inner, predicate="intersects")
    areas = _shared_area(inner[a], outer[b])
    hits: list[list[int]] = [[] for _ in range(len(inner))]
    covered = np.zeros(len(inner))
    for i, j, ar in zip(a, b, areas, strict=True):
        if ar > tol_m2:
            hits[i].append(int(j))
            covered[i] += ar
    left_out = shapely.area(inner) - covered
    return hits, left_out


def check_nesting(
    grids: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame,
    parent_layer: str,
    code_column: str | None,
    tol_m2: float = 1.0,
) -> list[Problem]:
    """Each grid cell inside exactly one parent polygon (village or beat), matching its code."""
    problems: list[Problem] = []
    g, p = _metric(grids), _metric(parents)
    gids, pids = feature_ids(grids), feature_ids(parents)
    zh_parent = {"villages": "村社区", "police_beats": "警格"}.get(parent_layer, parent_layer)
    hits, left_out = _containers(g, p, tol_m2)
    for i, found in enumerate(hits):
        names = [pids[j] for j in found]
        if len(found) != 1 or left_out[i] > tol_m2:
            problems.append(
                Problem(
                    "grid_cells",
                    gids[i],
                    f"not_in_one_{parent_layer}",
                    f"网格应完整位于一个{zh_parent}内，实际跨 {names or '无'}",
                    f"grid cell must lie inside exactly one of {parent_layer}; it spans "
                    f"{names or 'none'}",
                    *_lonlat(g[i]),
                )
            )
        elif code_column and code_column in grids.columns:
            stated = str(grids[code_column].iloc[i])
            if stated != names[0]:
                problems.append(
                    Problem(
                        "grid_cells",
                        gids[i],
                        f"wrong_{code_column}",
                        f"{code_column} 为 {stated}，但网格位于 {names[0]}",
                        f"{code_column} says {stated} but the cell lies in {names[0]}",
                        *_lonlat(g[i]),
                    )
                )
    return problems


def check_unions(
    parents: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, parent_layer: str, tol_m2: float = 1.0
) -> list[Problem]:
    """Each parent polygon (a beat) is covered by whole grid cells: nothing of it is left over."""
    problems: list[Problem] = []
    p, g = _metric(parents), _metric(grids)
    pids = feature_ids(parents)
    _, left_out = _containers(p, g, tol_m2)
    for i, rest in enumerate(left_out):
        if rest > tol_m2:
            problems.append(
                Problem(
                    parent_layer,
                    pids[i],
                    "not_union_of_cells",
                    f"有 {rest:.1f} 平方米不属于任何网格",
                    f"{rest:.1f} m² of it is not covered by grid cells",
                    *_lonlat(p[i]),
                )
            )
    return problems


def check_codes(frames: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Hierarchical codes: village codes extend the town code, grid codes their village code."""
    problems: list[Problem] = []
    town, villages, grids = (frames.get(k) for k in ("town", "villages", "grid_cells"))
    if town is not None and villages is not None and len(town):
        tcode = str(town["code"].iloc[0])
        for code in villages["code"].astype(str):
            if not code.startswith(tcode):
                problems.append(
                    Problem(
                        "villages",
                        code,
                        "code_prefix",
                        f"村社区代码应以镇街代码 {tcode} 开头",
                        f"village code must start with the town code {tcode}",
                    )
                )
    if grids is not None and "village_code" in grids.columns:
        for code, vcode in zip(
            grids["code"].astype(str), grids["village_code"].astype(str), strict=True
        ):
            if not code.startswith(vcode):
                problems.append(
                    Problem(
                        "grid_cells",
                        code,
                        "code_prefix",
                        f"网格编码应以所属村社区代码 {vcode} 开头",
                        f"grid code must start with its village code {vcode}",
                    )
                )
        if villages is not None:
            known = set(villages["code"].astype(str))
            for code, vcode in zip(
                grids["code"].astype(str), grids["village_code"].astype(str), strict=True
            ):
                if vcode not in known:
                    problems.append(
                        Problem(
                            "grid_cells",
                            code,
                            "unknown_village",
                            f"所属村社区 {vcode} 不存在",
                            f"village {vcode} does not exist",
                        )
                    )
    return problems


def check_points_inside(
    points: gpd.GeoDataFrame, town: gpd.GeoDataFrame, layer: str
) -> list[Problem]:
    """Points (fire stations) that lie outside the town."""
    t = shapely.union_all(town.to_crs(4326).geometry.to_numpy())
    pts = points.to_crs(4326).geometry.to_numpy()
    ids = feature_ids(points)
    inside = shapely.covers(t, pts)
    return [
        Problem(
            layer,
            ids[i],
            "outside_town",
            "点位在镇界外",
            "the point lies outside the town",
            float(pts[i].x),
            float(pts[i].y),
        )
        for i in np.flatnonzero(~inside)
        if pts[i] is not None and not shapely.is_empty(pts[i])
    ]


def check_topology(frames: Mapping[str, pd.DataFrame], tol_m2: float = 1.0) -> list[Problem]:
    """Run every cross-layer rule whose layers are present in ``frames``."""
    problems = check_codes(frames)
    # Project once: every area below is measured in metres.
    frames = {
        k: v.to_crs(METRIC_EPSG) if isinstance(v, gpd.GeoDataFrame) and v.crs is not None else v
        for k, v in frames.items()
    }
    town = frames.get("town")
    grids = frames.get("grid_cells")
    town_g = town if isinstance(town, gpd.GeoDataFrame) else None
    if isinstance(grids, gpd.GeoDataFrame) and len(grids):
        problems += check_grid_tiling(grids, town_g, tol_m2)
        villages = frames.get("villages")
        if isinstance(villages, gpd.GeoDataFrame) and len(villages):
            problems += check_nesting(grids, villages, "villages", "village_code", tol_m2)
        beats = frames.get("police_beats")
        if isinstance(beats, gpd.GeoDataFrame) and len(beats):
            problems += check_nesting(grids, beats, "police_beats", None, tol_m2)
            problems += check_unions(beats, grids, "police_beats", tol_m2)
    stations = frames.get("fire_stations")
    if town_g is not None and isinstance(stations, gpd.GeoDataFrame) and len(stations):
        problems += check_points_inside(stations, town_g, "fire_stations")
    coverage, stations = frames.get("fire_station_coverage"), frames.get("fire_stations")
    if coverage is not None and stations is not None and "station_code" in coverage.columns:
        known = set(stations["code"].astype(str))
        for i, code in enumerate(coverage["station_code"].astype(str)):
            if code not in known:
                problems.append(
                    Problem(
                        "fire_station_coverage",
                        f"#{i}",
                        "unknown_station",
                        f"消防站 {code} 不存在",
                        f"fire station {code} does not exist",
                    )
                )
    return problems
