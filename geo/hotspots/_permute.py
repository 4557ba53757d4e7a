"""Private: conditional randomisation of local Getis-Ord Gi*, vectorised with numpy.

Same scheme as esda's ``crand`` (each cell keeps its own value, its neighbour slots are filled
with values drawn without replacement from the other cells, one set of draws shared by all
cells), but run as whole-array gathers in chunks of cells instead of a per-cell loop, so 999
permutations over 10,000 cells take about a second without numba.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PermutationResult:
    """Folded pseudo p-values (as esda's ``p_sim``) and moments of the reference distribution."""

    p_sim: FloatArray
    mean: FloatArray
    std: FloatArray


def _padded(w: sp.csr_matrix) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Diagonal, and off-diagonal weights padded to (n, k_max) (zeros beyond each row's count)."""
    w = sp.csr_matrix(w)
    n = w.shape[0]
    diag = np.asarray(w.diagonal(), dtype=np.float64)
    off = w - sp.diags(diag)
    off = sp.csr_matrix(off)
    off.eliminate_zeros()
    counts = np.diff(off.indptr).astype(np.int64)
    k = int(counts.max(initial=0))
    pad = np.zeros((n, max(k, 1)), dtype=np.float64)
    rows = np.repeat(np.arange(n), counts)
    slots = np.arange(off.nnz) - np.repeat(off.indptr[:-1], counts)
    pad[rows, slots] = off.data
    return diag, counts, pad


def gi_star_permutations(
    y: FloatArray,
    w: sp.csr_matrix,
    observed: FloatArray,
    permutations: int,
    seed: int | None = None,
    chunk: int = 256,
) -> PermutationResult:
    """Conditional-randomisation inference for Gi* = (W y)_i / sum(y), W including the diagonal.

    Parameters
    ----------
    y : ndarray
        Values per cell.
    w : sparse matrix
        Weights as used for ``observed`` (self-weight on the diagonal, transformed already).
    observed : ndarray
        The observed statistic per cell.
    permutations : int
        Number of random draws.
    seed : int, optional
        Seed of the generator.
    chunk : int
        Cells handled per vectorised block (memory ~ chunk × permutations × k_max × 8 bytes).
    """
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    diag, _, pad = _padded(w)
    k = pad.shape[1]
    if n - 1 < k:
        raise ValueError("a cell has more neighbours than there are other cells")
    rng = np.random.default_rng(seed)
    # One draw of k distinct "other" positions per permutation, shared by all cells.
    draws = np.stack([rng.choice(n - 1, size=k, replace=False) for _ in range(permutations)])
    total = y.sum()
    larger = np.empty(n, dtype=np.int64)
    mean = np.empty(n, dtype=np.float64)
    std = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        i = np.arange(start, min(start + chunk, n))
        idx = draws[None, :, :] + (draws[None, :, :] >= i[:, None, None])  # skip the cell itself
        sims = np.einsum("cpk,ck->cp", y[idx], pad[i]) + (diag[i] * y[i])[:, None]
        sims /= total
        larger[i] = (sims >= observed[i, None]).sum(axis=1)
        mean[i] = sims.mean(axis=1)
        std[i] = sims.std(axis=1)
    folded = np.where(permutations - larger < larger, permutations - larger, larger)
    return PermutationResult((folded + 1.0) / (permutations + 1.0), mean, std)
