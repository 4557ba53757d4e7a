"""Where the demo incidents happen: gazetteer anchors, jitter, planted hotspots and the trinity.

Metric work is done in CGCS2000 / 3-degree Gauss-Krüger CM 120E (EPSG:4549).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

METRIC_CRS = "EPSG:4549"
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

#: Share of incidents located at each gazetteer level (renormalised over levels present).
LEVEL_SHARE = {"house": 0.70, "poi": 0.20, "road": 0.04, "group": 0.04, "village": 0.02}
#: Jitter (min, max metres) around an anchor of each level.
JITTER_M = {
    "house": (1, 6),
    "poi": (3, 20),
    "road": (5, 40),
    "group": (10, 60),
    "village": (20, 120),
}
_MAX_HOT_JITTER = 20.0


@dataclass
class Places:
    """The gazetteer entries incidents may be placed at, with weights and metric coordinates."""

    gaz: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    level: np.ndarray
    w_local: np.ndarray
    w_migrant: np.ndarray
    attract: dict[str, np.ndarray]
    factory: np.ndarray
    precise: np.ndarray
    tree: shapely.STRtree
    cells: gpd.GeoDataFrame
    cells_tree: shapely.STRtree
    town: dict


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat to EPSG:4549 x/y (metres)."""
    return _TO_METRIC.transform(np.asarray(lon, float), np.asarray(lat, float))


def to_wgs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4549 x/y (metres) to WGS84 lon/lat."""
    return _TO_WGS.transform(np.asarray(x, float), np.asarray(y, float))


def _wgs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        return frame.to_crs("EPSG:4326")
    return frame


def _points_xy(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    geom = _wgs(frame).geometry
    return to_metric(geom.x.to_numpy(), geom.y.to_numpy())


def _metric_geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    return _wgs(frame).geometry.to_crs(METRIC_CRS).to_numpy()


def _near(xy: np.ndarray, targets: np.ndarray, metres: float) -> np.ndarray:
    """Which of the points ``xy`` are within ``metres`` of any of the ``targets`` geometries."""
    out = np.zeros(len(xy), dtype=bool)
    if len(targets) and len(xy):
        hit = shapely.STRtree(targets).query(shapely.points(xy), "dwithin", distance=metres)
        out[hit[0]] = True
    return out


def _pop(cells: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(cells.get(column, pd.Series(np.nan, index=cells.index)))
    values = values.astype(float).to_numpy()
    fill = np.nanmean(values) if np.isfinite(values).any() else 1.0
    return np.where(np.isfinite(values), values, fill).clip(0) + 1.0


def prepare(town: dict) -> Places:
    """Index the town's gazetteer: levels, grid cell populations and category attractors."""
    cells = _wgs(town["grid_cells"]).reset_index(drop=True)
    gaz = _wgs(town["gazetteer"])
    gaz = gaz[gaz["level"].isin(list(LEVEL_SHARE)) & ~gaz.geometry.is_empty].reset_index(drop=True)
    if gaz.empty:
        raise ValueError("gazetteer has no house/poi/road/group/village entries to place incidents")
    x, y = _points_xy(gaz)
    xy = np.column_stack([x, y])
    pts = shapely.points(xy)
    level = gaz["level"].to_numpy(dtype=object)

    cells_m = _metric_geoms(cells)
    cells_tree = shapely.STRtree(cells_m)
    hit = cells_tree.query(pts, "within")
    cell = np.full(len(gaz), -1)
    cell[hit[0][::-1]] = hit[1][::-1]  # first match wins
    reg, mig = _pop(cells, "registered_pop"), _pop(cells, "migrant_pop")
    reg_g = np.where(cell >= 0, reg[cell], reg.mean())
    mig_g = np.where(cell >= 0, mig[cell], mig.mean())

    w_local = np.zeros(len(gaz))
    w_migrant = np.zeros(len(gaz))
    present = {lv: s for lv, s in LEVEL_SHARE.items() if (level == lv).any()}
    total = sum(present.values())
    for lv, share in present.items():
        m = level == lv
        # Spread each cell's population over its points of this level.
        key = np.where(cell[m] >= 0, cell[m], len(cells))
        per_cell = np.bincount(key, minlength=len(cells) + 1)[key]
        for w, pop in ((w_local, reg_g), (w_migrant, mig_g)):
            v = pop[m] / per_cell
            w[m] = share / total * v / v.sum()

    pois = town.get("pois")
    pois = _wgs(pois) if pois is not None and len(pois) else None

    def kind(k: str) -> np.ndarray:
        if pois is None:
            return np.empty(0, dtype=object)
        return _metric_geoms(pois[pois["kind"] == k])

    zones = town.get("industrial_zones")
    zones_m = _metric_geoms(zones) if zones is not None and len(zones) else np.empty(0, object)
    precise = np.isin(level, ["house", "poi"])
    is_poi = level == "poi"
    in_zone = _near(xy, zones_m, 0.0)
    factory = is_poi & _near(xy, kind("factory"), 40.0)
    rental_poi = is_poi & _near(xy, kind("rental_housing"), 40.0)
    market = _near(xy, kind("market"), 300.0)
    attract = {
        "wage": 1 + 4 * in_zone + 3 * _near(xy, kind("factory"), 300.0) + 10 * factory,
        "rental": 1 + 4 * _near(xy, kind("rental_housing"), 250.0) + 8 * rental_poi,
        "consumer": 1 + 3 * market,
        "noise": 1 + 0.8 * market + 0.5 * in_zone,
    }
    return Places(
        gaz=gaz, x=x, y=y, level=level, w_local=w_local, w_migrant=w_migrant,
        attract={k: v.astype(float) for k, v in attract.items()}, factory=factory,
        precise=precise, tree=shapely.STRtree(pts), cells=cells, cells_tree=cells_tree, town=town,
    )  # fmt: skip


