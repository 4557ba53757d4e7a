"""Rates, not counts: incidents per 1,000 residents and per 1,000 migrants, smoothed.

Small populations make raw rates jumpy (3 incidents among 40 people is 75 per 1,000), so each
rate also comes Empirical-Bayes smoothed towards the town's rate (Marshall's global EB, esda's
:class:`esda.smoothing.Empirical_Bayes`). Migrants (流动人口) and registered residents (户籍人口)
are compared per area by a risk ratio with a Katz log confidence interval.
"""

from __future__ import annotations

from typing import Any

import esda
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from geo.hotspots._dask import is_dask
from geo.hotspots._frames import METRIC_EPSG, require_crs
from geo.hotspots.aggregate import count_points

FloatArray = npt.NDArray[np.float64]


def eb_rates(events: npt.ArrayLike, population: npt.ArrayLike) -> FloatArray:
    """Empirical Bayes (global, Marshall 1991) smoothed rates per person.

    Areas with no population get NaN and take no part in the prior. When the rates vary less than
    Poisson noise alone would make them (the method-of-moments prior variance is not positive),
    every rate shrinks to the overall rate: esda would give negative shrinkage weights there, so
    that case is handled before calling it.
    """
    e = np.asarray(events, dtype=np.float64)
    b = np.asarray(population, dtype=np.float64)
    out = np.full(e.shape, np.nan)
    ok = b > 0
    if not ok.any():
        return out
    e_ok, b_ok = e[ok], b[ok]
    mean = e_ok.sum() / b_ok.sum()
    # The prior variance esda computes; only its sign is needed here.
    prior_var = (b_ok * (e_ok / b_ok - mean) ** 2).sum() / b_ok.sum() - mean / b_ok.mean()
    if prior_var <= 0 or mean == 0:
        out[ok] = mean
        return out
    out[ok] = np.asarray(esda.smoothing.Empirical_Bayes(e_ok, b_ok).r, dtype=np.float64).ravel()
    return out


def risk_ratio(
    a: npt.ArrayLike,
    n_a: npt.ArrayLike,
    b: npt.ArrayLike,
    n_b: npt.ArrayLike,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Risk ratio ``(a / n_a) / (b / n_b)`` with a Katz log-scale confidence interval.

    ``log RR ± z * sqrt(1/a - 1/n_a + 1/b - 1/n_b)``. Where ``a`` or ``b`` is zero, 0.5 is added to
    both counts of that area (Haldane-Anscombe) so that the ratio and interval stay finite; the
    column ``corrected`` says where. Areas with a zero population get NaN.

    Returns
    -------
    DataFrame
        ``rr``, ``rr_lo``, ``rr_hi``, ``corrected``.
    """
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.asarray(n_a, dtype=np.float64), np.asarray(n_b, dtype=np.float64)
    fix = (a_ == 0) | (b_ == 0)
    a_, b_ = np.where(fix, a_ + 0.5, a_), np.where(fix, b_ + 0.5, b_)
    valid = (na > 0) & (nb > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (a_ / na) / (b_ / nb)
        se = np.sqrt(1 / a_ - 1 / na + 1 / b_ - 1 / nb)
    z = stats.norm.ppf(0.5 + confidence / 2)
    rr = np.where(valid, rr, np.nan)
    return pd.DataFrame(
        {
            "rr": rr,
            "rr_lo": np.where(valid, rr * np.exp(-z * se), np.nan),
            "rr_hi": np.where(valid, rr * np.exp(z * se), np.nan),
            "corrected": fix & valid,
        }
    )


def incident_rates(
    areas: gpd.GeoDataFrame, count: str, population: str, *, per: float = 1000.0, name: str = "rate"
) -> gpd.GeoDataFrame:
    """``areas`` with ``{name}`` (raw) and ``{name}_eb`` (EB-smoothed) rates per ``per`` people."""
    require_crs(areas, "areas")
    e = pd.to_numeric(areas[count]).to_numpy(dtype=np.float64)
    b = pd.to_numeric(areas[population]).to_numpy(dtype=np.float64)
    out = areas.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out[name] = np.where(b > 0, e / b * per, np.nan)
    out[f"{name}_eb"] = eb_rates(e, b) * per
    return out


def migrant_rates(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    migrant: str = "involves_migrant",
    migrant_pop: str = "migrant_pop",
    registered_pop: str = "registered_pop",
    per: float = 1000.0,
    confidence: float = 0.95,
    metric_crs: Any = METRIC_EPSG,
) -> gpd.GeoDataFrame:
    """Incident rates by residency per area, and the migrant vs registered risk ratio.

    Parameters
    ----------
    incidents : GeoDataFrame
        Points with a boolean ``migrant`` column (涉流动人口).
    areas : GeoDataFrame
        Polygons with migrant and registered population columns (the demo's grid cells carry
        ``migrant_pop`` and ``registered_pop``).
    per : float
        Rates per this many people.

    Returns
    -------
    GeoDataFrame
        ``areas`` with counts ``n``, ``n_migrant``, ``n_registered``; raw and ``_eb`` rates
        ``rate_resident`` (all incidents per ``per`` residents of both kinds), ``rate_migrant``
        (migrant incidents per ``per`` migrants), ``rate_registered`` (the others per ``per``
        registered residents); and ``rr``, ``rr_lo``, ``rr_hi``, ``rr_corrected`` (migrant over
        registered rate, raw counts).
    """
    if is_dask(incidents):
        from geo.hotspots._dask import migrant_counts

        n, n_migrant = migrant_counts(incidents, areas, migrant, metric_crs)
        out = areas.assign(n=n, n_migrant=n_migrant)
    else:
        require_crs(incidents, "incidents")
        flag = incidents[migrant].fillna(False).astype(bool).to_numpy()
        counted = count_points(incidents, areas, metric_crs=metric_crs)
        mig = count_points(incidents[flag], areas, column="n_migrant", metric_crs=metric_crs)
        out = counted.assign(n_migrant=mig["n_migrant"].to_numpy())
    out["n_registered"] = out["n"] - out["n_migrant"]
    pop_m = pd.to_numeric(out[migrant_pop]).to_numpy(dtype=np.float64)
    pop_r = pd.to_numeric(out[registered_pop]).to_numpy(dtype=np.float64)
    out["_pop_all"] = pop_m + pop_r
    out = incident_rates(out, "n", "_pop_all", per=per, name="rate_resident")
    out = incident_rates(out, "n_migrant", migrant_pop, per=per, name="rate_migrant")
    out = incident_rates(out, "n_registered", registered_pop, per=per, name="rate_registered")
    rr = risk_ratio(out["n_migrant"], pop_m, out["n_registered"], pop_r, confidence)
    for col in ("rr", "rr_lo", "rr_hi"):
        out[col] = rr[col].to_numpy()
    out["rr_corrected"] = rr["corrected"].to_numpy()
    return out.drop(columns="_pop_all")


__all__ = ["eb_rates", "incident_rates", "migrant_rates", "risk_ratio"]
