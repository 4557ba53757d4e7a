"""Emerging hot spots: how hot and cold spots change over time (space-time cube method).

Incidents are counted per location (grid cell) and time step (a week by default); a space-time
Gi* z-score is computed for every bin; each location's series of z-scores gets a Mann-Kendall
trend; and each location is put in one of the categories of ArcGIS's Emerging Hot Spot Analysis.

Our reading of those definitions (ArcGIS Pro, "How Emerging Hot Spot Analysis works", also
tabulated in xarray-spatial's ``emerging_hotspots``), with "hot" meaning a statistically
significant hot bin and "90%" meaning at least 90 percent of the time steps:

- **new**: hot at the final step and never hot before.
- **consecutive**: a single uninterrupted run of two or more hot steps ending at the final step,
  never hot before the run, and hot in fewer than 90% of the steps.
- **intensifying**: hot in at least 90% of the steps including the final one, and the z-scores
  trend upwards significantly (Mann-Kendall).
- **persistent**: hot in at least 90% of the steps including the final one, no significant trend.
- **diminishing**: hot in at least 90% of the steps including the final one, significant
  downward trend.
- **sporadic**: hot at the final step, hot in fewer than 90% of the steps, on and off (not new or
  consecutive), and never a significant cold spot.
- **oscillating**: hot at the final step, fewer than 90% hot, and a significant cold spot at some
  earlier step.
- **historical**: not hot at the final step, but hot in at least 90% of the steps.

Cold spots mirror these (``new cold`` …); anything else is ``no pattern``. Significance uses the
two-sided normal p-value of each bin, Benjamini-Hochberg corrected over the whole cube by
default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from libpysal import weights as lpw
from scipy import stats

from geo.hotspots._cube import mann_kendall, space_time_gi
from geo.hotspots._frames import METRIC_EPSG, require_crs, times_of
from geo.hotspots.aggregate import area_index
from geo.hotspots.gistar import weights_for

FloatArray = npt.NDArray[np.float64]
PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)


@dataclass(frozen=True)
class Cube:
    """Counts per (time step, location): ``counts[t, i]``; ``steps`` are the bin starts (UTC)."""

    counts: FloatArray
    steps: pd.DatetimeIndex


def space_time_cube(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    freq: str = "W-SUN",
    time_col: str = "received_at",
    start: Any = None,
    end: Any = None,
    tz: str = "Asia/Shanghai",
    metric_crs: Any = METRIC_EPSG,
) -> Cube:
    """Count incidents per area (row order of ``areas``) and time bin.

    Parameters
    ----------
    freq : str
        pandas period frequency of the bins, in local time ``tz`` (default ``W-SUN``: weeks
        Monday to Sunday).
    start, end : timestamp-like, optional
        Range covered (default: the incidents' range). Empty bins are kept as zeros.
    """
    require_crs(incidents, "incidents")
    t = times_of(incidents, time_col).dt.tz_convert(tz)
    pos = area_index(incidents, areas, metric_crs)
    period = t.dt.tz_localize(None).dt.to_period(freq)
    first = period.min() if start is None else pd.Timestamp(start).tz_localize(None).to_period(freq)
    last = period.max() if end is None else pd.Timestamp(end).tz_localize(None).to_period(freq)
    periods = pd.period_range(first, last, freq=freq)
    ordinal = np.asarray(period.array.asi8, dtype=np.int64)  # NaT is the most negative integer
    step = np.where(period.isna().to_numpy(), -1, ordinal - first.ordinal)
    ok = (pos >= 0) & (step >= 0) & (step < len(periods))
    counts = np.zeros((len(periods), len(areas)), dtype=np.float64)
    np.add.at(counts, (step[ok], pos[ok]), 1.0)
    steps = pd.DatetimeIndex(periods.start_time).tz_localize(tz).tz_convert("UTC")
    return Cube(counts, steps)


def _run_end(sig: npt.NDArray[np.bool_]) -> int:
    """Length of the run of True at the end of a 1-d boolean array."""
    if not sig[-1]:
        return 0
    falses = np.flatnonzero(~sig)
    return int(sig.size - (falses[-1] + 1)) if falses.size else int(sig.size)


def classify(
    hot: npt.NDArray[np.bool_],
    cold: npt.NDArray[np.bool_],
    trend_tau: float,
    trend_p: float,
    alpha: float = 0.05,
) -> str:
    """Emerging hot spot category of one location from its per-step hot/cold flags (oldest first).

    See the module docstring for the definitions; cold categories mirror the hot ones.
    """
    for sig, other, suffix, up in ((hot, cold, "", 1.0), (cold, hot, " cold", -1.0)):
        steps = sig.size
        share = sig.sum() / steps
        if sig[-1]:
            run = _run_end(sig)
            if share >= 0.9:
                if trend_p < alpha and np.sign(trend_tau) == up:
                    return "intensifying" + suffix
                if trend_p < alpha and np.sign(trend_tau) == -up:
                    return "diminishing" + suffix
                return "persistent" + suffix
            if sig.sum() == 1:
                return "new" + suffix
            if run >= 2 and run == sig.sum():
                return "consecutive" + suffix
            return ("oscillating" if other[:-1].any() else "sporadic") + suffix
        if share >= 0.9:
            return "historical" + suffix
    return "no pattern"


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    weights: lpw.W | Literal["queen", "rook"] = "queen",
    freq: str = "W-SUN",
    time_lag: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
    time_col: str = "received_at",
    start: Any = None,
    end: Any = None,
    metric_crs: Any = METRIC_EPSG,
) -> gpd.GeoDataFrame:
    """Emerging hot spot categories per area from incidents binned by area and time step.

    Parameters
    ----------
    incidents : GeoDataFrame
        Points with a CRS and an aware ``time_col``.
    areas : GeoDataFrame
        Polygons (grid cells) with a CRS.
    weights : libpysal W or {"queen", "rook"}
        Spatial neighbours of the areas (ids 0..n-1 in row order).
    freq : str
        Time step (pandas frequency, local time); default weekly.
    time_lag : int
        How many earlier steps belong to a bin's neighbourhood (ArcGIS's neighbourhood time step).
    alpha : float
        Significance of hot/cold bins and of the trend.
    fdr : bool
        Benjamini-Hochberg over all bins of the cube before calling bins hot or cold.

    Returns
    -------
    GeoDataFrame
        ``areas`` with ``pattern`` (category), ``n_hot``, ``n_cold``, ``final_z``, ``trend_tau``,
        ``trend_p`` and ``n`` (incidents in the cube).
    """
    cube = space_time_cube(
        incidents, areas, freq=freq, time_col=time_col, start=start, end=end, metric_crs=metric_crs
    )
    return classify_cube(
        cube.counts, areas, weights=weights, time_lag=time_lag, alpha=alpha, fdr=fdr
    )


def classify_cube(
    counts: npt.ArrayLike,
    areas: gpd.GeoDataFrame,
    *,
    weights: lpw.W | Literal["queen", "rook"] = "queen",
    time_lag: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
) -> gpd.GeoDataFrame:
    """Emerging hot spot categories of a ready (T, n) cube (see :func:`emerging_hotspots`)."""
    values = np.asarray(counts, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(areas):
        raise ValueError(f"cube shape {values.shape} does not match {len(areas)} areas")
    w = weights_for(areas, weights)
    adjacency = sp.csr_matrix(w.sparse)
    z = space_time_gi(values, adjacency, time_lag)
    p = 2 * stats.norm.sf(np.abs(z))
    if fdr:
        p = stats.false_discovery_control(p.ravel(), method="bh").reshape(p.shape)
    hot, cold = (p < alpha) & (z > 0), (p < alpha) & (z < 0)
    tau, trend_p = mann_kendall(z)
    out = areas.copy()
    out["pattern"] = [
        classify(hot[:, i], cold[:, i], tau[i], trend_p[i], alpha) for i in range(values.shape[1])
    ]
    out["n_hot"] = hot.sum(axis=0)
    out["n_cold"] = cold.sum(axis=0)
    out["final_z"] = z[-1]
    out["trend_tau"] = tau
    out["trend_p"] = trend_p
    out["n"] = values.sum(axis=0)
    return out


__all__ = ["PATTERNS", "Cube", "classify", "classify_cube", "emerging_hotspots", "space_time_cube"]
