"""The four methods of ``ember hotspots``, each as GeoJSON features plus a summary.

:func:`kde_collection` (kernel density squares and peaks), :func:`gi_collection` (Getis-Ord Gi*
per grid cell, from :func:`gi_frame`), :func:`emerging_collection` (emerging hot spot pattern
per grid cell) and :func:`clusters_collection` (HDBSCAN cluster hulls) take de-identified
incidents (and grid cells) already loaded and filtered by :mod:`app.cli_hotspots`, run the
analysis from :mod:`geo.hotspots` and return ``(FeatureCollection, summary)``.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import geopandas as gpd
import numpy as np

from app._geojson import PRECISION, feature_collection

CELL_COLUMNS = ("code", "name", "village_code")


def kde_collection(
    incidents: gpd.GeoDataFrame,
    *,
    bandwidth_m: float = 200.0,
    cell_m: float | None = None,
    min_share: float = 0.05,
    n_peaks: int = 10,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """KDE squares above ``min_share`` of the peak, and a summary with the top peaks."""
    from geo.hotspots import kde, peaks

    if bandwidth_m <= 0:
        raise ValueError("--bandwidth 须为正数 / --bandwidth must be positive")
    if incidents.empty:
        return {"type": "FeatureCollection", "features": []}, {"peaks": []}
    surface = kde(incidents, bandwidth_m, cell_m=cell_m or bandwidth_m / 2)
    squares = surface.to_frame(min_share=min_share)
    squares["density_km2"] = squares["density_km2"].round(3)
    top = peaks(surface, n=n_peaks).to_crs(4326)
    summary = {
        "bandwidth_m": bandwidth_m,
        "cell_m": surface.cell_m,
        "min_share": min_share,
        "max_density_km2": round(float(surface.values.max() * 1e6), 3),
        "peaks": [
            {
                "rank": int(r["rank"]),
                "lon": round(float(r.geometry.x), PRECISION),
                "lat": round(float(r.geometry.y), PRECISION),
                "density_km2": round(float(r["density_km2"]), 3),
            }
            for _, r in top.iterrows()
        ],
    }
    return feature_collection(squares, ["row", "col", "density_km2"]), summary


def gi_frame(
    incidents: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, permutations: int = 0
) -> gpd.GeoDataFrame:
    """Gi* of incident counts per grid cell (analytic p, FDR), in the cells' row order."""
    from geo.hotspots import count_points, gi_star

    counted = count_points(incidents, cells)
    if len(counted) < 2 or not counted["n"].any() or counted["n"].nunique() < 2:
        # No variation: Gi* is undefined; every cell is "not significant".
        out = counted.copy()
        out["gi_z"], out["gi_p"], out["gi_q"] = 0.0, 1.0, 1.0
        out["gi_bin"] = np.int8(0)
        out["gi_class"] = "not significant"
        return out
    return gi_star(counted, "n", permutations=permutations, seed=0)


def _of_village(res: gpd.GeoDataFrame, village: str | None) -> gpd.GeoDataFrame:
    return res if village is None else res[res["village_code"] == village]


def gi_collection(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    permutations: int = 0,
    village: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grid cells (of ``village`` only, when given; computed over all ``cells``) with their Gi*
    z, q, bin and class; a summary of the class counts."""
    res = _of_village(gi_frame(incidents, cells, permutations), village).copy()
    res["gi_z"] = res["gi_z"].astype(float).round(4)
    res["gi_q"] = res["gi_q"].astype(float).round(6)
    counts = res["gi_class"].value_counts()
    cols = [c for c in CELL_COLUMNS if c in res] + ["n", "gi_z", "gi_q", "gi_bin", "gi_class"]
    if "gi_p_sim" in res:
        res["gi_p_sim"] = res["gi_p_sim"].astype(float).round(6)
        cols.append("gi_p_sim")
    summary = {
        "classes": {str(k): int(v) for k, v in counts.items()},
        "permutations": permutations,
    }
    return feature_collection(res, cols), summary


def emerging_collection(
    incidents: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    freq: str = "W-SUN",
    village: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grid cells (of ``village`` only, when given; computed over all ``cells``) with their
    emerging hot spot pattern; a summary of the pattern counts."""
    from geo.hotspots import emerging_hotspots

    if incidents.empty:
        res = cells.assign(pattern="no pattern", n_hot=0, n_cold=0, final_z=0.0)
        res = res.assign(trend_tau=0.0, trend_p=1.0, n=0)
    else:
        res = emerging_hotspots(incidents, cells, freq=freq)
    res = _of_village(res, village).copy()
    for col in ("final_z", "trend_tau", "trend_p"):
        res[col] = res[col].astype(float).round(4)
    res["n"] = res["n"].astype(int)
    cols = [c for c in CELL_COLUMNS if c in res]
    cols += ["n", "pattern", "n_hot", "n_cold", "final_z", "trend_tau", "trend_p"]
    counts = res["pattern"].value_counts()
    summary = {"freq": freq, "patterns": {str(k): int(v) for k, v in counts.items()}}
    return feature_collection(res, cols), summary


def clusters_collection(
    incidents: gpd.GeoDataFrame, *, min_cluster_size: int = 15
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Convex hulls of the HDBSCAN clusters with their summaries."""
    from geo.hotspots import cluster_summary, density_clusters

    with warnings.catch_warnings():
        # scikit-learn >= 1.8 warns that HDBSCAN's ``copy`` default will change; not ours.
        warnings.simplefilter("ignore", FutureWarning)
        labelled = density_clusters(incidents, method="hdbscan", min_cluster_size=min_cluster_size)
    summary = cluster_summary(labelled)
    summary["category_mix"] = summary["category_mix"].map(json.loads)
    summary["top_addresses"] = summary["top_addresses"].map(json.loads)
    for col in ("migrant_share", "repeat_share"):
        summary[col] = summary[col].astype(float).round(4)
    cols = ["cluster", "n", "top_category", "category_mix", "migrant_share", "top_addresses"]
    doc = {
        "min_cluster_size": min_cluster_size,
        "clusters": len(summary),
        "noise": int((labelled["cluster"] < 0).sum()),
    }
    return feature_collection(summary, [*cols, "repeat_share"]), doc
