"""Judging a hotspot method by numbers: PAI and PEI* of its top-k% area on later incidents.

- PAI (Chainey et al. 2008), the predictive accuracy index: ``(n / N) / (a / A)``, the share of
  the test incidents that fall in the flagged area over the share of the study area flagged.
- PEI* (Hunt 2016), the predictive efficiency index: ``n / n*``, where ``n*`` is the most test
  incidents any selection of the same area could have captured. With equal-size areas (raster
  cells) ``n*`` is the sum of the top cells by actual count; with unequal areas it is the greedy
  fill by actual density, capped at the flagged area (a close upper-bound heuristic).

:func:`fit_and_score` fits a scorer on the incidents before a date and scores the areas on the
incidents after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.hotspots._frames import METRIC_EPSG, require_crs, times_of, to_metric_frame
from geo.hotspots.aggregate import count_points
from geo.hotspots.gistar import gi_star
from geo.hotspots.kde import kde

FloatArray = npt.NDArray[np.float64]
Scorer = Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], npt.ArrayLike]


def _take_area(order: npt.NDArray[np.int64], area: FloatArray, budget: float) -> npt.NDArray:
    """Indices in ``order`` until their cumulative area reaches ``budget`` (at least one)."""
    cum = np.cumsum(area[order])
    m = int(np.searchsorted(cum, budget * (1 + 1e-12), side="right"))
    return order[: max(m, 1)]


def pai_pei(
    scores: npt.ArrayLike, actual: npt.ArrayLike, area: npt.ArrayLike, k_pct: float
) -> dict[str, float]:
    """PAI and PEI* of flagging the highest-scoring areas up to ``k_pct`` % of the total area.

    Parameters
    ----------
    scores : array
        Forecast per area (higher = hotter); ties are broken by position.
    actual : array
        Test-period incidents per area.
    area : array
        Area of each area (any unit).
    k_pct : float
        Percentage of the total area to flag; areas are added whole while the total stays within
        it (at least the top one).

    Returns
    -------
    dict
        ``k_pct``, ``area_share`` (a / A actually flagged), ``n`` (hits), ``N``, ``hit_rate``
        (n / N), ``pai``, ``n_star`` and ``pei_star``.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    a = np.asarray(area, dtype=np.float64)
    total_a, total_n = a.sum(), y.sum()
    budget = k_pct / 100 * total_a
    flagged = _take_area(np.argsort(-np.nan_to_num(s, nan=-np.inf), kind="stable"), a, budget)
    a_flag = a[flagged].sum()
    hits = y[flagged].sum()
    best = _take_area(np.argsort(-(y / a), kind="stable"), a, a_flag)
    n_star = y[best].sum()
    hit_rate = hits / total_n if total_n else np.nan
    return {
        "k_pct": float(k_pct),
        "area_share": float(a_flag / total_a),
        "n": float(hits),
        "N": float(total_n),
        "hit_rate": float(hit_rate),
        "pai": float(hit_rate / (a_flag / total_a)) if total_n else float("nan"),
        "n_star": float(n_star),
        "pei_star": float(hits / n_star) if n_star else float("nan"),
    }


def counts_scorer(train: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> FloatArray:
    """Last-period counts: incidents per unit area in the training period."""
    n = count_points(train, areas)["n"].to_numpy(dtype=np.float64)
    return n / to_metric_frame(areas, METRIC_EPSG, "areas").area.to_numpy()


def kde_scorer(bandwidth_m: float = 200.0) -> Scorer:
    """Mean KDE intensity of the training incidents over each area (sampled on a 4×4 lattice)."""

    def score(train: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> FloatArray:
        surface = kde(train, bandwidth_m)
        polys = to_metric_frame(areas, METRIC_EPSG, "areas").geometry
        out = np.empty(len(polys))
        for k, geom in enumerate(polys):
            x0, y0, x1, y1 = geom.bounds
            gx, gy = np.meshgrid(np.linspace(x0, x1, 6)[1:-1], np.linspace(y0, y1, 6)[1:-1])
            out[k] = surface.sample(gx.ravel(), gy.ravel()).mean()
        return out

    return score


def gi_scorer(train: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> FloatArray:
    """Gi* z-score of the training counts (queen contiguity, analytic)."""
    counted = count_points(train, areas)
    return gi_star(counted, "n", permutations=0)["gi_z"].to_numpy(dtype=np.float64)


def fit_and_score(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    split: Any,
    scorers: dict[str, Scorer],
    *,
    k_pcts: Sequence[float] = (1.0, 5.0, 10.0),
    time_col: str = "received_at",
    metric_crs: Any = METRIC_EPSG,
) -> pd.DataFrame:
    """Fit each scorer on incidents before ``split`` and score the areas on those from ``split``.

    Parameters
    ----------
    split : timestamp-like
        First instant of the test period (aware, or naive in Asia/Shanghai).
    scorers : dict
        Name to ``scorer(train_incidents, areas) -> score per area``; for example
        ``{"counts": counts_scorer, "kde": kde_scorer(200), "gi": gi_scorer}``.

    Returns
    -------
    DataFrame
        One row per (method, k_pct) with the fields of :func:`pai_pei`.
    """
    require_crs(incidents, "incidents")
    cut = pd.Timestamp(split)
    cut = cut.tz_localize("Asia/Shanghai") if cut.tzinfo is None else cut
    t = times_of(incidents, time_col)
    before = (t < cut).to_numpy()
    train, test = incidents[before], incidents[~before]
    actual = count_points(test, areas, metric_crs=metric_crs)["n"].to_numpy(dtype=np.float64)
    area = to_metric_frame(areas, metric_crs, "areas").area.to_numpy()
    rows = []
    for name, scorer in scorers.items():
        s = np.asarray(scorer(train, areas), dtype=np.float64)
        rows += [{"method": name, **pai_pei(s, actual, area, k)} for k in k_pcts]
    return pd.DataFrame(rows)


__all__ = ["counts_scorer", "fit_and_score", "gi_scorer", "kde_scorer", "pai_pei"]
