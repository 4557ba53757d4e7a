"""Getis-Ord Gi*: equal to esda, inference that finds planted hotspots, classes."""

from __future__ import annotations

from typing import Any

import esda
import geopandas as gpd
import numpy as np
import pytest
from libpysal import examples
from libpysal import weights as lpw
from scipy.sparse.csgraph import connected_components

from geo.hotspots.aggregate import count_points
from geo.hotspots.gistar import bin_of, class_of, contiguity, gi_star, gi_star_arrays


def test_columbus_crime_z_scores_equal_esda():
    # libpysal's bundled columbus data (no download).
    columbus = gpd.read_file(examples.get_path("columbus.shp"))
    w = lpw.Queen.from_dataframe(columbus, use_index=False, silence_warnings=True)
    ref = esda.G_Local(columbus["CRIME"].to_numpy(), w, transform="B", star=True, permutations=0)
    ours = gi_star(columbus, "CRIME", permutations=99)
    np.testing.assert_allclose(ours["gi_z"].to_numpy(), ref.Zs, rtol=1e-12, atol=1e-12)
    ref_r = esda.G_Local(columbus["CRIME"].to_numpy(), w, transform="R", star=True, permutations=0)
    ours_r = gi_star(columbus, "CRIME", transform="R", permutations=0)
    np.testing.assert_allclose(ours_r["gi_z"].to_numpy(), ref_r.Zs, rtol=1e-12, atol=1e-12)


def test_permutation_p_values_agree_with_esda():
    columbus = gpd.read_file(examples.get_path("columbus.shp"))
    w = lpw.Queen.from_dataframe(columbus, use_index=False, silence_warnings=True)
    y = columbus["CRIME"].to_numpy(dtype=float)
    ref = esda.G_Local(y, w, transform="B", star=True, permutations=9999, seed=1)
    ours = gi_star_arrays(y, w, permutations=9999, seed=2)
    # Two Monte Carlo estimates of the same p: equal up to sampling noise (sd <= 0.005).
    assert np.abs(ours["p_sim"] - ref.p_sim).max() < 0.025
    np.testing.assert_allclose(ours["z_sim"], ref.z_sim, atol=0.1)


def test_bins_and_classes():
    z = np.array([3.0, 2.5, 1.8, 0.1, -2.0, -3.5])
    p = np.array([0.001, 0.03, 0.08, 0.9, 0.04, 0.0001])
    bins = bin_of(z, p)
    assert bins.tolist() == [3, 2, 1, 0, -2, -3]
    assert class_of(bins).tolist() == [
        "hot 99%", "hot 95%", "hot 90%", "not significant", "cold 95%", "cold 99%",
    ]  # fmt: skip


def _lattice(n: int = 15, cell: float = 500.0) -> gpd.GeoDataFrame:
    xs, ys = np.meshgrid(np.arange(n) * cell, np.arange(n) * cell)
    boxes = gpd.GeoSeries.from_xy(xs.ravel(), ys.ravel()).buffer(cell / 2, cap_style="square")
    return gpd.GeoDataFrame(geometry=boxes.to_numpy(), crs=4549)


def test_pseudo_p_floor_trap_and_the_analytic_default():
    # A one-cell hotspot in a 15 x 15 town of Poisson(20) counts: extreme, yet too small for
    # Benjamini-Hochberg over pseudo p-values floored at 1/1000.
    cells = _lattice()
    rng = np.random.default_rng(5)
    cells["n"] = rng.poisson(20, len(cells)).astype(float)
    centre = 7 * 15 + 7
    cells.loc[centre, "n"] = 160.0
    pseudo = gi_star(cells, "n", permutations=999, p_value="permutation")
    assert pseudo["gi_p_sim"].min() >= 1 / 1000
    assert pseudo.loc[centre, "gi_bin"] == 0  # the trap: nothing flagged
    analytic = gi_star(cells, "n", permutations=999)
    assert analytic.loc[centre, "gi_bin"] == 3
    # Conditional permutation keeps each cell's own value fixed, so it tests the neighbours:
    # the cell next to the spike (whose neighbourhood holds it) is what permutations can see.
    perm_z = gi_star(cells, "n", permutations=999, p_value="permutation_z")
    assert perm_z.loc[centre + 1, "gi_z_sim"] > 3
    # No cold or hot cells far from the planted one.
    far = analytic.distance(analytic.geometry.iloc[centre]) > 1000
    assert (analytic.loc[far, "gi_bin"] == 0).all()


def _components(result: gpd.GeoDataFrame, w: lpw.W, level: int = 2) -> list[set[int]]:
    hot = np.flatnonzero(result["gi_bin"].to_numpy() >= level)
    if not hot.size:
        return []
    sub = w.sparse.tocsr()[hot][:, hot]
    _, labels = connected_components(sub, directed=False)
    return [set(hot[labels == k].tolist()) for k in np.unique(labels)]


def test_gi_star_recovers_planted_hotspots(demo: dict[str, Any], planted: gpd.GeoDataFrame):
    incidents, cells = demo["incidents"], demo["grid_cells"]
    metric = cells.to_crs(4549)
    w = contiguity(cells)
    found, components, true_components = 0, 0, 0
    for spot in planted.itertuples():
        truth = set(np.flatnonzero(metric.intersects(spot.geometry.buffer(spot.radius_m))))
        counted = count_points(incidents[incidents["category"] == spot.category], cells)
        result = gi_star(counted, "n", weights=w, permutations=999)
        comps = _components(result, w)
        found += any(c & truth for c in comps)
        components += len(comps)
        true_components += sum(bool(c & truth) for c in comps)
    recall, precision = found / len(planted), true_components / max(components, 1)
    print(f"Gi* per category: recall {recall:.2f}, precision {precision:.2f} "
          f"({components} hot areas at 95%)")  # fmt: skip
    assert recall == 1.0
    assert precision >= 0.5

    # All categories together: the big planted spots stand out of the town's background.
    counted = count_points(incidents, cells)
    result = gi_star(counted, "n", weights=w, permutations=999)
    comps = _components(result, w)
    hit = [
        any(
            c & set(np.flatnonzero(metric.intersects(s.geometry.buffer(s.radius_m)))) for c in comps
        )
        for s in planted.itertuples()
    ]
    print(f"Gi* all categories: {sum(hit)} of {len(hit)} planted spots in a hot area")
    assert sum(hit) >= 3


def test_input_checks():
    cells = _lattice(3)
    cells["n"] = 1.0
    with pytest.raises(KeyError):
        gi_star(cells, "missing")
    with pytest.raises(ValueError, match="needs permutations"):
        gi_star(cells, "n", permutations=0, p_value="permutation")
    with pytest.raises(ValueError, match="unknown weights"):
        gi_star(cells, "n", weights="bishop")  # type: ignore[arg-type]
