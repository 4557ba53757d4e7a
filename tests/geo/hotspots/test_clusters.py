"""Density clusters in metres and their summaries."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from geo.hotspots.clusters import cluster_summary, density_clusters


def _blobs() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(31)
    x = np.r_[rng.normal(0, 40, 120), rng.normal(2000, 40, 60), rng.uniform(-3000, 5000, 60)]
    y = np.r_[rng.normal(0, 40, 120), rng.normal(0, 40, 60), rng.uniform(-3000, 3000, 60)]
    n = x.size
    frame = gpd.GeoDataFrame(
        {
            "category": np.where(np.arange(n) < 120, "wage", "noise"),
            "involves_migrant": np.arange(n) % 4 != 0,
            "address": np.where(np.arange(n) % 3 == 0, "金田村1号", "其他"),
            "repeat_of": np.where(np.arange(n) % 10 == 0, "E0000001", None),
        },
        geometry=gpd.points_from_xy(x + 500_000, y + 3_200_000),
        crs=4549,
    )
    return frame.to_crs(4326)


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
def test_two_blobs_found(method: Any):
    labelled = density_clusters(_blobs(), method=method, min_cluster_size=15, eps_m=60.0)
    big, small = labelled["cluster"].iloc[:120], labelled["cluster"].iloc[120:180]
    assert (big == 0).mean() > 0.9 and (small == 1).mean() > 0.9  # 0 = the largest
    assert (labelled["cluster"].iloc[180:] == -1).mean() > 0.8
    summary = cluster_summary(labelled)
    assert summary["cluster"].tolist()[:2] == [0, 1]
    first = summary.iloc[0]
    assert first["top_category"] == "wage"
    assert json.loads(first["category_mix"])["wage"] > 0.9
    assert 0.6 < first["migrant_share"] < 0.9
    assert json.loads(first["top_addresses"])[0][0] == "其他"
    assert 0.0 < first["repeat_share"] < 0.25
    assert summary.crs == labelled.crs and summary.geometry.iloc[0].geom_type == "Polygon"


def test_demo_wage_clusters(demo: dict[str, Any], planted: gpd.GeoDataFrame):
    wage = demo["incidents"][demo["incidents"]["category"] == "wage"]
    summary = cluster_summary(density_clusters(wage, min_cluster_size=20))
    spot = planted[planted["category"] == "wage"].geometry.iloc[0]
    hulls = summary.to_crs(4549)
    assert (hulls.distance(spot) < 100).any()  # the planted wage spot is a cluster
