"""KPIs over a dask DataFrame (issue #10): per-partition sums reduced on a LocalCluster of
several workers give the in-memory KPIs, counts exactly and means to 1e-12."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from incidents.frame import prepare
from incidents.kpi import KPIS, Area, KpiInputError, Window, compare, compute, compute_by

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def year(demo_town: dict) -> tuple[pd.DataFrame, dict]:
    from layers.demo.incidents import make_incidents

    layer, meta = make_incidents(demo_town, seed=7, n=3000)
    return prepare(pd.DataFrame(layer.drop(columns="geometry"))), meta


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() == KPIS.keys()
    for name in KPIS:
        x, y = a[name], b[name]
        assert x.denominator == y.denominator, name
        if KPIS[name].kind == "mean":
            assert x.numerator == pytest.approx(y.numerator, rel=1e-12, abs=1e-12), name
        else:
            assert x.numerator == y.numerator, name
        if x.value is None or y.value is None:
            assert x.value is y.value is None, name
        else:
            assert x.value == pytest.approx(y.value, rel=1e-12, abs=1e-12), name


def test_compute_equals_in_memory(client: Any, year: tuple[pd.DataFrame, dict]) -> None:
    frame, meta = year
    lazy = dd.from_pandas(frame, npartitions=6)
    as_of = pd.Timestamp(meta["end"])
    assert len(client.scheduler_info()["workers"]) == 3
    for window in (
        Window.between(meta["start"], meta["end"]),
        Window.month(as_of.year, as_of.month),
        Window.week(as_of.tz_convert("Asia/Shanghai").date()),
    ):
        eager = compute(frame, window, as_of=as_of)
        _same(compute(lazy, window, as_of=as_of), eager)
    whole = compute(frame, Window.between(meta["start"], meta["end"]), as_of=as_of)
    assert whole["return"].denominator == len(frame)
    assert (whole["handling_hours"].denominator or 0) > 0


def test_area_and_comparisons(client: Any, year: tuple[pd.DataFrame, dict]) -> None:
    frame, meta = year
    lazy = dd.from_pandas(frame, npartitions=4)
    as_of = pd.Timestamp(meta["end"])
    village = str(frame["village_code"].dropna().value_counts().index[0])
    area = Area.of("village", village)
    window = Window.month(as_of.year, as_of.month)
    _same(
        compute(lazy, window, as_of=as_of, area=area),
        compute(frame, window, as_of=as_of, area=area),
    )
    eager, spread = compare(frame, window, as_of=as_of), compare(lazy, window, as_of=as_of)
    for which in ("current", "previous", "year_earlier"):
        _same(
            {k: getattr(spread[k], which) for k in KPIS},
            {k: getattr(eager[k], which) for k in KPIS},
        )


@pytest.mark.parametrize("level", ["village", "grid", "team"])
def test_compute_by_equals_in_memory(
    client: Any, year: tuple[pd.DataFrame, dict], level: str
) -> None:
    frame, meta = year
    lazy = dd.from_pandas(frame, npartitions=5)
    window = Window.between(meta["start"], meta["end"])
    as_of = pd.Timestamp(meta["end"])
    eager = compute_by(frame, window, level, as_of=as_of)
    spread = compute_by(lazy, window, level, as_of=as_of)
    assert list(spread.columns) == list(eager.columns)
    assert [str(i) for i in spread.index] == [str(i) for i in eager.index]
    assert spread.index.name == eager.index.name == level
    for col in eager.columns:
        a, b = spread[col].to_numpy(dtype=float), eager[col].to_numpy(dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=col)
        if col.endswith("_den"):
            assert (np.nan_to_num(a) == np.nan_to_num(b)).all(), col


def test_missing_columns_still_refused(client: Any) -> None:
    lazy = dd.from_pandas(pd.DataFrame({"id": ["E1"]}), npartitions=1)
    with pytest.raises(KpiInputError):
        compute(lazy, Window.day("2026-03-01"), as_of=pd.Timestamp("2026-03-02", tz="UTC"))
