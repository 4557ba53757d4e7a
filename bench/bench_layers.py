"""Layer validation of the demo town: Ember's topology checks against a geopandas overlay peer.

Both sides find the same things — overlaps between grid cells, gaps in the town, cells not in
exactly one village or beat — on the demo town's layers (seed 7). The peer is what an analyst
would write with geopandas: ``overlay`` of cells with cells, villages and beats.
"""

from __future__ import annotations

import geopandas as gpd

from bench._timing import Result, median_time
from layers.demo.town import build_town
from layers.topology import check_topology


def peer_check(frames: dict[str, gpd.GeoDataFrame], tol_m2: float = 1.0) -> dict[str, int]:
    """The same rules with geopandas overlay (the idiomatic peer)."""
    g = frames["grid_cells"][["code", "geometry"]].to_crs(4549)
    town = frames["town"].to_crs(4549)
    pairs = gpd.overlay(g, g, how="intersection", keep_geom_type=True)
    pairs = pairs[(pairs["code_1"] < pairs["code_2"]) & (pairs.area > tol_m2)]
    gaps = town.difference(g.union_all()).explode()
    counts = {"overlaps": len(pairs), "gaps": int((gaps.area > tol_m2).sum())}
    for parent in ("villages", "police_beats"):
        p = frames[parent][["code", "geometry"]].to_crs(4549).rename(columns={"code": "parent"})
        hits = gpd.overlay(g, p, how="intersection", keep_geom_type=True)
        hits = hits[hits.area > tol_m2]
        per_cell = hits.groupby("code").size().reindex(g["code"]).fillna(0)
        counts[parent] = int((per_cell != 1).sum())
    return counts


def run(quick: bool = False) -> list[Result]:
    frames = build_town(7)
    assert check_topology(frames) == []
    assert peer_check(frames) == {"overlaps": 0, "gaps": 0, "villages": 0, "police_beats": 0}
    repeat = 3 if quick else 7
    ours = median_time(lambda: check_topology(frames), repeat=repeat)
    peer = median_time(lambda: peer_check(frames), repeat=repeat)
    n = len(frames["grid_cells"])
    return [
        Result(
            "layer topology checks",
            f"demo town, {n} grid cells, {len(frames['villages'])} villages, "
            f"{len(frames['police_beats'])} beats",
            ours,
            "geopandas overlay",
            peer,
            "both must find no problem on the demo town before timing starts",
        )
    ]


__all__ = ["run"]
