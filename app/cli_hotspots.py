"""``ember hotspots``: hotspot analysis of the stored incidents as GeoJSON (EPSG:4326).

Methods (all from :mod:`geo.hotspots`):

- ``kde``: kernel density surface; features are the grid squares above ``--min-share`` of the
  peak, with ``density_km2`` (incidents per km²); the highest peaks go in the summary.
- ``gi``: Getis-Ord Gi* on grid cells (counts, queen contiguity, analytic p-values with
  Benjamini-Hochberg); features are the grid cells with ``gi_z``, ``gi_q``, ``gi_bin`` (-3..3)
  and ``gi_class`` (``hot 99%`` … ``cold 99%``).
- ``emerging``: emerging hot spot category per grid cell (space-time cube, Mann-Kendall).
- ``clusters``: HDBSCAN density clusters; features are the clusters' convex hulls with their
  summary (category mix, migrant share, top addresses, repeat-call share).

``--village`` keeps one village: KDE and clusters use its incidents only; Gi* and emerging hot
spots are computed over the whole town (a village's ten-odd cells are too few for Gi* alone) and
only its cells are returned.

Incidents are read with the analyst's scope (:data:`SCOPE`: personal data masked) and the
personal columns are dropped before any analysis. ``--json`` prints the FeatureCollection on
stdout (its ``ember`` member holds the method, filters and a summary); ``--out FILE`` writes it
to a file instead, and stdout gets the summary (as JSON with ``--json``). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from app._cli_io import emit, log
from app._cli_types import number, whole
from app._geojson import feature_collection
from app._hotspot_methods import (
    clusters_collection,
    emerging_collection,
    gi_collection,
    gi_frame,
    kde_collection,
)
from app.config import Settings
from incidents._time import LOCAL_TZ
from layers.exporter import replacing
from layers.incidents_layer import CATEGORIES
from store import IncidentQuery, IncidentStore, Scope, open_store

METHODS = ("kde", "gi", "emerging", "clusters")
#: Who the analysis runs as: everything, never personal data.
SCOPE = Scope.everything("analyst")
#: Columns dropped from the incidents before any analysis (they arrive masked anyway).
PERSONAL = ("caller_name", "caller_phone", "caller_id_number")
#: Grid-cell columns about the grid officer, not needed by any analysis.
OFFICER = ("officer_id", "officer_name", "officer_phone")


# --- inputs ----------------------------------------------------------------------------------


def _day(text: str | None, flag: str) -> pd.Timestamp | None:
    """A local date (or aware time) from ``--from`` / ``--to``."""
    if text is None:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        ts = pd.NaT
    if pd.isna(ts):
        raise ValueError(f"{flag} 无法识别的日期 / {flag} is not a date: {text!r}")
    return ts.tz_localize(LOCAL_TZ) if ts.tzinfo is None else ts


def window(start: str | None, end: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``[from, to)`` of ``--from`` / ``--to``: a date-only ``--to`` includes that whole day."""
    lo, hi = _day(start, "--from"), _day(end, "--to")
    if hi is not None and end is not None and len(end.strip()) <= 10:
        hi = hi + pd.Timedelta(days=1)
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError("--from 须早于 --to / --from must be before --to")
    return lo, hi


