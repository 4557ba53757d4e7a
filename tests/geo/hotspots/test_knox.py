"""Knox test: a planted near-repeat pattern is found, a random one is not."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.hotspots.knox import knox_table, knox_test

START = pd.Timestamp("2026-01-01T00:00:00+08:00")


def _frame(x: np.ndarray, y: np.ndarray, days: np.ndarray) -> gpd.GeoDataFrame:
    t = START + pd.to_timedelta(days, unit="D")
    return gpd.GeoDataFrame({"received_at": t}, geometry=gpd.points_from_xy(x, y), crs=4549)


def _random(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        rng.uniform(500_000, 505_000, n),
        rng.uniform(3_200_000, 3_205_000, n),
        rng.uniform(0, 365, n),
    )


def test_near_repeats_are_found():
    rng = np.random.default_rng(21)
    x, y, t = _random(300, rng)
    # Each first event is followed by two more within 100 m and 7 days.
    k = np.repeat(np.arange(300), 2)
    fx = x[k] + rng.uniform(-70, 70, k.size)
    fy = y[k] + rng.uniform(-70, 70, k.size)
    ft = t[k] + rng.uniform(0, 7, k.size)
    frame = _frame(np.r_[x, fx], np.r_[y, fy], np.r_[t, ft])
    res = knox_test(frame, 200.0, 7.0, permutations=199)
    print(f"near-repeat: observed {res.observed}, expected {res.expected:.1f}, "
          f"ratio {res.ratio:.1f}, p {res.p_value:.3f}")  # fmt: skip
    assert res.ratio > 5 and res.p_value == pytest.approx(1 / 200)
    assert res.close_in_space >= res.observed


def test_random_pattern_is_not_significant():
    rng = np.random.default_rng(22)
    frame = _frame(*_random(900, rng))
    res = knox_test(frame, 200.0, 7.0, permutations=199)
    print(f"random: ratio {res.ratio:.2f}, p {res.p_value:.3f}")
    assert 0.75 < res.ratio < 1.3 and res.p_value > 0.05


def test_knox_table_shape_and_units():
    rng = np.random.default_rng(23)
    frame = _frame(*_random(200, rng))
    table = knox_table(frame, [100.0, 300.0], [3.0, 14.0], permutations=19)
    assert len(table) == 4 and set(table["distance_m"]) == {100.0, 300.0}
    # Pairs close in space cannot decrease with the distance.
    near = table.groupby("distance_m")["close_in_space"].first()
    assert near[300.0] >= near[100.0]
    naive = frame.assign(received_at=frame["received_at"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="timezone-aware"):
        knox_test(naive, 100.0, 3.0, permutations=9)
