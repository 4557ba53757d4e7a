"""Getis-Ord Gi* hot and cold spots on grid cells (counts or rates).

The statistic, its analytic moments and z-scores are esda's :class:`esda.G_Local` with
``star=True`` (so they equal esda's exactly); permutation inference is a vectorised conditional
randomisation (:mod:`geo.hotspots._permute`); multiple testing is Benjamini-Hochberg
(:func:`scipy.stats.false_discovery_control`).

The p-value trap: with ``P`` permutations the smallest pseudo p-value is ``1 / (P + 1)``, so with
999 permutations no cell gets below 0.001, and Benjamini-Hochberg over ``n`` cells needs the
``k``-th smallest p-value under ``k q / n``: over 190 cells at q = 0.05 a hotspot spanning fewer
than four cells can never be flagged, however extreme. The default here is therefore the analytic
(normal) p-value of the z-score, which is not floored; ``p_value="permutation_z"`` (normal p of
the z-score against the permutation mean and spread) is the permutation-based alternative that
is not floored either, and ``p_value="permutation"`` gives esda's folded pseudo p for comparison.
Conditional permutation keeps each cell's own value fixed and so tests its neighbours only: a
spike confined to one cell is found by the analytic p-value, not by either permutation one.
"""

from __future__ import annotations

import warnings
from typing import Literal

import esda
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from libpysal import weights as lpw
from scipy import stats

from geo.hotspots._frames import require_geoframe
from geo.hotspots._permute import gi_star_permutations

FloatArray = npt.NDArray[np.float64]
PValue = Literal["analytic", "permutation", "permutation_z"]
#: Confidence levels of the hot/cold classes, highest first: (level, bin).
LEVELS: tuple[tuple[float, int], ...] = ((0.99, 3), (0.95, 2), (0.90, 1))


def contiguity(cells: gpd.GeoDataFrame, kind: Literal["queen", "rook"] = "queen") -> lpw.W:
    """Binary contiguity weights of polygons (libpysal), ids 0..n-1 in row order.

    Cells without a neighbour (islands) keep only themselves in Gi*. Contiguity is topological,
    so any CRS (or none, as in some libpysal examples) gives the same weights.
    """
    require_geoframe(cells, "cells")
    frame = cells.reset_index(drop=True)
    builder = lpw.Queen if kind == "queen" else lpw.Rook
    return builder.from_dataframe(frame, use_index=False, silence_warnings=True)


def weights_for(cells: gpd.GeoDataFrame, weights: lpw.W | str) -> lpw.W:
    """``weights`` itself, or the named contiguity of ``cells``."""
    if isinstance(weights, str):
        if weights not in ("queen", "rook"):
            raise ValueError(f"unknown weights {weights!r}: 'queen', 'rook' or a libpysal W")
        return contiguity(cells, "rook" if weights == "rook" else "queen")
    return weights


