"""Ingest: a 110 export of the demo town's incidents, end to end, into each backend.

Workload: ``build_demo(7)``'s incidents (100,000; 5,000 with ``--quick``) written as one 110
transfer CSV in GB18030 (as a 110 system exports it): 60 % of the rows with coordinates (half of
those in GCJ-02), the rest with only an address, so the pipeline geocodes 40 % of the rows.
Ours: :func:`ingest.pipeline.ingest_file` — encoding detection, parsing, validation, content
hashes and the (source, source_id) lookup, category mapping, phone normalisation, coordinate
conversion and validation, geocoding, trinity assignment, repeat-call linking, and storing every
incident with its receive event and audit line — into a fresh GeoPackage and a fresh PostGIS
database; the town's geocoder and trinity index are built inside the timing (in a forked
process while the file is read, as ``ember ingest`` builds them from the store's layers).
Peer, in the same run: ``pandas.read_csv`` + ``geopandas.sjoin`` (points within grid cells) +
``GeoDataFrame.to_file`` (GPKG) of the same file — no geocoding, no conversion, no validation.
Each backend is measured in :data:`ROUNDS` rounds of one peer run then one of ours (each into a
new file or database), and the medians are compared: a single run swung by a quarter from run to
run on the shared two-core machine, and the machine's speed drifts over minutes, so the two
sides are timed side by side rather than one after the other. Target (issue #5): ours within
3× of the peer.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from bench._timing import Result
from geo.crs import from_wgs84
from layers.demo import build_demo

H110 = ["警情编号", "报警时间", "报警人", "联系电话", "报警地址", "警情类别", "简要警情",
        "流转时间", "管辖单位", "经度", "纬度", "坐标系"]  # fmt: skip
#: Rounds of (peer, ours) per backend; the medians are compared.
ROUNDS = 3
TOWN = ("gazetteer", "grid_cells", "police_beats", "fire_stations", "fire_station_coverage", "town")


def write_110_csv(frames: dict[str, Any], path: Path, seed: int = 7) -> int:
    """The demo incidents as a 110 export (GB18030); returns the number of rows."""
    inc = frames["incidents"]
    n = len(inc)
    rng = np.random.default_rng(seed)
    lon, lat = inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()
    kind = rng.random(n)
    gcj = kind < 0.3
    glon, glat = from_wgs84(lon, lat, "gcj02")
    lon = np.where(gcj, glon, lon)
    lat = np.where(gcj, glat, lat)
    has = kind < 0.6
    local = inc["received_at"].dt.tz_convert("Asia/Shanghai")
    t = local.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    moved = (local + pd.Timedelta(minutes=3)).dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    sid = inc["source_id"].to_numpy(object)
    name = inc["caller_name"].fillna("").to_numpy(object)
    phone = inc["caller_phone"].fillna("").to_numpy(object)
    addr = inc["address"].to_numpy(object)
    cat = inc["category_zh"].to_numpy(object)
    desc = inc["description"].to_numpy(object)
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(H110)
        for i in range(n):
            w.writerow(
                [sid[i], t[i], name[i], phone[i], addr[i], cat[i], desc[i], moved[i],
                 "演示镇派出所", f"{lon[i]:.6f}" if has[i] else "",
                 f"{lat[i]:.6f}" if has[i] else "",
                 ("GCJ02" if gcj[i] else "WGS84") if has[i] else ""]
            )  # fmt: skip
    return n


def peer(path: Path, grid_cells: gpd.GeoDataFrame, out: Path) -> float:
    """read_csv + sjoin + to_file of the same rows into a new file ``out`` (seconds)."""
    t0 = time.perf_counter()
    df = pd.read_csv(path, encoding="gb18030", dtype={"警情编号": str, "联系电话": str})
    points = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["经度"], df["纬度"]), crs=4326)
    joined = gpd.sjoin(points, grid_cells[["code", "geometry"]], how="left", predicate="within")
    joined.drop(columns="index_right").to_file(out, layer="incidents", driver="GPKG")
    return time.perf_counter() - t0


def ours(path: Path, town: dict[str, Any], url: str) -> tuple[float, dict[str, Any]]:
    # imported before the clock starts, as the peer's pandas and geopandas are
    from ingest.pipeline import IngestContext, ingest_file
    from store import open_store

    t0 = time.perf_counter()
    store = open_store(url)
    try:
        # the town's indexes are built while the file is read, as `ember ingest` builds them
        summary = ingest_file(path, "110", store, partial(IngestContext.from_frames, town))
    finally:
        store.close()
    return time.perf_counter() - t0, summary.as_dict()


def _rounds(
    path: Path,
    grid_cells: gpd.GeoDataFrame,
    tmp: Path,
    town: dict[str, Any],
    url: Callable[[int], str],
    label: str,
) -> tuple[list[float], list[float], dict[str, Any]]:
    """:data:`ROUNDS` rounds of one peer run then one of ours into ``url(round)`` (a new store
    each): the peer's times, ours, and the summary of our last run."""
    peers: list[float] = []
    mine: list[float] = []
    doc: dict[str, Any] = {}
    for r in range(ROUNDS):
        peers.append(peer(path, grid_cells, tmp / f"peer-{label}-{r}.gpkg"))
        seconds, doc = ours(path, town, url(r))
        mine.append(seconds)
    return peers, mine, doc


