"""The KPIs of :mod:`incidents.kpi` over a dask DataFrame (for example incidents read from the
partitioned GeoParquet export with ``dask_geopandas.read_parquet``).

Every KPI is a numerator and a denominator summed over rows, so each partition computes its sums
with the in-memory definitions (:func:`incidents.kpi._parts`), dask adds the per-partition sums
(a tree reduction), and the values are finished in memory on that small result: the same answers
as the in-memory run, counts exactly. Pure: no I/O here; dask is imported by the caller's frame,
never by this module.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from incidents.sla import SlaPolicy


def is_dask(frame: Any) -> bool:
    """Whether ``frame`` is a dask collection (checked without importing dask)."""
    return hasattr(frame, "npartitions") and hasattr(frame, "map_partitions")


def _sums(part: pd.DataFrame, window: Any, as_of: pd.Timestamp, policy: SlaPolicy) -> pd.DataFrame:
    """One row: every KPI's numerator (float) and denominator (int) summed over ``part``."""
    from incidents.kpi import KPIS, _parts

    row: dict[str, list[float | int]] = {}
    parts = _parts(part, window, as_of, policy) if len(part) else {}
    for name in KPIS:
        num, den = parts.get(name, (np.zeros(0), np.zeros(0, dtype=bool)))
        row[f"{name}_num"] = [float(np.asarray(num, dtype=float).sum())]
        row[f"{name}_den"] = [int(np.asarray(den, dtype=np.int64).sum())]
    return pd.DataFrame(row)


def _sums_by(
    part: pd.DataFrame, window: Any, as_of: pd.Timestamp, policy: SlaPolicy, key: str
) -> pd.DataFrame:
    """Per area code: every KPI's numerator and denominator summed over ``part``."""
    from incidents.kpi import KPIS, _parts

    cols: dict[str, pd.Series] = {}
    parts = _parts(part, window, as_of, policy) if len(part) else {}
    for name in KPIS:
        num, den = parts.get(name, (np.zeros(0), np.zeros(0, dtype=bool)))
        cols[f"{name}_num"] = pd.Series(np.asarray(num, dtype=float), index=part.index)
        cols[f"{name}_den"] = pd.Series(np.asarray(den, dtype=np.int64), index=part.index)
    table = pd.DataFrame(cols)
    table[key] = part[key].astype(object).to_numpy()
    return table.dropna(subset=[key]).groupby(key, sort=False).sum().reset_index()


def kpi_sums(
    frame: Any, window: Any, as_of: pd.Timestamp, policy: SlaPolicy
) -> dict[str, tuple[float, int]]:
    """``{kpi: (numerator, denominator)}`` over a dask frame: per-partition sums, reduced."""
    from incidents.kpi import KPIS

    meta = _sums(frame._meta, window, as_of, policy)
    work = partial(_sums, window=window, as_of=as_of, policy=policy)
    total = frame.map_partitions(work, meta=meta).sum().compute()
    return {n: (float(total[f"{n}_num"]), int(total[f"{n}_den"])) for n in KPIS}


def kpi_sums_by(
    frame: Any, window: Any, as_of: pd.Timestamp, policy: SlaPolicy, key: str
) -> pd.DataFrame:
    """Numerator and denominator columns per code of ``key`` over a dask frame, sorted by
    code (as an in-memory ``groupby`` gives them)."""
    meta = _sums_by(frame._meta, window, as_of, policy, key)
    work = partial(_sums_by, window=window, as_of=as_of, policy=policy, key=key)
    out = frame.map_partitions(work, meta=meta).groupby(key).sum(split_out=1).compute()
    return pd.DataFrame(out).sort_index()


__all__ = ["is_dask", "kpi_sums", "kpi_sums_by"]
