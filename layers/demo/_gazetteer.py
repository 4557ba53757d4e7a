"""Places of interest and the address gazetteer of the demo town (metres, EPSG:4549).

Canonical addresses (the ``address`` column; the geocoder matches messy text against them):

- town ``演示镇``; village ``演示镇{village}``; road ``演示镇{road}``;
- group (村民小组) ``演示镇{village}{n}组``; village house ``演示镇{village}{n}组{no}号``;
- road house ``演示镇{road}{no}号`` (odd numbers on the left of the road's direction, even on the
  right; roads run west to east or south to north);
- POI ``演示镇{village}{poi}``, except that a POI name already starting with its village's name
  (``青溪村村委会``) is not prefixed twice: ``演示镇青溪村村委会``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from layers.demo import _geometry as geom
from layers.demo import _names as names

#: Points are kept at least this far (metres) inside their village, so that they stay inside
#: it after the transformation to WGS84.
MARGIN_M = 3.0


@dataclass
class Village:
    """What the POI and gazetteer builders need to know about one village or community."""

    code: str
    name: str
    stem: str
    kind: str
    poly: Polygon
    registered_pop: int
    office: Point

    def __post_init__(self) -> None:
        self.inner = self.poly.buffer(-MARGIN_M)


def apportion(total: int, weight: np.ndarray) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weight`` (largest remainders)."""
    q = weight / weight.sum() * total
    base = np.floor(q).astype(np.int64)
    order = np.argsort(-(q - base), kind="stable")
    base[order[: total - int(base.sum())]] += 1
    return base


def locate(xy: np.ndarray, villages: list[Village]) -> np.ndarray:
    """Index of the village whose inner polygon holds each point, -1 where none does."""
    out = np.full(len(xy), -1, dtype=np.int64)
    for k, v in enumerate(villages):
        out[shapely.contains_xy(v.inner, xy[:, 0], xy[:, 1]) & (out < 0)] = k
    return out


def village_offices(xy: np.ndarray, registered: np.ndarray, polys: list[Polygon]) -> list[Point]:
    """Put each village office at the densest lattice point well inside the village."""
    offices = []
    for poly in polys:
        inside = shapely.contains_xy(poly.buffer(-60.0), xy[:, 0], xy[:, 1])
        if inside.any():
            i = np.flatnonzero(inside)[registered[inside].argmax()]
            offices.append(Point(xy[i]))
        else:
            offices.append(poly.point_on_surface())
    return offices


def near_point(
    rng: np.random.Generator, ref: Point, inner: Polygon, rmin: float, rmax: float
) -> Point:
    """A random point ``rmin``-``rmax`` metres from ``ref`` inside ``inner`` (else ``ref``)."""
    for _ in range(200):
        a, r = rng.uniform(0.0, 2.0 * np.pi), rng.uniform(rmin, rmax)
        p = Point(ref.x + r * np.cos(a), ref.y + r * np.sin(a))
        if inner.contains(p):
            return p
    return ref


def _scatter(
    rng: np.random.Generator, centre: np.ndarray, spread: float, inner: Polygon, n: int
) -> np.ndarray:
    """``n`` points normally scattered around ``centre`` and inside ``inner``."""
    out = np.empty((0, 2))
    for _ in range(100):
        xy = centre + rng.normal(0.0, spread, (max(2 * n, 16), 2))
        out = np.vstack([out, xy[shapely.contains_xy(inner, xy[:, 0], xy[:, 1])]])
        if len(out) >= n:
            return out[:n]
        spread *= 0.8
    return np.vstack([out, np.repeat(centre[None], n - len(out), axis=0)])[:n]


