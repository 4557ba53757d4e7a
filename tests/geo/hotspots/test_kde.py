"""Kernel density: exactness against scikit-learn, John Snow's pump, the demo's planted spots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import libpysal
import numpy as np
import pytest
import shapely
from libpysal import examples
from sklearn.neighbors import KernelDensity

from geo.hotspots.kde import kde, peak, peaks


def _points(x: np.ndarray, y: np.ndarray, crs: int = 4549, **cols: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(x, y), crs=crs)


def test_surface_matches_exact_gaussian_kde_within_one_percent():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(500_000, 300, 3000), rng.uniform(498_000, 502_000, 1000)]
    y = np.r_[rng.normal(3_200_000, 300, 3000), rng.uniform(3_198_000, 3_202_000, 1000)]
    surface = kde(_points(x, y), 150.0, cell_m=30.0)
    gx, gy = surface.centres()
    pick = rng.choice(gx.size, 400, replace=False)
    cx, cy = gx.ravel()[pick], gy.ravel()[pick]
    exact = KernelDensity(bandwidth=150.0).fit(np.column_stack([x, y]))
    truth = np.exp(exact.score_samples(np.column_stack([cx, cy]))) * len(x)
    ours = surface.values.ravel()[pick]
    big = truth >= 0.01 * truth.max()
    rel = np.abs(ours[big] - truth[big]) / truth[big]
    print(f"max relative error {rel.max():.4%} on {big.sum()} cells")
    assert rel.max() < 0.01
    # The surface integrates to the number of points (the grid is padded by 3 bandwidths).
    assert surface.values.sum() * surface.cell_m**2 == pytest.approx(len(x), rel=0.01)


def test_weights_and_projection():
    lon, lat = np.array([120.10, 120.11]), np.array([29.00, 29.01])
    frame = _points(lon, lat, crs=4326, w=[3.0, 0.0])
    surface = kde(frame, 100.0, weight="w")
    assert surface.total_weight == 3.0
    top = peak(surface).to_crs(4326).geometry.iloc[0]
    assert abs(top.x - 120.10) < 1e-3 and abs(top.y - 29.00) < 1e-3
    assert len(peaks(surface, n=5)) == 1  # the zero-weight point makes no peak
    cells = surface.to_frame(min_share=0.5)
    assert cells.crs.to_epsg() == 4549 and (cells["density"] >= 0.5 * cells["density"].max()).all()


def test_refuses_frames_without_crs_and_bad_weights():
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0], [2.0]))
    with pytest.raises(ValueError, match="no CRS"):
        kde(frame, 100.0)
    frame = _points(np.array([500_000.0]), np.array([3_200_000.0]), w=[-1.0])
    with pytest.raises(ValueError, match="non-negative"):
        kde(frame, 100.0, weight="w")
    with pytest.raises(ValueError, match="projected"):
        kde(frame, 100.0, metric_crs=4326)


def test_snow_deaths_peak_at_broad_street_pump():
    # Bundled with libpysal (examples/snow_maps), read offline: no download at test time.
    path = Path(examples.get_path("SohoPeople.shp"))
    assert path.is_file() and Path(libpysal.__file__).parent in path.parents
    deaths = gpd.read_file(path)
    pumps = gpd.read_file(examples.get_path("SohoWater.shp"))
    assert deaths.crs.to_epsg() == 3857 and len(deaths) == 324
    # Web Mercator stretches distances by 1/cos(51.5°) ≈ 1.6 in London: measure in British
    # National Grid (EPSG:27700) instead.
    pumps = pumps.to_crs(27700)
    broad_street = gpd.GeoSeries(shapely.points([-0.136668], [51.513341]), crs=4326)
    broad_street = broad_street.to_crs(27700).iloc[0]
    pump = pumps.geometry.iloc[int(pumps.distance(broad_street).idxmin())]
    surface = kde(deaths, 50.0, cell_m=5.0, weight="Count", metric_crs=27700)
    top = peak(surface).geometry.iloc[0]
    print(f"KDE peak {top.distance(pump):.1f} m from the Broad Street pump")
    assert top.distance(pump) < 50.0
    # And it is the pump nearest the peak.
    assert int(pumps.distance(top).idxmin()) == int(pumps.distance(pump).idxmin())


def test_kde_recovers_planted_hotspots(demo: dict[str, Any], planted: gpd.GeoDataFrame):
    incidents = demo["incidents"]
    found, detected, true_peaks = 0, 0, 0
    for spot in planted.itertuples():
        sub = incidents[incidents["category"] == spot.category]
        surface = kde(sub, 150.0, cell_m=25.0)
        top = peaks(surface, n=20)
        # "Detected" peaks: at least half as high as the highest one of the surface.
        hot = top[top["density"] >= 0.5 * top["density"].max()]
        near = hot.distance(spot.geometry) <= spot.radius_m
        found += bool(near.any())
        detected += len(hot)
        true_peaks += int(near.sum())
    recall, precision = found / len(planted), true_peaks / detected
    print(f"KDE per category: recall {recall:.2f}, precision {precision:.2f} ({detected} peaks)")
    assert recall == 1.0
    assert precision >= 0.75