def sample_anchors(
    rng: np.random.Generator, places: Places, category: np.ndarray, migrant: np.ndarray,
    codes: list[str],
) -> np.ndarray:  # fmt: skip
    """Gazetteer row for every incident, weighted by population (migrant or local) and category."""
    out = np.zeros(len(category), dtype=np.int64)
    for c, code in enumerate(codes):
        mult = places.attract.get(code, 1.0)
        for flag, base in ((True, places.w_migrant), (False, places.w_local)):
            rows = np.flatnonzero((category == c) & (migrant == flag))
            if rows.size:
                p = base * mult
                out[rows] = rng.choice(len(p), size=rows.size, p=p / p.sum())
    return out


def jitter(
    rng: np.random.Generator, places: Places, anchors: np.ndarray, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Metric points a few metres (more for coarse levels) from their anchors, inside the cells."""
    level = pd.Series(places.level[anchors])
    lo = level.map({k: v[0] for k, v in JITTER_M.items()}).to_numpy(float) * scale
    hi = level.map({k: v[1] for k, v in JITTER_M.items()}).to_numpy(float) * scale
    x0, y0 = places.x[anchors], places.y[anchors]
    x, y = x0.copy(), y0.copy()
    todo = np.arange(len(anchors))
    for _ in range(4):
        r = rng.uniform(lo[todo], hi[todo])
        a = rng.uniform(0, 2 * np.pi, todo.size)
        x[todo] = x0[todo] + r * np.cos(a)
        y[todo] = y0[todo] + r * np.sin(a)
        inside = np.zeros(todo.size, dtype=bool)
        hit = places.cells_tree.query(shapely.points(x[todo], y[todo]), "within")
        inside[hit[0]] = True
        todo = todo[~inside]
        if todo.size == 0:
            break
    x[todo], y[todo] = x0[todo], y0[todo]
    return x, y


def nearby_anchors(
    rng: np.random.Generator, places: Places, anchors: np.ndarray, max_m: float = 300.0
) -> np.ndarray:
    """Another precise gazetteer entry within ``max_m`` of each anchor (the anchor if none)."""
    r = rng.uniform(30, max_m, len(anchors))
    a = rng.uniform(0, 2 * np.pi, len(anchors))
    x = places.x[anchors] + r * np.cos(a)
    y = places.y[anchors] + r * np.sin(a)
    precise = np.flatnonzero(places.precise)
    tree = shapely.STRtree(shapely.points(places.x[precise], places.y[precise]))
    pair = tree.query_nearest(shapely.points(x, y), all_matches=False)
    snapped = anchors.copy()
    snapped[pair[0]] = precise[pair[1]]
    far = np.hypot(places.x[snapped] - places.x[anchors], places.y[snapped] - places.y[anchors])
    return np.where(far <= max_m, snapped, anchors)


def _densest(places: Places, candidates: np.ndarray, radius: float) -> int | None:
    """The candidate gazetteer row with the most precise entries within ``radius``."""
    if candidates.size == 0:
        return None
    pts = shapely.points(places.x[candidates], places.y[candidates])
    hit = places.tree.query(pts, "dwithin", distance=radius)
    counts = np.bincount(hit[0], weights=places.precise[hit[1]], minlength=candidates.size)
    return int(candidates[np.argmax(counts)])


def _kind_candidates(places: Places, kind: str) -> np.ndarray:
    pois = places.town.get("pois")
    if pois is None or not len(pois):
        return np.empty(0, dtype=np.int64)
    targets = _metric_geoms(_wgs(pois)[pois["kind"] == kind])
    near = _near(np.column_stack([places.x, places.y]), targets, 40.0) & places.precise
    at_poi = near & (places.level == "poi")
    return np.flatnonzero(at_poi if at_poi.any() else near)


def hotspot_centres(places: Places) -> list[tuple[str, str, int, float]]:
    """Planted hotspot anchors as (label, category, gazetteer row, radius_m), those the town has."""
    out: list[tuple[str, str, int, float]] = []
    xy = np.column_stack([places.x, places.y])
    zones = places.town.get("industrial_zones")
    if zones is not None and len(zones):
        centre = _densest(places, np.flatnonzero(places.factory), 350.0)
        if centre is None:
            inside = _near(xy, _metric_geoms(zones), 0.0) & places.precise
            centre = _densest(places, np.flatnonzero(inside), 350.0)
        if centre is not None:
            out.append(("工业区欠薪", "wage", centre, 350.0))
    for label, category, kind, radius in (
        ("出租房集中区租赁纠纷", "rental", "rental_housing", 250.0),
        ("市场夏季噪音", "noise", "market", 250.0),
    ):
        centre = _densest(places, _kind_candidates(places, kind), radius)
        if centre is not None:
            out.append((label, category, centre, radius))
    mig = _pop(places.cells, "migrant_pop")
    hit = places.cells_tree.query(shapely.points(xy), "within")
    busiest = int(np.argmax(mig))
    rows = np.unique(hit[0][hit[1] == busiest])
    centre = _densest(places, rows[places.precise[rows]], 200.0)
    if centre is not None:
        out.append(("流动人口聚居区邻里纠纷", "neighbour", centre, 200.0))
    return out


def hotspot_anchors(
    rng: np.random.Generator, places: Places, centre: int, radius: float, count: int
) -> tuple[np.ndarray, float]:
    """Precise gazetteer rows near a hotspot centre, and the radius that holds them with jitter."""
    d = np.hypot(places.x - places.x[centre], places.y - places.y[centre])
    d = np.where(places.precise, d, np.inf)
    cand = np.flatnonzero(d <= radius - _MAX_HOT_JITTER)
    if cand.size < 8:
        cand = np.argsort(d, kind="stable")[:8]
        cand = cand[np.isfinite(d[cand])]
        radius = float(np.ceil(d[cand].max() + _MAX_HOT_JITTER + 5))
    w = 1.0 / (1.0 + d[cand] / radius)  # denser towards the centre
    return rng.choice(cand, size=count, p=w / w.sum()), radius


def trinity(
    town: dict, x: np.ndarray, y: np.ndarray
) -> tuple[gpd.GeoSeries, dict[str, np.ndarray]]:
    """Point geometry (EPSG:4326) and grid, village, beat and nearest fire station codes."""
    lon, lat = to_wgs(x, y)
    geom = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")
    pts = gpd.GeoDataFrame(geometry=geom)
    codes: dict[str, np.ndarray] = {}
    for key, layer in (("grid_code", "grid_cells"), ("village_code", "villages"),
                       ("beat_code", "police_beats")):  # fmt: skip
        poly = _wgs(town[layer])[["code", "geometry"]]
        joined = gpd.sjoin(pts, poly, how="left", predicate="within")
        joined = joined.sort_values("code", kind="stable")
        first = joined[~joined.index.duplicated(keep="first")].sort_index()
        codes[key] = first["code"].to_numpy(dtype=object)
    stations = _wgs(town["fire_stations"])[["code", "geometry"]].to_crs(METRIC_CRS)
    metric = gpd.GeoDataFrame(geometry=gpd.GeoSeries(shapely.points(x, y), crs=METRIC_CRS))
    near = gpd.sjoin_nearest(metric, stations, how="left").sort_values("code", kind="stable")
    near = near[~near.index.duplicated(keep="first")].sort_index()
    codes["station_code"] = near["code"].to_numpy(dtype=object)
    for v in codes.values():
        v[pd.isna(v)] = None
    return geom, codes
