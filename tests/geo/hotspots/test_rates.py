"""Rates per 1,000, Empirical Bayes smoothing, migrant vs registered risk ratios."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from geo.hotspots.rates import eb_rates, incident_rates, migrant_rates, risk_ratio


def test_eb_shrinks_small_populations_most():
    events = np.array([3, 0, 500, 450, 520, 2, 480])
    pop = np.array([40, 30, 10_000, 10_000, 10_000, 25, 10_000])
    raw = events / pop
    eb = eb_rates(events, pop)
    mean = events.sum() / pop.sum()
    # Every smoothed rate lies between its raw rate and the overall rate…
    lo, hi = np.minimum(raw, mean), np.maximum(raw, mean)
    assert np.all((eb >= lo - 1e-15) & (eb <= hi + 1e-15))
    # …large areas barely move, tiny ones move most of the way.
    big, small = pop >= 10_000, pop < 100
    moved = np.abs(eb - raw) / np.abs(mean - raw)  # share of the way to the overall rate
    assert moved[big].max() < 0.85 and moved[small].min() > 0.99
    assert np.all(np.abs(eb[big] - raw[big]) / raw[big] < 0.07)
    # 3 in 40 (75 per 1,000) is not believed: it ends near the town's rate.
    assert eb[0] * 1000 < 60


def test_eb_edge_cases():
    # No population: NaN, and no part in the prior.
    eb = eb_rates([1, 10, 12], [0, 1000, 1100])
    assert math.isnan(eb[0]) and np.all(np.isfinite(eb[1:]))
    # Rates varying less than Poisson noise: everything shrinks to the overall rate.
    flat = eb_rates([10, 11, 9], [1000, 1000, 1000])
    np.testing.assert_allclose(flat, 0.01)
    assert np.isnan(eb_rates([1], [0])).all()


def test_risk_ratio_katz_interval_by_hand():
    # 30 incidents among 1,000 migrants vs 10 among 2,000 registered residents.
    out = risk_ratio([30], [1000], [10], [2000]).iloc[0]
    rr = (30 / 1000) / (10 / 2000)  # 6.0
    se = math.sqrt(1 / 30 - 1 / 1000 + 1 / 10 - 1 / 2000)  # 0.363088…
    z = 1.959963984540054
    assert out["rr"] == pytest.approx(6.0)
    assert out["rr_lo"] == pytest.approx(rr * math.exp(-z * se), rel=1e-9)  # 2.94505…
    assert out["rr_hi"] == pytest.approx(rr * math.exp(z * se), rel=1e-9)  # 12.2239…
    assert out["rr_lo"] == pytest.approx(2.94505, abs=1e-4)
    assert not out["corrected"]
    # A zero count gets the 0.5 correction and stays finite; a zero population gives NaN.
    zero = risk_ratio([0, 5], [100, 0], [4, 5], [100, 100])
    assert zero["corrected"].tolist() == [True, False]
    assert zero["rr"].iloc[0] == pytest.approx(0.5 / 4.5)
    assert math.isnan(zero["rr"].iloc[1])


def test_incident_rates_per_thousand():
    cells = gpd.GeoDataFrame(
        {"n": [5, 0], "pop": [2500, 0]},
        geometry=gpd.GeoSeries.from_xy([0, 1], [0, 1]).buffer(0.4),
        crs=4549,
    )
    out = incident_rates(cells, "n", "pop")
    assert out["rate"].iloc[0] == pytest.approx(2.0)
    assert math.isnan(out["rate"].iloc[1]) and math.isnan(out["rate_eb"].iloc[1])


def test_migrant_rates_find_planted_migrant_heavy_hotspots(
    demo: dict[str, Any], planted: gpd.GeoDataFrame
):
    incidents, cells = demo["incidents"], demo["grid_cells"]
    result = migrant_rates(incidents, cells)
    assert (result["n_migrant"] + result["n_registered"] == result["n"]).all()
    assert result["n"].sum() == len(incidents)
    # Migrant-heavy planted spots: clearly above the town's share of migrant incidents (69%);
    # in the demo the wage (83%) and rental (78%) spots, not the noise and neighbour ones (~50%).
    by_id = incidents.set_index("id")["involves_migrant"]
    heavy = [
        s["id"] for s in demo["meta"]["hotspots"] if by_id.loc[s["incident_ids"]].mean() >= 0.75
    ]
    assert len(heavy) == 2
    metric = result.to_crs(4549)
    rank = result["rate_migrant_eb"].rank(ascending=False, method="min")
    top = max(1, round(0.05 * len(result)))
    for spot in planted[planted["id"].isin(heavy)].itertuples():
        cell = int(np.flatnonzero(metric.contains(spot.geometry))[0])
        print(f"{spot.id} ({spot.category}): migrant EB rate rank {int(rank.iloc[cell])} "
              f"of {len(result)}, RR {result['rr'].iloc[cell]:.2f}")  # fmt: skip
        assert rank.iloc[cell] <= top