def build_pois(
    rng: np.random.Generator,
    villages: list[Village],
    zones: list[Polygon],
    xy: np.ndarray,
    migrant: np.ndarray,
    centre: Point,
    counts: dict[str, int],
) -> list[dict]:
    """POIs as dicts with ``name``, ``kind``, ``village`` (index) and ``geometry``.

    ``counts`` gives ``factory``, ``market``, ``school``, ``rental_housing`` and ``hospital``.
    Village offices (one per village) come first, then the others kind by kind.
    """
    pois: list[dict] = []

    def add(name: str, kind: str, p: Point) -> None:
        k = int(locate(shapely.get_coordinates(p), villages)[0])
        if k >= 0:
            pois.append({"name": name, "kind": kind, "village": k, "geometry": p})

    for v in villages:
        add(v.name + ("村委会" if v.kind == "村" else "居委会"), "village_office", v.office)

    # Central services near the community holding the town centre, then the most populous
    # villages, each at most once per kind.
    core = next((k for k, v in enumerate(villages) if v.poly.contains(centre)), 0)
    by_pop = [int(k) for k in np.argsort([-v.registered_pop for v in villages], kind="stable")]
    others = [k for k in by_pop if k != core]
    markets = [("中心农贸市场", core), ("五金城", core)]
    markets += [(villages[k].stem + "农贸市场", k) for k in others]
    schools = [("中心小学", core), ("初级中学", core), ("中心幼儿园", core)]
    schools += [(villages[k].stem + ("小学", "幼儿园")[i % 2], k) for i, k in enumerate(others)]
    clinics = [("中心卫生院", core)]
    clinics += [(villages[k].stem + "卫生服务站", k) for k in others if villages[k].kind == "社区"]
    for kind, todo, rmin, rmax in (
        ("market", markets, 120.0, 400.0),
        ("school", schools, 150.0, 500.0),
        ("hospital", clinics, 100.0, 350.0),
    ):
        for name, k in todo[: counts[kind]]:
            v = villages[k]
            add(name, kind, near_point(rng, v.office, v.inner, rmin, rmax))

    # Factories inside the industrial zones, in proportion to zone area, 45 m apart at least.
    firms = iter(names.firm_names(rng, counts["factory"]))
    per_zone = apportion(counts["factory"], np.array([z.area for z in zones]))
    for zone, n in zip(zones, per_zone, strict=True):
        x0, y0, x1, y1 = zone.bounds
        cand = np.column_stack([rng.uniform(x0, x1, 40 * n), rng.uniform(y0, y1, 40 * n)])
        cand = cand[shapely.contains_xy(zone.buffer(-25.0), cand[:, 0], cand[:, 1])]
        cand = cand[locate(cand, villages) >= 0]
        for i in geom.spaced_pick(rng, cand, np.ones(len(cand)), int(n), 45.0):
            add(next(firms), "factory", Point(cand[i]))

    # Rental housing in the villages around the zones, where migrants live.
    zone_dist = shapely.distance(shapely.points(xy)[:, None], np.array(zones)[None, :]).min(axis=1)
    near = (zone_dist > 30.0) & (zone_dist < 900.0) & (locate(xy, villages) >= 0)
    cand = xy[near] + rng.uniform(-25.0, 25.0, (int(near.sum()), 2))
    ok = locate(cand, villages) >= 0
    cand, weight = cand[ok], migrant[near][ok]
    picks = geom.spaced_pick(rng, cand, weight, counts["rental_housing"], 120.0)
    for name, i in zip(names.rental_names(rng, len(picks)), picks, strict=True):
        add(name, "rental_housing", Point(cand[i]))
    return pois


def _entry(address: str, level: str, p: Point, village: Village | None = None, **parts) -> dict:
    return {
        "address": address,
        "level": level,
        "village_code": village.code if village else None,
        "village": village.name if village else None,
        "group_no": parts.get("group_no"),
        "road": parts.get("road"),
        "house_no": parts.get("house_no"),
        "poi": parts.get("poi"),
        "geometry": p,
    }


