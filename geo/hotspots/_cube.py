"""Private: space-time Gi* over a (time, location) cube and the Mann-Kendall trend per location."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import stats

FloatArray = npt.NDArray[np.float64]


def space_time_gi(cube: FloatArray, adjacency: sp.csr_matrix, time_lag: int) -> FloatArray:
    """Gi* z-score of every bin of a (T, n) cube with binary space-time neighbourhoods.

    The neighbourhood of bin (t, i) is every bin (s, j) with j = i or j a spatial neighbour of i,
    and t - time_lag <= s <= t (as ArcGIS's space-time cube, which looks back in time only). The
    mean and spread are those of the whole cube. With binary weights Gi* reduces to
    ``(S - xbar * c) / (sd * sqrt((N c - c^2) / (N - 1)))`` where ``S`` is the neighbourhood
    sum, ``c`` its number of bins and ``N`` the number of bins of the cube (Getis and Ord 1992).
    """
    t_steps, n = cube.shape
    a = sp.csr_matrix(adjacency, dtype=np.float64)
    a = sp.csr_matrix((a + sp.eye(n)) > 0, dtype=np.float64)
    spatial = np.asarray(a @ cube.T).T  # (T, n) sums over space at each step
    card = np.asarray(a.sum(axis=1), dtype=np.float64).ravel()
    csum = np.cumsum(np.vstack([np.zeros((1, n)), spatial]), axis=0)
    lo = np.maximum(np.arange(t_steps) - time_lag, 0)
    s = csum[np.arange(t_steps) + 1] - csum[lo]
    c = (np.arange(t_steps) - lo + 1)[:, None] * card[None, :]
    big_n = cube.size
    xbar = cube.mean()
    sd = cube.std()
    if sd == 0:
        return np.zeros_like(s)
    return np.asarray((s - xbar * c) / (sd * np.sqrt((big_n * c - c * c) / (big_n - 1))))


def mann_kendall(series: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mann-Kendall trend of each column of a (T, n) array: (tau, two-sided p).

    The Mann-Kendall test is Kendall's rank correlation between time and the values, so it is
    :func:`scipy.stats.kendalltau` (tau-b, tie-corrected asymptotic p) against the step index;
    no separate package is needed.
    """
    t_steps, n = series.shape
    steps = np.arange(t_steps)
    tau = np.zeros(n)
    p = np.ones(n)
    for i in range(n):
        col = series[:, i]
        if np.ptp(col) == 0:
            continue
        res = stats.kendalltau(steps, col)
        tau[i], p[i] = float(res.statistic), float(res.pvalue)
    return tau, p
