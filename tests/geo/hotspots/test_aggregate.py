"""Counting incidents per area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.hotspots.aggregate import area_index, count_points


def test_count_points_by_category_across_crs():
    cells = gpd.GeoDataFrame(
        {"code": ["a", "b"]},
        geometry=gpd.GeoSeries.from_xy([500_000, 501_000], [3_200_000, 3_200_000]).buffer(
            500, cap_style="square"
        ),
        crs=4549,
    )
    pts = gpd.GeoDataFrame(
        {"category": ["wage", "noise", "wage", "wage"]},
        geometry=gpd.points_from_xy(
            [500_100, 500_900, 501_200, 600_000], [3_200_100, 3_200_000, 3_199_900, 3_200_000]
        ),
        crs=4549,
    ).to_crs(4326)
    out = count_points(pts, cells, by="category")
    assert out["n"].tolist() == [1, 2]  # the far point is in no cell
    assert out["n_wage"].tolist() == [1, 1] and out["n_noise"].tolist() == [0, 1]
    assert out.crs == cells.crs
    assert area_index(pts, cells).tolist() == [0, 1, 1, -1]
    with pytest.raises(ValueError, match="no CRS"):
        count_points(gpd.GeoDataFrame(geometry=pts.geometry.to_numpy()), cells)
    assert np.issubdtype(out["n"].dtype, np.integer)
