"""Hotspot analysis on a dask-geopandas frame (issue #10): per-cell counts, rates, Gi* on the
reduced counts and the KDE give the in-memory answers on a LocalCluster of several workers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.hotspots import count_points, gi_star, kde, migrant_rates

dask_geopandas = pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Three single-threaded workers in this process (2 cores here; processes=False)."""
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def points(demo: dict[str, Any]) -> gpd.GeoDataFrame:
    return demo["incidents"]


@pytest.fixture(scope="module")
def lazy(points: gpd.GeoDataFrame) -> Any:
    return dask_geopandas.from_geopandas(points, npartitions=7)


def test_cell_counts_equal_exactly(client: Any, demo: dict, points: Any, lazy: Any) -> None:
    cells = demo["grid_cells"]
    eager = count_points(points, cells, by="category")
    spread = count_points(lazy, cells, by="category")
    assert client.scheduler_info()["workers"] and len(client.scheduler_info()["workers"]) == 3
    assert list(spread.columns) == list(eager.columns)
    count_cols = [c for c in eager.columns if c == "n" or c.startswith("n_")]
    assert int(eager["n"].sum()) > 0
    pd.testing.assert_frame_equal(
        pd.DataFrame(spread[count_cols]), pd.DataFrame(eager[count_cols]), check_exact=True
    )


def test_migrant_rates_equal(client: Any, demo: dict, points: Any, lazy: Any) -> None:
    cells = demo["grid_cells"]
    eager = migrant_rates(points, cells)
    spread = migrant_rates(lazy, cells)
    assert list(spread.columns) == list(eager.columns)
    for col in ("n", "n_migrant", "n_registered"):
        assert (spread[col].to_numpy() == eager[col].to_numpy()).all(), col
    for col in ("rate_resident_eb", "rate_migrant_eb", "rr", "rr_lo", "rr_hi"):
        np.testing.assert_allclose(spread[col], eager[col], rtol=1e-12, atol=0, equal_nan=True)


def test_gi_star_on_reduced_counts(client: Any, demo: dict, points: Any, lazy: Any) -> None:
    cells = demo["grid_cells"]
    eager = gi_star(count_points(points, cells), "n", permutations=99, seed=3)
    spread = gi_star(count_points(lazy, cells), "n", permutations=99, seed=3)
    for col in ("gi_z", "gi_p", "gi_q", "gi_p_sim", "gi_z_sim"):
        np.testing.assert_allclose(spread[col], eager[col], rtol=1e-12, atol=1e-12)
    assert (spread["gi_bin"].to_numpy() == eager["gi_bin"].to_numpy()).all()
    assert (eager["gi_bin"] >= 2).any()  # the planted spots are found


@pytest.mark.parametrize("weight", [None, "w"])
def test_kde_equal(client: Any, points: Any, weight: str | None) -> None:
    frame = points.assign(w=np.arange(len(points)) % 3 + 0.5)
    eager = kde(frame, 150.0, cell_m=50.0, weight=weight)
    spread = kde(dask_geopandas.from_geopandas(frame, npartitions=5), 150.0, cell_m=50.0,
                 weight=weight)  # fmt: skip
    assert spread.shape == eager.shape
    assert (spread.x0, spread.y0, spread.cell_m) == (eager.x0, eager.y0, eager.cell_m)
    assert spread.crs == eager.crs
    assert abs(spread.total_weight - eager.total_weight) <= 1e-12 * eager.total_weight
    scale = float(eager.values.max())
    assert np.abs(spread.values - eager.values).max() <= 1e-12 * scale


def test_kde_with_bounds_and_an_empty_partition(client: Any, points: Any) -> None:
    some = points.iloc[:500]
    lazy = dask_geopandas.from_geopandas(some, npartitions=3)
    cut = lazy.divisions[1]
    lazy = lazy.map_partitions(lambda p: p[p.index >= cut], meta=lazy._meta)
    assert len(lazy.partitions[0].compute()) == 0  # the first partition is now empty
    kept = some[some.index >= cut]
    bounds = tuple(kept.to_crs(4549).total_bounds)
    eager = kde(kept, 200.0, shape=(40, 50), bounds=bounds)  # type: ignore[arg-type]
    spread = kde(lazy, 200.0, shape=(40, 50), bounds=bounds)  # type: ignore[arg-type]
    assert spread.shape == eager.shape == (40, 50)
    np.testing.assert_allclose(spread.values, eager.values, rtol=0, atol=1e-12 * eager.values.max())


def test_in_memory_frames_never_import_dask() -> None:
    import subprocess
    import sys

    code = (
        "import sys, geopandas as gpd; from geo.hotspots import count_points, kde;"
        "from incidents import kpi;"
        "pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([120.0], [29.0]), crs=4326);"
        "kde(pts, 100.0); print('dask' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
