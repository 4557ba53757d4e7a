"""The demo town 演示镇: synthetic geometry, people and gazetteer, deterministic per seed.

Modelled loosely on a town near Yongkang, Zhejiang (hardware industry, many migrant workers);
every name is invented. Everything is computed in metres (EPSG:4549) and transformed once to
WGS84 at the end, vertex by vertex, so edges shared in metres stay shared in degrees.

How it is built: an irregular outline; main roads across it; industrial zones along the roads;
registered and migrant population densities (migrants round the zones and the centre); grid
cells as a centroidal Voronoi tessellation of that density (smaller cells where it is dense),
noded with the outline so they tile the town exactly; villages as contiguous k-means groups of
whole cells; police beats as contiguous groups of whole villages; then places, fire stations,
people and addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import Point

from layers.demo import _gazetteer as gaz
from layers.demo import _geometry as geom
from layers.demo import _names as names
from layers.registry import SPECS

# Identity and coordinates.
TOWN_NAME = "演示镇"
TOWN_CODE = "330784199"
POLICE_STATION = "演示镇派出所"
CENTRE_LON, CENTRE_LAT = 120.10, 29.00
METRIC_CRS = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
STORAGE_CRS = "EPSG:4326"

# Counts and sizes; a pair (lo, hi) is an inclusive range drawn once per seed.
TOWN_AREA_KM2 = (86.0, 94.0)
N_GRID_CELLS = (185, 215)
N_VILLAGES = (22, 28)
N_COMMUNITIES = (3, 4)
N_BEATS = (9, 11)
N_ROADS = (5, 7)
ROADS_THROUGH_CENTRE = 2
N_ZONES = (3, 5)
ZONE_MIN_CORE_DISTANCE_M = 1200.0
N_FACTORIES = (70, 110)
N_MARKETS = (4, 6)
N_SCHOOLS = (6, 9)
N_RENTAL_BLOCKS = (35, 55)
N_HOSPITALS = (1, 3)
N_FIRE_STATIONS = (11, 14)
N_SMART_STATIONS = 3  # the first stations of the greedy placement are 智慧消防站
SMART_CREW = (8, 12)
MICRO_CREW = (4, 7)

# People.
MIGRANT_TOTAL = (68_000, 72_000)
REGISTERED_TOTAL = (52_000, 58_000)
HOUSEHOLD_SIZE = 2.9  # registered persons per household
MIGRANT_HOUSEHOLD_SIZE = 2.2  # migrants per rented household; households counts both
POP_NOISE_SIGMA = 0.25  # log-normal cell-to-cell noise on the density model

# Density model (metres). Registered: a baseline, a bump round the centre and scattered hamlets,
# thinned inside industrial zones. Migrants: bumps round each zone and a smaller one round the
# centre (rental housing), a small baseline.
LATTICE_STEP_M = 80.0
CORE_SIGMA_M = 1300.0
N_HAMLETS = 45
HAMLET_SIGMA_M = 280.0
ZONE_SIGMA_M = 700.0
MIGRANT_CORE_SHARE = 0.3
CELL_DENSITY_EXPONENT = 1.2  # cell sites follow density ** (exponent / 2): CVT in 2-D
LLOYD_ITERATIONS = 12

# Fire-station coverage: 3 minutes at 20 km/h off the main roads (1,000 m) and 40 km/h along
# them (up to 2,000 m along a road), see :func:`layers.demo._geometry.isochrone`.
FIRE_MINUTES = 3
FIRE_LOCAL_SPEED_KMH = 20.0
FIRE_ROAD_SPEED_KMH = 40.0

# Gazetteer.
GAZ_GROUP_HOUSES = 3000  # village-house entries (村+组+号), shared out by group population
GAZ_ROAD_HOUSES = 900  # expected road-house entries (路+号)
PEOPLE_PER_GROUP = 280
GROUPS_PER_VILLAGE = (3, 14)
HOUSE_SPREAD_M = 90.0
ROAD_NUMBER_STEP_M = 5.0  # each number advances 5 m; odd left, even right
ROAD_HOUSE_OFFSET_M = 8.0

PRIMARY_ROADS = ("永兴大道", "华溪大道")
SECONDARY_ROADS = ("金城路", "溪心路", "九龙路", "兴业路", "青峰路", "丽州路", "湖西路")
ZONE_TRADES = ("五金", "门业", "杯壶", "电动工具", "休闲器具")
DEPARTMENTS = (
    "执法中队", "信访办", "司法所", "综治中心", "应急管理办", "劳动保障所", "市场监管所",
    "派出所", "住建办", "自然资源所", "农业农村办", "民政办", "卫健办", "环保所",
)  # fmt: skip

Frame: TypeAlias = gpd.GeoDataFrame | pd.DataFrame


def _draw(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _clockwise(xy: np.ndarray, centre: Point) -> np.ndarray:
    """Bearing in degrees clockwise from north, seen from ``centre``."""
    return np.degrees(np.arctan2(xy[:, 0] - centre.x, xy[:, 1] - centre.y)) % 360.0


Density: TypeAlias = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _density_model(
    rng: np.random.Generator, town: shapely.Polygon, centre: Point, zones: list
) -> Density:
    """Return ``f(xy) -> (registered, migrant)`` relative densities (parameters drawn now)."""
    hamlets = geom.lattice(town, 200.0)
    hamlets = hamlets[rng.choice(len(hamlets), size=N_HAMLETS, replace=False)]
    hamlet_w = rng.uniform(0.2, 0.7, N_HAMLETS)
    zone_w = rng.uniform(0.7, 1.3, len(zones))
    zone_arr = np.array(zones, dtype=object)

    def f(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dc2 = ((xy - [centre.x, centre.y]) ** 2).sum(axis=1)
        dz = shapely.distance(shapely.points(xy)[:, None], zone_arr[None, :])
        dh2 = ((xy[:, None, :] - hamlets[None]) ** 2).sum(axis=2)
        reg = 0.12 + np.exp(-dc2 / (2 * CORE_SIGMA_M**2))
        reg = reg + (hamlet_w * np.exp(-dh2 / (2 * HAMLET_SIGMA_M**2))).sum(axis=1)
        reg = np.where((dz == 0).any(axis=1), 0.15 * reg, reg)
        mig = 0.02 + MIGRANT_CORE_SHARE * np.exp(-dc2 / (2 * 1000.0**2))
        mig = mig + (zone_w * np.exp(-(dz**2) / (2 * ZONE_SIGMA_M**2))).sum(axis=1)
        return reg, mig

    return f


def _frame(kind: str, rows: list[dict] | dict[str, list]) -> Frame:
    """A frame with exactly the columns of ``SPECS[kind]`` (plus geometry), in WGS84."""
    spec = SPECS[kind]
    if isinstance(rows, list):
        keys = [*spec.field_names, "geometry"] if spec.geometry else spec.field_names
        rows = {k: [r[k] for r in rows] for k in keys}
    data = {}
    for f in spec.fields:
        vals = rows[f.name]
        if f.type == "int":
            dtype = "Int64" if any(v is None for v in vals) else "int64"
            data[f.name] = pd.Series(vals, dtype=dtype)
        else:
            data[f.name] = pd.Series(vals, dtype="str")
    df = pd.DataFrame(data)
    if spec.geometry is None:
        return df
    return gpd.GeoDataFrame(df, geometry=list(rows["geometry"]), crs=METRIC_CRS).to_crs(STORAGE_CRS)


def build_town(seed: int = 7) -> dict[str, Frame]:
    """Deterministic synthetic town: same seed -> identical frames.

    Parameters
    ----------
    seed : int
        Seed of the ``numpy.random.default_rng`` that drives every random choice.

    Returns
    -------
    dict of str to GeoDataFrame or DataFrame
        Frames keyed by layer name (``town``, ``villages``, ``grid_cells``, ``police_beats``,
        ``fire_stations``, ``fire_station_coverage``, ``gazetteer``, ``pois``,
        ``industrial_zones``, ``roads``, ``departments``, ``teams``, ``officers``), with the
        columns of :data:`layers.SPECS`; spatial frames are in EPSG:4326.
    """
    rng = np.random.default_rng(seed)
    to_m = Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    centre = Point(to_m.transform(CENTRE_LON, CENTRE_LAT))

    # Outline, roads, zones, density.
    area = rng.uniform(*TOWN_AREA_KM2) * 1e6
    outline = geom.town_outline(rng, centre.x, centre.y, area)
    n_roads = _draw(rng, N_ROADS)
    lines = geom.main_roads(rng, outline, centre, n_roads, ROADS_THROUGH_CENTRE)
    pick = rng.permutation(len(SECONDARY_ROADS))[: n_roads - ROADS_THROUGH_CENTRE]
    road_names = [*PRIMARY_ROADS[:ROADS_THROUGH_CENTRE], *(SECONDARY_ROADS[i] for i in pick)]
    zones = geom.industrial_zones(
        rng, outline, centre, lines, _draw(rng, N_ZONES), ZONE_MIN_CORE_DISTANCE_M
    )
    density = _density_model(rng, outline, centre, zones)
    xy = geom.lattice(outline, LATTICE_STEP_M)
    reg_d, mig_d = density(xy)
    reg_total, mig_total = _draw(rng, REGISTERED_TOTAL), _draw(rng, MIGRANT_TOTAL)
    reg_pp = reg_d / reg_d.sum() * reg_total  # people per lattice point
    mig_pp = mig_d / mig_d.sum() * mig_total

    # Grid cells.
    weight = (reg_d / reg_d.mean() + mig_d / mig_d.mean()) ** CELL_DENSITY_EXPONENT
    seeds = geom.weighted_seeds(rng, xy, weight, _draw(rng, N_GRID_CELLS), LLOYD_ITERATIONS)
    cells = np.array(geom.tessellate(outline, seeds), dtype=object)
    town = shapely.coverage_union_all(cells)
    pt_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(xy), predicate="within")
    noise = rng.lognormal(0.0, POP_NOISE_SIGMA, (2, len(cells)))
    eps = shapely.area(cells) * 1e-9
    cell_reg = gaz.apportion(
        reg_total, (np.bincount(cell_idx, reg_pp[pt_idx], len(cells)) + eps) * noise[0]
    )
    cell_mig = gaz.apportion(
        mig_total, (np.bincount(cell_idx, mig_pp[pt_idx], len(cells)) + eps) * noise[1]
    )

    # Villages: contiguous k-means groups of cells; the ones nearest the centre are 社区.
    cxy = shapely.get_coordinates(shapely.centroid(cells))
    vlab = geom.kmeans(rng, cxy, _draw(rng, N_VILLAGES), np.ones(len(cells)))
    vlab = geom.make_contiguous(vlab, geom.adjacency(cells), shapely.area(cells))
    _, vlab = np.unique(vlab, return_inverse=True)
    vpolys = geom.dissolve(cells, vlab, int(vlab.max()) + 1)
    vxy = shapely.get_coordinates(shapely.centroid(np.array(vpolys, dtype=object)))
    n_comm = _draw(rng, N_COMMUNITIES)
    is_comm = np.zeros(len(vpolys), bool)
    is_comm[np.argsort(np.hypot(*(vxy - [centre.x, centre.y]).T), kind="stable")[:n_comm]] = True
    order = np.lexsort((_clockwise(vxy, centre), ~is_comm))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    vlab = rank[vlab]  # villages now numbered in code order
    vpolys = [vpolys[k] for k in order]
    vkind = ["社区" if is_comm[k] else "村" for k in order]
    vcode = [
        f"{TOWN_CODE}{(i + 1 if kind == '社区' else 200 + i + 1 - n_comm):03d}"
        for i, kind in enumerate(vkind)
    ]
    stems = names.village_stems(rng, len(vpolys))
    vname = [s + k for s, k in zip(stems, vkind, strict=True)]
    vreg = np.bincount(vlab, cell_reg, len(vpolys)).astype(np.int64)
    vmig = np.bincount(vlab, cell_mig, len(vpolys)).astype(np.int64)

    # Cells in code order: by village, then in rows from north to south, west to east.
    corder = np.lexsort((cxy[:, 0], -np.round(cxy[:, 1] / 400.0), vlab))
    cells, vlab, cxy = cells[corder], vlab[corder], cxy[corder]
    cell_reg, cell_mig = cell_reg[corder], cell_mig[corder]
    seq = np.zeros(len(cells), np.int64)
    for k in range(len(vpolys)):
        seq[vlab == k] = np.arange(1, int((vlab == k).sum()) + 1)
    ccode = [f"{vcode[k]}{s:03d}" for k, s in zip(vlab, seq, strict=True)]
    cname = [f"{vname[k]}第{s}网格" for k, s in zip(vlab, seq, strict=True)]
    households = np.round(cell_reg / HOUSEHOLD_SIZE + cell_mig / MIGRANT_HOUSEHOLD_SIZE)

    # Police beats: contiguous k-means groups of whole villages, weighted by population.
    varr = np.array(vpolys, dtype=object)
    vxy = shapely.get_coordinates(shapely.centroid(varr))
    vpop = (vreg + vmig).astype(float)
    blab = geom.kmeans(rng, vxy, _draw(rng, N_BEATS), vpop)
    blab = geom.make_contiguous(blab, geom.adjacency(varr), vpop)
    _, blab = np.unique(blab, return_inverse=True)
    bpolys = geom.dissolve(cells, blab[vlab], int(blab.max()) + 1)
    bxy = shapely.get_coordinates(shapely.centroid(np.array(bpolys, dtype=object)))
    border = np.argsort(_clockwise(bxy, centre), kind="stable")
    bpolys = [bpolys[k] for k in border]
    bcode = [f"{TOWN_CODE}J{i:02d}" for i in range(1, len(bpolys) + 1)]

    # Places.
    offices = gaz.village_offices(xy, reg_d, vpolys)
    rows = zip(vcode, vname, stems, vkind, vpolys, vreg, offices, strict=True)
    villages = [gaz.Village(c, n, s, k, p, int(r), o) for c, n, s, k, p, r, o in rows]
    counts = {
        "factory": _draw(rng, N_FACTORIES),
        "market": _draw(rng, N_MARKETS),
        "school": _draw(rng, N_SCHOOLS),
        "rental_housing": _draw(rng, N_RENTAL_BLOCKS),
        "hospital": _draw(rng, N_HOSPITALS),
    }
    pois = gaz.build_pois(rng, villages, zones, xy, mig_d, centre, counts)
    for i, p in enumerate(pois, start=1):
        p["id"] = f"P{i:04d}"
        p["village_code"] = vcode[p["village"]]

    # Fire stations: greedy maximal coverage of people within the off-road 3-minute radius,
    # one candidate per village (near its office).
    local = FIRE_LOCAL_SPEED_KMH / 3.6
    radius = FIRE_MINUTES * 60 * local
    people = reg_pp + mig_pp
    covered = np.zeros(len(xy), bool)
    office_xy = shapely.get_coordinates(np.array(offices, dtype=object))
    reach = np.hypot(*(xy[:, None, :] - office_xy[None]).transpose(2, 0, 1)) <= radius
    picks: list[int] = []
    for _ in range(_draw(rng, N_FIRE_STATIONS)):
        gain = (reach & ~covered[:, None]).T @ people
        gain[picks] = -1.0
        picks.append(int(gain.argmax()))
        covered |= reach[:, picks[-1]]
    smart = set(picks[:N_SMART_STATIONS])
    stations = []
    for k in sorted(picks):
        kind = "智慧消防站" if k in smart else "微型消防站"
        where = gaz.near_point(rng, offices[k], villages[k].inner, 30.0, 80.0)
        crew = _draw(rng, SMART_CREW if k in smart else MICRO_CREW)
        stations.append({"name": vname[k] + kind, "kind": kind, "crew": crew, "geometry": where})
    seconds, road_speed = FIRE_MINUTES * 60, FIRE_ROAD_SPEED_KMH / 3.6
    for i, s in enumerate(stations, start=1):
        s["code"] = f"{TOWN_CODE}X{i:02d}"
        s["coverage"] = geom.isochrone(s["geometry"], lines, town, seconds, local, road_speed)

    # Gazetteer.
    params = {
        "people_per_group": PEOPLE_PER_GROUP,
        "min_groups": GROUPS_PER_VILLAGE[0],
        "max_groups": GROUPS_PER_VILLAGE[1],
        "group_houses": GAZ_GROUP_HOUSES,
        "household_size": HOUSEHOLD_SIZE,
        "house_spread": HOUSE_SPREAD_M,
        "road_houses": GAZ_ROAD_HOUSES,
        "road_number_step": ROAD_NUMBER_STEP_M,
        "road_house_offset": ROAD_HOUSE_OFFSET_M,
    }
    reg_mean, mig_mean = reg_d.mean(), mig_d.mean()

    def people_density(p: np.ndarray) -> np.ndarray:
        r, m = density(p)
        return r / reg_mean + m / mig_mean

    entries = gaz.build_gazetteer(
        rng, TOWN_NAME, centre, villages, list(zip(road_names, lines, strict=True)), pois, xy,
        reg_d, people_density, params,
    )  # fmt: skip
    for i, e in enumerate(entries, start=1):
        e["id"] = f"A{i:05d}"

    # People: grid officers, beat officers, station leads, then per team enforcement + mediator.
    n_cells, n_beats, n_st = len(cells), len(bpolys), len(stations)
    n_people = n_cells + n_beats + n_st + 2 * n_beats
    pname = names.person_names(rng, n_people)
    phone = names.mobile_numbers(rng, n_people + n_st + n_beats)
    officers: dict[str, list] = {k: [] for k in SPECS["officers"].field_names}

    def hire(oid: str, role: str, area: str, team: str | None = None) -> tuple[str, str, str]:
        i = len(officers["id"])
        for key, val in zip(officers, (oid, pname[i], role, phone[i], area, team), strict=True):
            officers[key].append(val)
        return oid, pname[i], phone[i]

    grid_staff = [hire(f"WG{i:03d}", "grid", c) for i, c in enumerate(ccode, start=1)]
    beat_staff = [hire(f"MJ{i:02d}", "beat", c) for i, c in enumerate(bcode, start=1)]
    for i, s in enumerate(stations, start=1):
        hire(f"XF{i:02d}", "fire", s["code"])
        s["phone"] = phone[n_people + i - 1]
    tcode = [f"T{i:02d}" for i in range(1, n_beats + 1)]
    for i, (t, b) in enumerate(zip(tcode, bcode, strict=True), start=1):
        hire(f"ZF{i:02d}", "enforcement", b, t)
        hire(f"TJ{i:02d}", "mediator", b, t)

    return {
        "town": _frame("town", {"code": [TOWN_CODE], "name": [TOWN_NAME], "geometry": [town]}),
        "villages": _frame("villages", {
            "code": vcode, "name": vname, "kind": vkind, "town_code": [TOWN_CODE] * len(vcode),
            "registered_pop": vreg.tolist(), "migrant_pop": vmig.tolist(), "geometry": vpolys,
        }),
        "grid_cells": _frame("grid_cells", {
            "code": ccode, "name": cname, "village_code": [vcode[k] for k in vlab],
            "officer_id": [g[0] for g in grid_staff], "officer_name": [g[1] for g in grid_staff],
            "officer_phone": [g[2] for g in grid_staff], "registered_pop": cell_reg.tolist(),
            "migrant_pop": cell_mig.tolist(), "households": households.astype(int).tolist(),
            "geometry": list(cells),
        }),
        "police_beats": _frame("police_beats", {
            "code": bcode, "name": [f"第{i}警格" for i in range(1, n_beats + 1)],
            "officer_id": [b[0] for b in beat_staff], "officer_name": [b[1] for b in beat_staff],
            "officer_phone": [b[2] for b in beat_staff],
            "police_station": [POLICE_STATION] * n_beats, "geometry": bpolys,
        }),
        "fire_stations": _frame("fire_stations", stations),
        "fire_station_coverage": _frame("fire_station_coverage", {
            "station_code": [s["code"] for s in stations], "minutes": [FIRE_MINUTES] * n_st,
            "geometry": [s["coverage"] for s in stations],
        }),
        "gazetteer": _frame("gazetteer", entries),
        "pois": _frame("pois", pois),
        "industrial_zones": _frame("industrial_zones", {
            "code": [f"{TOWN_CODE}Z{i:02d}" for i in range(1, len(zones) + 1)],
            "name": [f"{TOWN_NAME}{ZONE_TRADES[i]}工业功能区" for i in range(len(zones))],
            "geometry": zones,
        }),
        "roads": _frame("roads", {
            "name": road_names,
            "kind": ["primary" if n in PRIMARY_ROADS else "secondary" for n in road_names],
            "geometry": lines,
        }),
        "departments": _frame("departments", {
            "code": [f"D{i:02d}" for i in range(1, len(DEPARTMENTS) + 1)],
            "name": list(DEPARTMENTS),
        }),
        "teams": _frame("teams", {
            "code": tcode, "name": [f"第{i}处置队" for i in range(1, n_beats + 1)],
            "beat_code": bcode, "phone": phone[n_people + n_st :],
        }),
        "officers": _frame("officers", officers),
    }  # fmt: skip
