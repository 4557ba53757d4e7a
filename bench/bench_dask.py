"""The analysis path past one machine: dask-geopandas over partitioned GeoParquet vs in memory.

Workload: 1,000,000 synthetic incidents in the demo town (its 190 grid cells from
``layers.demo.town.build_town``; points drawn with numpy inside the cells' bounds, 70% around
twelve planted centres, 30% uniform; categories, states and lifecycle times drawn with numpy; a
year of ``received_at``), written once with :func:`app.exports.write_geoparquet` as hive
partitions ``month=…/town_code=…`` (12 files). The analysis, the same function calls both ways:
per-cell counts (:func:`geo.hotspots.count_points`), Gi* on those counts (analytic p + 99
permutations), a KDE (150 m bandwidth, 50 m cells), and the KPIs (``prepare`` then
:func:`incidents.kpi.compute` for the year and :func:`incidents.kpi.compute_by` per village).

Ours: ``dask_geopandas.read_parquet`` on a ``distributed.LocalCluster`` of 2 worker processes
× 1 thread (started before timing), persisted once in the workers' memory; counts, KDE binning
and KPI sums per partition, reduced, finished in memory. Peer: ``geopandas.read_parquet`` of the
same directory and the in-memory functions in this one process. Both runs include reading the
Parquet files. The answers are checked equal (counts exactly, Gi* z, KDE and KPI floats to
1e-12 relative) before timing; the faster of two runs each is reported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from bench._timing import Result

N_FULL, N_QUICK = 1_000_000, 100_000
TZ = "Asia/Shanghai"
STATES = ("closed", "closed", "closed", "resolved", "callback_due", "on_scene", "returned")


def incidents(n: int, cells: gpd.GeoDataFrame, seed: int = 10) -> gpd.GeoDataFrame:
    """``n`` synthetic incidents (an incidents-layer subset that :func:`prepare` completes)."""
    from incidents.taxonomy import DEFAULT_DATA

    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = cells.total_bounds
    k = int(n * 0.7)
    centres = rng.uniform((x0, y0), (x1, y1), size=(12, 2))
    pick = rng.integers(0, 12, k)
    spot = centres[pick] + rng.normal(0.0, 0.004, size=(k, 2))  # ~400 m spread
    rest = rng.uniform((x0, y0), (x1, y1), size=(n - k, 2))
    xy = np.clip(np.vstack([spot, rest]), (x0, y0), (x1, y1))
    start = pd.Timestamp("2025-06-01", tz=TZ)
    received = start + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    disp = received + pd.to_timedelta(rng.gamma(2.0, 2.0, n), unit="min")
    scene = disp + pd.to_timedelta(rng.gamma(2.0, 4.0, n), unit="min")
    resolved = scene + pd.to_timedelta(rng.gamma(2.0, 20.0, n), unit="h")
    state = rng.choice(STATES, n)
    done = np.isin(state, ("closed", "resolved", "callback_due"))
    called = np.isin(state, ("closed",))
    callback = resolved + pd.to_timedelta(rng.uniform(12, 36, n), unit="h")
    codes = cells["village_code"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "id": np.char.add("E", np.arange(n).astype(str)),
            "category": rng.choice(list(DEFAULT_DATA), n),
            "state": state,
            "received_at": received.tz_convert("UTC"),
            "dispatched_at": disp.tz_convert("UTC"),
            "on_scene_at": pd.Series(scene.tz_convert("UTC")).where(state != "returned"),
            "resolved_at": pd.Series(resolved.tz_convert("UTC")).where(done),
            "callback_at": pd.Series(callback.tz_convert("UTC")).where(called),
            "closed_at": pd.Series(callback.tz_convert("UTC")).where(called),
            "satisfaction": pd.Series(rng.choice(["满意", "基本满意", "不满意"], n)).where(called),
            "village_code": rng.choice(codes, n),
            "involves_migrant": rng.random(n) < 0.4,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=4326,
    )


def analysis(points: Any, cells: gpd.GeoDataFrame, lazy: bool) -> dict[str, Any]:
    """Counts + Gi*, KDE and KPIs of ``points`` (a GeoDataFrame or a dask-geopandas frame)."""
    from geo.hotspots import count_points, gi_star, kde
    from incidents.frame import prepare
    from incidents.kpi import Window, compute, compute_by

    if lazy:  # read the partitions once into the workers' memory, as an analyst would
        points = points.persist()
    counted = count_points(points, cells)
    gi = gi_star(counted, "n", permutations=99, seed=1)
    surface = kde(points, 150.0, cell_m=50.0)
    table = points.drop(columns="geometry")
    if lazy:
        meta = prepare(pd.DataFrame(table._meta))
        frame = table.map_partitions(lambda p: prepare(pd.DataFrame(p)), meta=meta)
    else:
        frame = prepare(pd.DataFrame(table))
    as_of = pd.Timestamp("2026-06-01", tz=TZ)
    year = Window.between("2025-06-01", "2026-06-01")
    kpis = compute(frame, year, as_of=as_of)
    by_village = compute_by(frame, Window.month(2026, 3), "village", as_of=as_of)
    return {"counts": counted, "gi": gi, "kde": surface, "kpis": kpis, "by": by_village}


def _check(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert (a["counts"]["n"].to_numpy() == b["counts"]["n"].to_numpy()).all()
    np.testing.assert_allclose(a["gi"]["gi_z"], b["gi"]["gi_z"], rtol=1e-12, atol=1e-12)
    assert (a["gi"]["gi_bin"].to_numpy() == b["gi"]["gi_bin"].to_numpy()).all()
    scale = float(b["kde"].values.max())
    assert np.abs(a["kde"].values - b["kde"].values).max() <= 1e-12 * scale
    for name, v in b["kpis"].items():
        w = a["kpis"][name]
        assert w.denominator == v.denominator, name
        assert abs(w.numerator - v.numerator) <= 1e-12 * max(1.0, abs(v.numerator)), name
    by_a, by_b = a["by"].to_numpy(dtype=float), b["by"].to_numpy(dtype=float)
    np.testing.assert_allclose(by_a, by_b, rtol=1e-12, atol=1e-12, equal_nan=True)


def run(quick: bool = False) -> list[Result]:
    import dask_geopandas
    from distributed import Client, LocalCluster

    from app.exports import write_geoparquet
    from layers.demo.town import build_town

    n = N_QUICK if quick else N_FULL
    cells = build_town(7)["grid_cells"]
    t0 = time.perf_counter()
    frame = incidents(n, cells)
    gen_s = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="ember-bench-dask-"))
    try:
        t0 = time.perf_counter()
        files = write_geoparquet(frame, tmp / "incidents")
        write_s = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        del frame
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):

            def eager() -> dict[str, Any]:
                return analysis(gpd.read_parquet(tmp / "incidents"), cells, lazy=False)

            def spread() -> dict[str, Any]:
                lazy = dask_geopandas.read_parquet(tmp / "incidents")
                return analysis(lazy, cells, lazy=True)

            t0 = time.perf_counter()
            base = eager()
            peer_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            distributed_result = spread()
            ours_s = time.perf_counter() - t0
            _check(distributed_result, base)
            if quick:
                times = [(ours_s, peer_s)]
            else:  # one more run each, keep the faster (warm caches, same for both)
                t0 = time.perf_counter()
                eager()
                peer_s = min(peer_s, time.perf_counter() - t0)
                t0 = time.perf_counter()
                spread()
                ours_s = min(ours_s, time.perf_counter() - t0)
                times = [(ours_s, peer_s)]
        ours_s, peer_s = times[0]
        load = os.getloadavg()[0]
        hot = int((base["gi"]["gi_bin"] >= 2).sum())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        Result(
            "dask vs in-memory analysis",
            f"{n:,} incidents as {len(files)} GeoParquet partitions ({size_mb:.0f} MB); "
            "cell counts + Gi* + KDE + KPIs",
            ours_s,
            "same functions in memory (geopandas.read_parquet)",
            peer_s,
            f"ours: dask LocalCluster, 2 worker processes × 1 thread on 2 cores; answers equal "
            f"(counts exact, floats ≤ 1e-12); {hot} cells hot at 95%; ratio < 1 means dask is "
            f"slower: on one 2-core machine it adds scheduling, pickling between processes and "
            f"a second pass over the partitions (KDE bounds) and has no more cores to spread "
            f"over (load average {load:.1f} during the run: other jobs shared the cores) — "
            f"it pays off when the data outgrow one machine's memory or a cluster adds cores; "
            f"generating the incidents took {gen_s:.1f} s, writing the partitions {write_s:.1f} s",
        )
    ]


__all__ = ["analysis", "incidents", "run"]
