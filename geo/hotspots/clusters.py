"""Density clusters of incidents in metres (HDBSCAN or DBSCAN, scikit-learn), with a summary.

Each cluster is summarised for the analyst: size, category mix, share involving migrants, the
most frequent addresses, and the share of repeat calls (incidents with ``repeat_of`` set).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import DBSCAN, HDBSCAN

from geo.hotspots._frames import METRIC_EPSG, point_xy, require_crs


def density_clusters(
    incidents: gpd.GeoDataFrame,
    *,
    method: Literal["hdbscan", "dbscan"] = "hdbscan",
    min_cluster_size: int = 15,
    min_samples: int | None = None,
    eps_m: float = 150.0,
    metric_crs: Any = METRIC_EPSG,
) -> gpd.GeoDataFrame:
    """Label incidents by density cluster, in metres.

    Parameters
    ----------
    incidents : GeoDataFrame
        Points with a CRS.
    method : {"hdbscan", "dbscan"}
        :class:`sklearn.cluster.HDBSCAN` (no distance to choose) or
        :class:`sklearn.cluster.DBSCAN` with radius ``eps_m``.
    min_cluster_size : int
        HDBSCAN's smallest cluster; for DBSCAN, the ``min_samples`` default.
    min_samples : int, optional
        Core-point neighbourhood size (default: as scikit-learn for HDBSCAN, ``min_cluster_size``
        for DBSCAN).
    eps_m : float
        DBSCAN radius in metres.

    Returns
    -------
    GeoDataFrame
        ``incidents`` with ``cluster`` (-1 = noise; clusters numbered 0.. by decreasing size).
    """
    x, y = point_xy(incidents, metric_crs, "incidents")
    xy = np.column_stack([x, y])
    if len(xy) == 0:
        labels = np.empty(0, dtype=np.int64)
    elif method == "hdbscan":
        if len(xy) < max(min_cluster_size, 2):
            labels = np.full(len(xy), -1, dtype=np.int64)
        else:
            model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples)
            labels = model.fit_predict(xy).astype(np.int64)
    elif method == "dbscan":
        model_db = DBSCAN(eps=eps_m, min_samples=min_samples or min_cluster_size)
        labels = model_db.fit_predict(xy).astype(np.int64)
    else:
        raise ValueError(f"unknown method {method!r}")
    # Renumber by decreasing size so that cluster 0 is the largest (stable across runs).
    ids, sizes = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.lexsort((ids, -sizes))]
    remap = {int(old): new for new, old in enumerate(order)}
    out = incidents.copy()
    out["cluster"] = np.array([remap.get(int(v), -1) for v in labels], dtype=np.int64)
    return out


def cluster_summary(
    labelled: gpd.GeoDataFrame,
    *,
    top: int = 3,
    category: str = "category",
    migrant: str = "involves_migrant",
    address: str = "address",
    repeat_of: str = "repeat_of",
) -> gpd.GeoDataFrame:
    """One row per cluster of :func:`density_clusters`: where, how many, what, who.

    Returns
    -------
    GeoDataFrame
        ``cluster``, ``n``, ``top_category``, ``category_mix`` (JSON shares, largest first),
        ``migrant_share``, ``top_addresses`` (JSON list of [address, count]), ``repeat_share``
        and the cluster's convex hull as geometry (in the input CRS).
    """
    require_crs(labelled, "labelled")
    rows = []
    for cid, grp in labelled[labelled["cluster"] >= 0].groupby("cluster", sort=True):
        mix = grp[category].value_counts(normalize=True) if category in grp else pd.Series()
        addr = grp[address].dropna().value_counts().head(top) if address in grp else pd.Series()
        if repeat_of in grp:
            repeat = grp[repeat_of].notna() & (grp[repeat_of].astype(str) != "")
        else:
            repeat = pd.Series(False, index=grp.index)
        rows.append(
            {
                "cluster": int(cid),
                "n": len(grp),
                "top_category": str(mix.index[0]) if len(mix) else None,
                "category_mix": json.dumps(
                    {str(k): round(float(v), 3) for k, v in mix.items()}, ensure_ascii=False
                ),
                "migrant_share": float(grp[migrant].astype(bool).mean())
                if migrant in grp
                else np.nan,
                "top_addresses": json.dumps(
                    [[str(k), int(v)] for k, v in addr.items()], ensure_ascii=False
                ),
                "repeat_share": float(repeat.mean()),
                "geometry": shapely.convex_hull(shapely.multipoints(grp.geometry.to_numpy())),
            }
        )
    columns = ["cluster", "n", "top_category", "category_mix", "migrant_share", "top_addresses",
               "repeat_share", "geometry"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=labelled.crs)


__all__ = ["cluster_summary", "density_clusters"]
