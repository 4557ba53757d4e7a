"""Server-side point clusters per zoom (geo.map_clusters), checked by their properties: every
point counted once at every zoom, cluster symbols kept apart, a cluster's members split exactly
at its expansion zoom, positions are the members' centroids, and the projection is Web
Mercator's (checked against pyproj)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo.map_clusters import cluster_levels, lonlat_to_world, world_to_lonlat

CELL = 64


def _town(n: int = 3_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points around a town (dense centres plus scatter) and an overdue flag on some."""
    rng = np.random.default_rng(seed)
    centres = np.array([[120.10, 29.00], [120.14, 29.03], [120.05, 28.97]])
    which = rng.integers(0, len(centres), n)
    spread = np.where(rng.random(n) < 0.7, 0.004, 0.04)
    lon = centres[which, 0] + rng.normal(0, 1, n) * spread
    lat = centres[which, 1] + rng.normal(0, 1, n) * spread
    return lon, lat, (rng.random(n) < 0.1).astype(float)


def _pixels(frame: pd.DataFrame, zoom: int) -> np.ndarray:
    x, y = lonlat_to_world(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return np.column_stack([x, y]) * 256 * 2.0**zoom


def test_world_coordinates_are_web_mercator() -> None:
    lon = np.array([-179.0, -45.5, 0.0, 120.1, 179.0])
    lat = np.array([-80.0, -10.0, 0.0, 29.0, 84.0])
    x, y = lonlat_to_world(lon, lat)
    mx, my = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    half = np.pi * 6378137.0
    np.testing.assert_allclose(x, (mx + half) / (2 * half), atol=1e-12)
    np.testing.assert_allclose(y, (half - my) / (2 * half), atol=1e-12)
    back = world_to_lonlat(x, y)
    np.testing.assert_allclose(back[0], lon, atol=1e-9)
    np.testing.assert_allclose(back[1], lat, atol=1e-9)


def test_every_point_is_counted_once_at_every_zoom() -> None:
    lon, lat, late = _town()
    levels = cluster_levels(lon, lat, min_zoom=9, max_zoom=16, radius_px=CELL, weights={"o": late})
    for z in range(9, 17):
        level = levels.levels[z]
        assert level["n"].sum() == len(lon), z
        assert level["o"].sum() == pytest.approx(late.sum()), z
        single = level.loc[level["row"] >= 0]
        assert (single["n"] == 1).all()
        clusters = level.loc[level["row"] < 0]
        assert (clusters["n"] >= 3).all()  # min_points
    # Zoomed in and out, the cluster count only grows with the zoom.
    counts = [len(levels.levels[z]) for z in range(9, 17)]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    # Above the last level every point stands alone, with its row.
    points = levels.at(17)
    assert len(points) == len(lon) and sorted(points["row"]) == list(range(len(lon)))


def test_cluster_symbols_are_kept_apart() -> None:
    lon, lat, _ = _town(seed=5)
    levels = cluster_levels(lon, lat, min_zoom=9, max_zoom=16, radius_px=CELL)
    for z in range(9, 17):
        level = levels.levels[z]
        xy = _pixels(level.loc[level["row"] < 0], z)
        if len(xy) < 2:
            continue
        gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(gaps, np.inf)
        # Seeds are a radius apart; merged centroids drift a little towards each other.
        assert gaps.min() > CELL / 2, (z, gaps.min())


def test_members_stay_together_until_the_expansion_zoom() -> None:
    lon, lat, late = _town(seed=11)
    levels = cluster_levels(lon, lat, min_zoom=9, max_zoom=16, radius_px=CELL, weights={"o": late})
    x, y = lonlat_to_world(lon, lat)
    for z in range(9, 17):
        level, labels = levels.levels[z], levels.labels[z]
        assert len(labels) == len(lon) and labels.max() == len(level) - 1
        for f in np.flatnonzero(level["row"].to_numpy() < 0):
            members = labels == f
            row = level.iloc[f]
            # What the row says of its members: count, centroid, summed weight.
            assert row["n"] == members.sum() and row["o"] == pytest.approx(late[members].sum())
            cx, cy = world_to_lonlat(x[members].mean(), y[members].mean())
            assert (row["lon"], row["lat"]) == pytest.approx((float(cx), float(cy)), abs=1e-9)
            for zz in range(z + 1, min(int(row["expand"]), 16) + 1):
                n_features = len(np.unique(levels.labels[zz][members]))
                assert (n_features == 1) == (zz < row["expand"]), (z, zz, f)
        # Single points are the points whose label they carry.
        single = level.loc[level["row"] >= 0]
        for f, r in zip(single.index[:50], single["row"].to_numpy()[:50], strict=True):
            assert np.flatnonzero(labels == f).tolist() == [r]


def test_positions_are_the_members_centroid_and_small_groups_stay_points() -> None:
    # Three points a few metres apart (one cluster until zoom 16), two more far away.
    lon = np.array([120.1000, 120.1001, 120.1002, 121.0, 121.0001, np.nan])
    lat = np.array([29.0000, 29.0001, 29.0000, 29.5, 29.5, 29.2])
    levels = cluster_levels(lon, lat, min_zoom=9, max_zoom=16, radius_px=CELL)
    level = levels.levels[12]
    clusters = level.loc[level["row"] < 0]
    assert len(clusters) == 1 and clusters["n"].iloc[0] == 3
    x, y = lonlat_to_world(lon[:3], lat[:3])
    cx, cy = world_to_lonlat(x.mean(), y.mean())
    assert clusters["lon"].iloc[0] == pytest.approx(float(cx), abs=1e-9)
    assert clusters["lat"].iloc[0] == pytest.approx(float(cy), abs=1e-9)
    # Two points in a cell are drawn as points, with their input rows; the NaN row is left out.
    assert sorted(level.loc[level["row"] >= 0, "row"]) == [3, 4]
    assert level["n"].sum() == 5


def test_identical_points_never_split_before_the_single_points_zoom() -> None:
    lon = np.full(5, 120.1)
    lat = np.full(5, 29.0)
    levels = cluster_levels(lon, lat, min_zoom=9, max_zoom=16, radius_px=CELL)
    for z in range(9, 17):
        assert levels.levels[z]["expand"].tolist() == [17]


def test_view_box_and_zoom_clamping() -> None:
    lon, lat, _ = _town()
    levels = cluster_levels(lon, lat, min_zoom=9, max_zoom=16, radius_px=CELL)
    box = (120.08, 28.98, 120.12, 29.02)
    part = levels.at(14, box)
    assert 0 < len(part) < len(levels.levels[14])
    assert part["lon"].between(box[0], box[2]).all() and part["lat"].between(box[1], box[3]).all()
    assert levels.at(3).equals(levels.levels[9])  # below the levels: the widest one


@pytest.mark.parametrize(
    "kwargs",
    [{"min_zoom": 10, "max_zoom": 9}, {"max_zoom": 30}, {"radius_px": 0}, {"min_points": 1}],
)
def test_bad_settings_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        cluster_levels(np.array([120.0]), np.array([29.0]), **kwargs)
