"""Near-repeat analysis: the Knox test with Monte Carlo significance.

Pairs of incidents within ``distance_m`` metres of each other are found once (a k-d tree); the
Knox statistic is how many of them are also within ``days`` of each other. Shuffling the times
over the locations gives the reference distribution: its mean is the expected count, the ratio
observed / expected says how much more likely than chance a near-repeat is, and the Monte Carlo
p-value is ``(1 + #{simulated >= observed}) / (1 + permutations)``. PySAL's ``pointpats``
has Knox tests too; they are not used so as not to add a dependency for a statistic that is a
few lines on scipy's cKDTree (close pairs found once, only the times shuffled).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.hotspots._frames import METRIC_EPSG, point_xy, times_of


@dataclass(frozen=True)
class KnoxResult:
    """One Knox test: counts of close pairs, expected under no interaction, ratio, p-value."""

    distance_m: float
    days: float
    n: int
    close_in_space: int
    observed: int
    expected: float
    ratio: float
    p_value: float
    permutations: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs_and_days(
    incidents: gpd.GeoDataFrame, distance_m: float, time_col: str, metric_crs: Any
) -> tuple[np.ndarray, np.ndarray]:
    x, y = point_xy(incidents, metric_crs, "incidents")
    t = times_of(incidents, time_col)
    days = ((t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(distance_m, output_type="ndarray")
    return pairs, days


def knox_test(
    incidents: gpd.GeoDataFrame,
    distance_m: float,
    days: float,
    *,
    permutations: int = 999,
    time_col: str = "received_at",
    seed: int | None = 0,
    metric_crs: Any = METRIC_EPSG,
) -> KnoxResult:
    """Knox test: are incidents close in space also close in time more often than chance?

    Parameters
    ----------
    incidents : GeoDataFrame
        Points with a CRS and an aware ``time_col`` (disputes, say).
    distance_m : float
        "Close in space": at most this many metres apart.
    days : float
        "Close in time": at most this many days apart.
    permutations : int
        Monte Carlo shuffles of the times.
    """
    pairs, t = _pairs_and_days(incidents, distance_m, time_col, metric_crs)
    i, j = pairs[:, 0], pairs[:, 1]
    observed = int((np.abs(t[i] - t[j]) <= days).sum())
    rng = np.random.default_rng(seed)
    sims = np.empty(permutations, dtype=np.int64)
    for k in range(permutations):
        tp = rng.permutation(t)
        sims[k] = int((np.abs(tp[i] - tp[j]) <= days).sum())
    expected = float(sims.mean()) if permutations else float("nan")
    return KnoxResult(
        distance_m=float(distance_m),
        days=float(days),
        n=len(t),
        close_in_space=len(pairs),
        observed=observed,
        expected=expected,
        ratio=observed / expected if expected > 0 else float("nan"),
        p_value=float((1 + (sims >= observed).sum()) / (1 + permutations)),
        permutations=permutations,
    )


def knox_table(
    incidents: gpd.GeoDataFrame,
    distances_m: list[float],
    days: list[float],
    *,
    permutations: int = 99,
    time_col: str = "received_at",
    seed: int | None = 0,
    metric_crs: Any = METRIC_EPSG,
) -> pd.DataFrame:
    """Knox ratios and p-values for every (distance, days) pair, one row each."""
    rows = [
        knox_test(
            incidents,
            d,
            t,
            permutations=permutations,
            time_col=time_col,
            seed=seed,
            metric_crs=metric_crs,
        ).as_dict()
        for d in distances_m
        for t in days
    ]
    return pd.DataFrame(rows)


__all__ = ["KnoxResult", "knox_table", "knox_test"]