def bin_of(z: npt.ArrayLike, p: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Hot/cold bin -3..3 (as ArcGIS's Gi_Bin): sign of z times the confidence level reached."""
    z, p = np.asarray(z, dtype=np.float64), np.asarray(p, dtype=np.float64)
    out = np.zeros(z.shape, dtype=np.int8)
    for level, b in LEVELS[::-1]:
        out = np.where(p <= 1 - level, np.int8(b), out)
    return (out * np.sign(np.nan_to_num(z))).astype(np.int8)


def class_of(bins: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Readable class per bin: ``hot 99%`` … ``not significant`` … ``cold 99%``."""
    names = {0: "not significant"}
    for level, b in LEVELS:
        names[b] = f"hot {level:.0%}"
        names[-b] = f"cold {level:.0%}"
    return np.array([names[int(b)] for b in np.asarray(bins)], dtype=object)


def gi_star_arrays(
    y: npt.ArrayLike,
    w: lpw.W,
    *,
    transform: Literal["B", "R"] = "B",
    permutations: int = 999,
    seed: int | None = None,
) -> dict[str, FloatArray]:
    """Gi* of values ``y`` with libpysal weights ``w`` (self-weight added as esda does).

    Returns
    -------
    dict
        ``G``, ``z`` and ``p_analytic`` (two-sided normal); with permutations also ``p_sim``
        (esda's folded pseudo p, one-sided towards the observed side), ``z_sim`` and
        ``p_z_sim`` (two-sided normal p of ``z_sim``).
    """
    yv = np.asarray(y, dtype=np.float64)
    if np.isnan(yv).any():
        raise ValueError("values contain NaN")
    with warnings.catch_warnings():
        # With transform="R" esda warns that it takes the self-weight as the row's largest
        # weight (its documented default for Gi* on weights without a diagonal); so do we.
        warnings.filterwarnings("ignore", message="Gi\\* requested", category=UserWarning)
        lg = esda.G_Local(yv, w, transform=transform, permutations=0, star=True)
    z = np.asarray(lg.Zs, dtype=np.float64)
    out: dict[str, FloatArray] = {
        "G": np.asarray(lg.Gs, dtype=np.float64),
        "z": z,
        "p_analytic": 2 * stats.norm.sf(np.abs(z)),
    }
    if permutations:
        res = gi_star_permutations(
            yv, sp.csr_matrix(lg.w.sparse), out["G"], permutations, seed=seed
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            z_sim = (out["G"] - res.mean) / res.std
        out |= {"p_sim": res.p_sim, "z_sim": z_sim, "p_z_sim": 2 * stats.norm.sf(np.abs(z_sim))}
    return out


def gi_star(
    cells: gpd.GeoDataFrame,
    column: str,
    *,
    weights: lpw.W | Literal["queen", "rook"] = "queen",
    transform: Literal["B", "R"] = "B",
    permutations: int = 999,
    p_value: PValue = "analytic",
    fdr: bool = True,
    seed: int | None = 0,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of a value per cell.

    Parameters
    ----------
    cells : GeoDataFrame
        Polygons with a numeric ``column`` (a count, or a rate from :mod:`geo.hotspots.rates`).
        Contiguity weights do not depend on the CRS, so none is required here.
    column : str
        The value analysed.
    weights : libpysal W or {"queen", "rook"}
        Spatial weights (ids 0..n-1 in row order) or the contiguity to build.
    transform : {"B", "R"}
        Binary or row-standardised weights (esda's ``transform``).
    permutations : int
        Conditional permutations (0 for analytic inference only).
    p_value : {"analytic", "permutation", "permutation_z"}
        Which p-value decides the classes (see the module docstring for why the default is
        analytic rather than the pseudo p floored at ``1 / (permutations + 1)``).
    fdr : bool
        Apply Benjamini-Hochberg to the chosen p-values before classing.
    seed : int, optional
        Seed of the permutations.

    Returns
    -------
    GeoDataFrame
        ``cells`` with ``gi_z``, ``gi_p_analytic``, (``gi_p_sim``, ``gi_z_sim``,
        ``gi_p_z_sim`` with permutations), ``gi_p`` (the chosen one), ``gi_q`` (BH-adjusted when
        ``fdr``), ``gi_bin`` (-3..3) and ``gi_class``.
    """
    require_geoframe(cells, "cells")
    if column not in cells:
        raise KeyError(column)
    if p_value != "analytic" and not permutations:
        raise ValueError(f"p_value={p_value!r} needs permutations")
    w = weights_for(cells, weights)
    if w.n != len(cells):
        raise ValueError(f"weights have {w.n} ids for {len(cells)} cells")
    y = pd.to_numeric(cells[column], errors="raise").to_numpy(dtype=np.float64)
    res = gi_star_arrays(y, w, transform=transform, permutations=permutations, seed=seed)
    key = {"analytic": "p_analytic", "permutation": "p_sim", "permutation_z": "p_z_sim"}[p_value]
    p = np.nan_to_num(res[key], nan=1.0)
    q = stats.false_discovery_control(p, method="bh") if fdr and len(p) else p
    z = res["z_sim"] if p_value == "permutation_z" else res["z"]
    out = cells.copy()
    out["gi_z"] = res["z"]
    out["gi_p_analytic"] = res["p_analytic"]
    for name in ("p_sim", "z_sim", "p_z_sim"):
        if name in res:
            out[f"gi_{name}"] = res[name]
    out["gi_p"] = p
    out["gi_q"] = q
    out["gi_bin"] = bin_of(z, q)
    out["gi_class"] = class_of(out["gi_bin"].to_numpy())
    return out


def hot_cells(result: gpd.GeoDataFrame, level: float = 0.95) -> gpd.GeoDataFrame:
    """Rows of a :func:`gi_star` result that are hot at ``level`` confidence or more."""
    need = next(b for lv, b in LEVELS if abs(lv - level) < 1e-9)
    return result[result["gi_bin"] >= need]


__all__ = [
    "LEVELS",
    "bin_of",
    "class_of",
    "contiguity",
    "gi_star",
    "gi_star_arrays",
    "hot_cells",
    "weights_for",
]
