"""Storing incidents: Ember's stores against a plain GeoDataFrame write of the same rows.

Workload: the demo's year of incidents (100,000; 10,000 with ``--quick``), each as an
:class:`~incidents.model.Incident` with its full event history (receive, dispatch, arrive,
resolve, callback, close, … as the flat row records them). Ember validates every event through the
lifecycle fold, writes the incident with its status projection, the events and one audit line
each, in one transaction (GeoPackage: executemany under ``BEGIN IMMEDIATE``; PostGIS: COPY).
Peers, in the same run: ``GeoDataFrame.to_file`` (GeoPackage through pyogrio) and
``GeoDataFrame.to_postgis`` (SQLAlchemy + GeoAlchemy2, COPY) of the flat frame — one table, no
events, no validation. Each side writes into a fresh file or database, fully durable (the PostGIS
server keeps fsync on). Without a local PostgreSQL + PostGIS only the GeoPackage line is printed.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from bench._timing import Result
from layers.demo import build_demo
from store._flat import from_frame
from store.gpkg import GeoPackageStore


def _median(fn: Callable[[int], object], repeat: int) -> float:
    """Median wall time of ``fn(i)`` over ``repeat`` runs, each on its own fresh target."""
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _say(label: str, n: int, n_rows: int, ours: float, peer_label: str, peer: float) -> None:
    print(
        f"  {label}: {n / ours:,.0f} incidents/s ({n_rows / ours:,.0f} rows/s with events and "
        f"audit) · {peer_label}: {n / peer:,.0f} rows/s",
        flush=True,
    )


def _postgis(
    flat: gpd.GeoDataFrame, incidents: list, events: list, repeat: int
) -> tuple[float, float] | None:
    from store.pgtemp import TempPostgres, find_postgis

    bin_dir, why = find_postgis()
    if bin_dir is None:
        print(f"  PostGIS skipped: {why}", file=sys.stderr)
        return None
    import psycopg
    from sqlalchemy import create_engine

    from store.postgis import PostGISStore

    with TempPostgres(bin_dir, durable=True) as pg:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            for i in range(repeat):
                for side in ("ours", "peer"):
                    conn.execute(f"CREATE DATABASE {side}{i}")
                    with psycopg.connect(pg.url(f"{side}{i}"), autocommit=True) as db:
                        db.execute("CREATE EXTENSION postgis")

        def ours(i: int) -> None:
            with PostGISStore(pg.url(f"ours{i}")) as store:
                store.add_incidents(incidents, events, actor="bench")

        def peer(i: int) -> None:
            engine = create_engine(
                pg.url(f"peer{i}").replace("postgresql://", "postgresql+psycopg://")
            )
            try:
                flat.to_postgis("incidents", engine, index=False)
            finally:
                engine.dispose()

        return _median(ours, repeat), _median(peer, repeat)


def run(quick: bool = False) -> list[Result]:
    n = 10_000 if quick else 100_000
    repeat = 1 if quick else 3
    flat = build_demo(7, n_incidents=n)["incidents"]
    incidents, events = from_frame(flat)
    n_rows = 2 * len(incidents) + len(events)  # incident + audit line each, and the events
    workload = f"{n:,} demo incidents with {len(events):,} events"
    results = []
    with tempfile.TemporaryDirectory() as tmp:

        def ours(i: int) -> None:
            GeoPackageStore(Path(tmp) / f"ours{i}.gpkg").add_incidents(
                incidents, events, actor="bench"
            )

        def peer(i: int) -> None:
            flat.to_file(
                Path(tmp) / f"peer{i}.gpkg", layer="incidents", driver="GPKG", engine="pyogrio"
            )

        ours_s, peer_s = _median(ours, repeat), _median(peer, repeat)
    _say("GeoPackage", n, n_rows, ours_s, "to_file", peer_s)
    results.append(
        Result(
            "store incidents (GeoPackage)",
            workload,
            ours_s,
            "GeoDataFrame.to_file (GPKG)",
            peer_s,
            f"{n / ours_s:,.0f} incidents/s, {n_rows / ours_s:,.0f} rows/s incl. events and audit; "
            f"peer {n / peer_s:,.0f} rows/s, flat table only, no validation",
        )
    )
    pg = _postgis(flat, incidents, events, repeat)
    if pg is not None:
        ours_s, peer_s = pg
        _say("PostGIS", n, n_rows, ours_s, "to_postgis", peer_s)
        results.append(
            Result(
                "store incidents (PostGIS)",
                workload,
                ours_s,
                "GeoDataFrame.to_postgis",
                peer_s,
                f"{n / ours_s:,.0f} incidents/s, {n_rows / ours_s:,.0f} rows/s incl. events and "
                f"audit (COPY); peer {n / peer_s:,.0f} rows/s, flat table only, no validation",
            )
        )
    return results


__all__ = ["run"]