def build_gazetteer(
    rng: np.random.Generator,
    town_name: str,
    town_point: Point,
    villages: list[Village],
    roads: list[tuple[str, LineString]],
    pois: list[dict],
    xy: np.ndarray,
    registered: np.ndarray,
    density: Callable[[np.ndarray], np.ndarray],
    params: dict[str, float],
) -> list[dict]:
    """Gazetteer entries (dicts with the gazetteer columns but ``id``, plus ``geometry``).

    ``params``: ``people_per_group``, ``min_groups``, ``max_groups``, ``group_houses`` (total
    village-house entries), ``household_size``, ``house_spread`` (metres), ``road_houses``
    (expected road-house entries), ``road_number_step`` and ``road_house_offset`` (metres).
    """
    out = [_entry(town_name, "town", town_point)]
    out += [_entry(town_name + v.name, "village", v.office, v) for v in villages]

    # 村民小组: centres at dense lattice points of the village, spread apart; 1组 nearest the
    # office. Registered people are shared out among the groups.
    groups: list[tuple[Village, int, np.ndarray, int]] = []
    for v in villages:
        want = int(
            np.clip(
                round(v.registered_pop / params["people_per_group"]),
                params["min_groups"],
                params["max_groups"],
            )
        )
        inside = shapely.contains_xy(v.poly.buffer(-40.0), xy[:, 0], xy[:, 1])
        cand, weight = xy[inside], registered[inside]
        centres = np.empty((0, 2))
        spacing = 300.0
        while len(centres) < want and spacing > 20.0 and len(cand):
            centres = cand[geom.spaced_pick(rng, cand, weight, want, spacing)]
            spacing *= 0.7
        if not len(centres):
            centres = shapely.get_coordinates(v.office)
        office = shapely.get_coordinates(v.office)[0]
        centres = centres[np.argsort(np.hypot(*(centres - office).T), kind="stable")]
        pops = apportion(v.registered_pop, rng.gamma(3.0, 1.0, len(centres)))
        for g, (c, pop) in enumerate(zip(centres, pops, strict=True), start=1):
            groups.append((v, g, c, int(pop)))
            out.append(_entry(f"{town_name}{v.name}{g}组", "group", Point(c), v, group_no=g))

    # Village houses: a sample of each group's house numbers, clustered round its centre and
    # numbered along a random lane direction.
    n_houses = apportion(int(params["group_houses"]), np.array([g[3] for g in groups], float))
    for (v, g, c, pop), n in zip(groups, n_houses, strict=True):
        if n == 0:
            continue
        households = max(int(n), round(pop / params["household_size"]))
        numbers = np.sort(rng.choice(households, size=int(n), replace=False) + 1)
        pts = _scatter(rng, c, params["house_spread"], v.inner, int(n))
        a = rng.uniform(0.0, np.pi)
        pts = pts[np.argsort(pts @ np.array([np.cos(a), np.sin(a)]), kind="stable")]
        for no, p in zip(numbers, pts, strict=True):
            out.append(
                _entry(
                    f"{town_name}{v.name}{g}组{no}号",
                    "house",
                    Point(p),
                    v,
                    group_no=g,
                    house_no=str(no),
                )
            )

    # Roads: one entry at the midpoint; house numbers every ``road_number_step`` metres,
    # alternating sides, kept where people live (probability follows the density).
    step, offset = params["road_number_step"], params["road_house_offset"]
    lines = [(name, line, np.arange(1, int(line.length // step))) for name, line in roads]
    dens = [
        density(shapely.get_coordinates(shapely.line_interpolate_point(ln, no * step)))
        for _, ln, no in lines
    ]
    scale = params["road_houses"] / sum(float(d.sum()) for d in dens)
    for (name, line, no), d in zip(lines, dens, strict=True):
        out.append(
            _entry(f"{town_name}{name}", "road", line.interpolate(0.5, normalized=True), road=name)
        )
        keep = rng.random(len(no)) < np.minimum(1.0, d * scale)
        no, s = no[keep], no[keep] * step
        side = np.where(no % 2 == 1, 1.0, -1.0)[:, None]
        base = shapely.get_coordinates(shapely.line_interpolate_point(line, s))
        pts = base + side * offset * geom.unit_normal(line, s)
        where = locate(pts, villages)
        for n_, p, k in zip(no, pts, where, strict=True):
            if k >= 0:
                out.append(
                    _entry(
                        f"{town_name}{name}{n_}号",
                        "house",
                        Point(p),
                        villages[k],
                        road=name,
                        house_no=str(n_),
                    )
                )

    for poi in pois:
        v = villages[poi["village"]]
        text = poi["name"] if poi["name"].startswith(v.name) else v.name + poi["name"]
        out.append(_entry(town_name + text, "poi", poi["geometry"], v, poi=poi["name"]))
    return out