def _result(
    backend: str, n: int, mine: list[float], peers: list[float], doc: dict[str, Any]
) -> Result:
    ours_s, peer_s = statistics.median(mine), statistics.median(peers)
    ratio = ours_s / peer_s
    rounds = " / ".join(f"{a:.2f}:{b:.2f}" for a, b in zip(mine, peers, strict=True))
    print(
        f"  ingest → {backend}: {n / ours_s:,.0f} rows/s · read_csv+sjoin+to_file: "
        f"{n / peer_s:,.0f} rows/s · ours takes {ratio:.2f}× the peer's time "
        f"(target ≤ 3×; medians of {len(mine)} rounds, ours:peer s {rounds}) · stored "
        f"{doc['stored']:,}, geocoded {doc['geocoded']:,}, quarantined {doc['quarantined']:,}",
        flush=True,
    )
    return Result(
        f"ingest 110 CSV ({backend})",
        f"{n:,} rows, 40% geocoded, 30% GCJ-02",
        ours_s,
        "read_csv + sjoin + to_file",
        peer_s,
        f"{n / ours_s:,.0f} rows/s end to end vs {n / peer_s:,.0f} rows/s bare; ours/peer time "
        f"{ratio:.2f}× (target ≤ 3×; medians of {len(mine)} alternating rounds); invariant "
        f"{'ok' if doc['invariant_ok'] else 'BROKEN'}",
    )


def run(quick: bool = False) -> list[Result]:
    n = 5_000 if quick else 100_000
    frames = build_demo(7, n_incidents=n)
    town = {k: frames[k] for k in TOWN}
    cells = frames["grid_cells"]
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "110.csv"
        rows = write_110_csv(frames, path)
        peers, mine, doc = _rounds(
            path, cells, tmp, town, lambda r: str(tmp / f"ours-{r}.gpkg"), "gpkg"
        )
        results.append(_result("GeoPackage", rows, mine, peers, doc))
        from store.pgtemp import TempPostgres, find_postgis

        bin_dir, why = find_postgis()
        if bin_dir is None:
            print(f"  PostGIS skipped: {why}", file=sys.stderr)
            return results
        import psycopg

        with TempPostgres(bin_dir, durable=True) as pg:

            def database(r: int) -> str:
                """A new database with PostGIS for round ``r`` (made before the clock starts)."""
                with psycopg.connect(pg.url(), autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE ingest{r}")
                with psycopg.connect(pg.url(f"ingest{r}"), autocommit=True) as db:
                    db.execute("CREATE EXTENSION postgis")
                return pg.url(f"ingest{r}")

            peers, mine, doc = _rounds(path, cells, tmp, town, database, "pg")
            results.append(_result("PostGIS", rows, mine, peers, doc))
    return results


__all__ = ["run", "write_110_csv"]