def load(
    store: IncidentStore,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    category: str | None = None,
    village: str | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """De-identified incidents matching the filters, and the grid cells (of ``village`` only
    when given)."""
    if category is not None and category not in CATEGORIES:
        known = ", ".join(CATEGORIES)
        raise ValueError(f"未知类别 / unknown category {category!r}; one of: {known}")
    cells = store.read_layer("grid_cells")
    cells = cells.drop(columns=[c for c in OFFICER if c in cells.columns])
    if village is not None:
        cells = cells[cells["village_code"] == village]
        if cells.empty:
            raise ValueError(f"没有该村社区的网格 / no grid cells in village {village!r}")
    query = IncidentQuery(
        received_from=None if start is None else start.to_pydatetime(),
        received_to=None if end is None else end.to_pydatetime(),
        categories=(category,) if category else (),
        village_codes=(village,) if village else (),
    )
    found = store.query_incidents(query, SCOPE)
    found = found.drop(columns=[c for c in PERSONAL if c in found.columns])
    found = found[~(found.geometry.is_empty | found.geometry.isna())]
    if "involves_migrant" in found:
        found["involves_migrant"] = found["involves_migrant"].fillna(False).astype(bool)
    return gpd.GeoDataFrame(found, geometry="geometry", crs=4326), cells.reset_index(drop=True)


# --- command ---------------------------------------------------------------------------------


def analyse(
    store: IncidentStore,
    method: str,
    *,
    start: str | None = None,
    end: str | None = None,
    category: str | None = None,
    village: str | None = None,
    bandwidth_m: float = 200.0,
    cell_m: float | None = None,
    min_share: float = 0.05,
    permutations: int = 0,
    freq: str = "W-SUN",
    min_cluster_size: int = 15,
) -> dict[str, Any]:
    """The FeatureCollection of one method over the filtered incidents, with an ``ember``
    member: method, filters, number of incidents and the method's summary."""
    if method not in METHODS:
        raise ValueError(f"未知方法 / unknown method {method!r}: one of {', '.join(METHODS)}")
    lo, hi = window(start, end)
    # Gi* and emerging hot spots compare a cell with the town: with --village they run over
    # the whole town and only the village's cells are returned (a village's ten-odd cells are
    # too few for Gi* on their own). KDE and clusters use the village's incidents only.
    town_wide = method in ("gi", "emerging")
    incidents, cells = load(
        store, start=lo, end=hi, category=category, village=None if town_wide else village
    )
    if town_wide and village is not None and not (cells["village_code"] == village).any():
        raise ValueError(f"没有该村社区的网格 / no grid cells in village {village!r}")
    log(f"分析 / analysing {len(incidents):,} incidents over {len(cells)} grid cells ({method}) …")
    if method == "kde":
        fc, summary = kde_collection(
            incidents, bandwidth_m=bandwidth_m, cell_m=cell_m, min_share=min_share
        )
    elif method == "gi":
        fc, summary = gi_collection(incidents, cells, permutations=permutations, village=village)
    elif method == "emerging":
        fc, summary = emerging_collection(incidents, cells, freq=freq, village=village)
    else:
        fc, summary = clusters_collection(incidents, min_cluster_size=min_cluster_size)
    fc["ember"] = {
        "method": method,
        "filters": {
            "from": None if lo is None else lo.isoformat(),
            "to": None if hi is None else hi.isoformat(),
            "category": category,
            "village": village,
        },
        "incidents": len(incidents),
        "features": len(fc["features"]),
        **summary,
    }
    return fc


def _text(doc: dict[str, Any]) -> str:
    """A few lines for people: what was analysed and the headline of the result."""
    meta = doc["ember"]
    lines = [
        f"方法 method {meta['method']} · 事件 incidents {meta['incidents']:,} · "
        f"要素 features {meta['features']:,}"
    ]
    if meta["method"] == "kde":
        for p in meta["peaks"][:5]:
            lines.append(
                f"  峰 peak {p['rank']}: {p['lon']:.5f}, {p['lat']:.5f}  "
                f"{p['density_km2']:.1f} 件/km²"
            )
    elif meta["method"] == "gi":
        lines += [f"  {k:<16}{v:>6}" for k, v in meta["classes"].items()]
        hot = [f for f in doc["features"] if f["properties"]["gi_bin"] > 0]
        hot.sort(key=lambda f: -f["properties"]["gi_z"])
        for f in hot[:10]:
            p = f["properties"]
            lines.append(
                f"  热点 hot  {p.get('name', p.get('code'))}  z={p['gi_z']:.2f}  n={p['n']}"
            )
    elif meta["method"] == "emerging":
        lines += [f"  {k:<18}{v:>6}" for k, v in meta["patterns"].items()]
    else:
        for f in doc["features"][:10]:
            p = f["properties"]
            lines.append(
                f"  聚类 cluster {p['cluster']}: n={p['n']} {p['top_category']} "
                f"流动人口 migrants {p['migrant_share']:.0%} 重复 repeats {p['repeat_share']:.0%}"
            )
    return "\n".join(lines)


def cmd_hotspots(args: argparse.Namespace, settings: Settings) -> int:
    t0 = time.perf_counter()
    store = open_store(str(settings.db), create=False)
    try:
        doc = analyse(
            store,
            args.method,
            start=args.date_from,
            end=args.date_to,
            category=args.category,
            village=args.village,
            bandwidth_m=args.bandwidth,
            cell_m=args.cell,
            min_share=args.min_share,
            permutations=args.permutations,
            freq=args.freq,
            min_cluster_size=args.min_cluster_size,
        )
    finally:
        store.close()
    doc["ember"]["seconds"] = round(time.perf_counter() - t0, 2)
    if args.out:
        out = Path(args.out)
        with replacing([out]) as stage:  # a failed write leaves the earlier file whole
            stage(out).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        log(f"已写入 / written {out} ({len(doc['features']):,} features)")
        emit(args, {"out": str(out), **doc["ember"]}, _text(doc))
        return 0
    if args.json:
        emit(args, doc, "")
    else:
        print(_text(doc))
        log("用 --json 输出 GeoJSON，或 --out FILE.geojson 写入文件 / --json or --out for GeoJSON")
    return 0


def add_hotspots_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember hotspots``."""
    p = sub.add_parser(
        "hotspots",
        help="hotspot analysis as GeoJSON 热点分析",
        description="热点分析（脱敏数据），输出 GeoJSON / hotspot analysis of the de-identified "
        "incidents, as GeoJSON in EPSG:4326",
    )
    p.add_argument("--method", choices=METHODS, required=True)
    p.add_argument("--category", help=f"incident category: {', '.join(CATEGORIES)}")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="received on or after")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="received up to (date inclusive)")
    p.add_argument(
        "--village",
        metavar="CODE",
        help="one village: kde/clusters of its incidents; gi/emerging of its cells (computed "
        "over the whole town)",
    )
    p.add_argument(
        "--bandwidth",
        type=number(0, above=True),
        default=200.0,
        metavar="M",
        help="kde: bandwidth in metres",
    )
    p.add_argument(
        "--cell",
        type=number(0, above=True),
        metavar="M",
        help="kde: cell size (default bandwidth/2)",
    )
    p.add_argument(
        "--min-share",
        type=number(0),
        default=0.05,
        help="kde: leave out cells below this share of the peak (default 0.05)",
    )
    p.add_argument(
        "--permutations",
        type=whole(0),
        default=0,
        help="gi: conditional permutations, reported as gi_p_sim (classes use analytic p)",
    )
    p.add_argument(
        "--freq",
        default="W-SUN",
        help="emerging: time step, a pandas frequency (default W-SUN, weeks; a town's year is "
        "often too sparse for weeks: try M)",
    )
    p.add_argument("--min-cluster-size", type=whole(2), default=15, help="clusters: HDBSCAN size")
    p.add_argument("--out", metavar="FILE.geojson", help="write the GeoJSON here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_hotspots)


__all__ = ["METHODS", "SCOPE", "add_hotspots_commands", "analyse", "feature_collection", "gi_frame"]
