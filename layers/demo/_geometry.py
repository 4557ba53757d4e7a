"""Metric geometry for the demo town, in EPSG:4549 metres.

Pure functions of their arguments and of the ``numpy.random.Generator`` they are given: outline,
main roads, industrial zones, a density-adaptive Voronoi tessellation that tiles the town exactly,
contiguous regions of whole cells, and travel-time isochrones.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

#: Grid (metres) every tessellation vertex is snapped to, so shared edges are bit-identical.
SNAP_M = 0.01


def town_outline(rng: np.random.Generator, cx: float, cy: float, area_m2: float) -> Polygon:
    """Return an irregular star-shaped polygon of ``area_m2`` around ``(cx, cy)``."""
    n = 256
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    log_r = np.zeros(n)
    for k in range(2, 10):
        amp = rng.uniform(0.35, 1.0) * (0.16 if k == 2 else 0.24 / k)
        log_r += amp * np.cos(k * theta + rng.uniform(0.0, 2.0 * np.pi))
    noise = rng.normal(0.0, 0.025, n)
    kernel = np.array([0.25, 0.5, 0.25])
    noise = kernel[0] * np.roll(noise, 1) + kernel[1] * noise + kernel[2] * np.roll(noise, -1)
    r = np.exp(log_r + noise)
    shape = Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    scale = np.sqrt(area_m2 / shape.area)
    coords = np.asarray(shape.exterior.coords) * scale + [cx, cy]
    return Polygon(coords)


def _longest_line(geom: shapely.Geometry) -> LineString | None:
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, LineString) and not g.is_empty]
    if not parts:
        return None
    return max(parts, key=lambda g: g.length)


def _oriented(line: LineString) -> LineString:
    """Run a road west to east (mostly east-west roads) or south to north."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    flip = x1 < x0 if abs(x1 - x0) >= abs(y1 - y0) else y1 < y0
    return line.reverse() if flip else line


def main_roads(
    rng: np.random.Generator, town: Polygon, centre: Point, n: int, through_centre: int
) -> list[LineString]:
    """Return ``n`` gently winding roads that cross the town, clipped to it.

    The first ``through_centre`` pass close to the centre; the others are offset from it.
    Directions are spread evenly over 180 degrees so that no two roads run side by side.
    """
    radius = np.sqrt(town.area / np.pi)
    base = rng.uniform(0.0, np.pi)
    roads: list[LineString] = []
    tries = 0
    while len(roads) < n:
        tries += 1
        if tries > 1000:
            raise RuntimeError("could not lay out the main roads")
        angle = base + len(roads) * np.pi / n + rng.uniform(-0.12, 0.12)
        if len(roads) < through_centre:
            offset = rng.uniform(-250.0, 250.0)
        else:
            offset = rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.6) * radius
        amp, wavelength = rng.uniform(80.0, 300.0), rng.uniform(2500.0, 6000.0)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        t = np.arange(-2.2 * radius, 2.2 * radius + 1.0, 100.0)
        lateral = offset + amp * np.sin(2.0 * np.pi * t / wavelength + phase)
        u = np.array([np.cos(angle), np.sin(angle)])
        v = np.array([-u[1], u[0]])
        pts = np.array([centre.x, centre.y]) + t[:, None] * u + lateral[:, None] * v
        line = _longest_line(LineString(pts).intersection(town))
        if line is None or line.length < 1.2 * radius:
            continue
        roads.append(_oriented(line))
    return roads


def unit_normal(line: LineString, s: np.ndarray) -> np.ndarray:
    """Left-hand unit normals of ``line`` at distances ``s`` along it (shape (k, 2))."""
    a = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(s - 2.0, 0.0)))
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(line, np.minimum(s + 2.0, line.length))
    )
    d = b - a
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return np.column_stack([-d[:, 1], d[:, 0]])


def industrial_zones(
    rng: np.random.Generator,
    town: Polygon,
    centre: Point,
    roads: list[LineString],
    n: int,
    min_core_distance: float,
) -> list[Polygon]:
    """Return ``n`` irregular zone polygons of roughly 0.5-1.9 km² along the main roads."""
    inner = town.buffer(-300.0)
    zones: list[Polygon] = []
    tries = 0
    while len(zones) < n:
        tries += 1
        if tries > 20000:
            raise RuntimeError("could not place the industrial zones")
        road = roads[int(rng.integers(len(roads)))]
        s = rng.uniform(0.1, 0.9) * road.length
        p = shapely.get_coordinates(road.interpolate(s))[0]
        normal = unit_normal(road, np.array([s]))[0]
        c = p + rng.choice([-1.0, 1.0]) * rng.uniform(100.0, 450.0) * normal
        w, h = rng.uniform(900.0, 1700.0), rng.uniform(600.0, 1100.0)
        local = np.array([[-1, -1], [0, -1], [1, -1], [1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0]])
        local = local * [w / 2.0, h / 2.0] + rng.normal(0.0, 60.0, (8, 2))
        along = np.array([normal[1], -normal[0]])
        poly = Polygon(c + local[:, :1] * along + local[:, 1:] * normal)
        if not poly.is_valid or not inner.contains(poly):
            continue
        if centre.distance(poly) < min_core_distance:
            continue
        if any(poly.distance(z) < 600.0 for z in zones):
            continue
        zones.append(poly)
    return zones


def lattice(poly: Polygon, step: float) -> np.ndarray:
    """Points of a square lattice of spacing ``step`` that fall inside ``poly``, shape (k, 2)."""
    x0, y0, x1, y1 = poly.bounds
    gx, gy = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    return xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]


def nearest(xy: np.ndarray, sites: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Index of the nearest site for each point (brute force, chunked)."""
    out = np.empty(len(xy), dtype=np.int64)
    for i in range(0, len(xy), chunk):
        d = ((xy[i : i + chunk, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
        out[i : i + chunk] = d.argmin(axis=1)
    return out


def weighted_order(rng: np.random.Generator, weight: np.ndarray) -> np.ndarray:
    """A random permutation where heavier items tend to come first (Efraimidis-Spirakis)."""
    keys = np.log(rng.random(len(weight))) / np.maximum(weight, 1e-12)
    return np.argsort(-keys, kind="stable")


def spaced_pick(
    rng: np.random.Generator, xy: np.ndarray, weight: np.ndarray, n: int, min_dist: float
) -> np.ndarray:
    """Pick up to ``n`` indices of ``xy``, density-weighted, at least ``min_dist`` apart."""
    chosen: list[int] = []
    for i in weighted_order(rng, weight):
        if all(np.hypot(*(xy[i] - xy[j])) >= min_dist for j in chosen):
            chosen.append(int(i))
            if len(chosen) == n:
                break
    return np.array(chosen, dtype=np.int64)


def weighted_seeds(
    rng: np.random.Generator, xy: np.ndarray, weight: np.ndarray, n: int, iterations: int
) -> np.ndarray:
    """``n`` sites relaxed towards a centroidal Voronoi tessellation of the density ``weight``.

    In two dimensions such sites have a spatial density proportional to ``weight ** 0.5``, so
    cells are smaller where the weight is high.
    """
    idx = rng.choice(len(xy), size=n, replace=False, p=weight / weight.sum())
    seeds = xy[idx].astype(float)
    for _ in range(iterations):
        lab = nearest(xy, seeds)
        w = np.bincount(lab, weight, minlength=n)
        sx = np.bincount(lab, weight * xy[:, 0], minlength=n)
        sy = np.bincount(lab, weight * xy[:, 1], minlength=n)
        ok = w > 0
        seeds[ok] = np.column_stack([sx[ok] / w[ok], sy[ok] / w[ok]])
    return seeds


def adjacency(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of polygons sharing an edge, and the shared length."""
    tree = shapely.STRtree(polys)
    i, j = tree.query(polys, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    length = shapely.length(
        shapely.intersection(shapely.boundary(polys[i]), shapely.boundary(polys[j]))
    )
    edge = length > 0.05
    order = np.lexsort((j[edge], i[edge]))
    return i[edge][order], j[edge][order], length[edge][order]


def make_contiguous(
    labels: np.ndarray, edges: tuple[np.ndarray, np.ndarray, np.ndarray], size: np.ndarray
) -> np.ndarray:
    """Relabel units so that every label's units form one edge-connected group.

    For a label split into several components the largest (by ``size``) keeps it; each other
    component joins the neighbouring label it shares the longest border with. Every step
    lowers the total number of components, so the loop ends.
    """
    labels = labels.copy()
    n = len(labels)
    nbrs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for a, b, w in zip(*edges, strict=True):
        nbrs[int(a)].append((int(b), float(w)))
        nbrs[int(b)].append((int(a), float(w)))
    while True:
        comp = np.full(n, -1, dtype=np.int64)
        members: list[list[int]] = []
        for start in range(n):
            if comp[start] >= 0:
                continue
            comp[start] = len(members)
            group, queue = [start], deque([start])
            while queue:
                u = queue.popleft()
                for v, _ in nbrs[u]:
                    if comp[v] < 0 and labels[v] == labels[start]:
                        comp[v] = comp[start]
                        group.append(v)
                        queue.append(v)
            members.append(group)
        stray = None
        for lab in np.unique(labels):
            comps = [c for c in range(len(members)) if labels[members[c][0]] == lab]
            if len(comps) > 1:
                best = max(comps, key=lambda c: (size[members[c]].sum(), -c))
                stray = next(c for c in comps if c != best)
                break
        if stray is None:
            return labels
        border: dict[int, float] = {}
        for u in members[stray]:
            for v, w in nbrs[u]:
                if comp[v] != stray:
                    border[int(labels[v])] = border.get(int(labels[v]), 0.0) + w
        target = max(sorted(border), key=lambda lab: border[lab])
        labels[members[stray]] = target


def dissolve(polys: np.ndarray, labels: np.ndarray, n: int) -> list[Polygon]:
    """Union the polygons of each label ``0..n-1``; each result must be a single Polygon."""
    out = []
    for k in range(n):
        merged = shapely.coverage_union_all(polys[labels == k])
        if not isinstance(merged, Polygon):
            raise RuntimeError(f"region {k} is not one polygon: {merged.geom_type}")
        out.append(merged)
    return out


def tessellate(town: Polygon, seeds: np.ndarray) -> list[Polygon]:
    """Voronoi cells of ``seeds`` clipped to ``town``: an exact coverage of single polygons.

    Voronoi edges and the town boundary are noded together on a :data:`SNAP_M` grid and
    polygonized, so neighbouring cells share bit-identical edges. A cell cut in two by a bend
    of the boundary keeps its largest piece; the other pieces join a neighbour. Seeds whose
    cell falls outside the town are dropped.
    """
    envelope = town.envelope.buffer(5000.0)
    vor = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=envelope)
    )
    lines = np.append(shapely.boundary(vor), town.exterior)
    noded = shapely.union_all(lines, grid_size=SNAP_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    faces = faces[shapely.contains_xy(town, rep[:, 0], rep[:, 1])]
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    labels = make_contiguous(nearest(rep, seeds), adjacency(faces), shapely.area(faces))
    used, labels = np.unique(labels, return_inverse=True)
    return dissolve(faces, labels, len(used))


def kmeans(
    rng: np.random.Generator, xy: np.ndarray, k: int, weight: np.ndarray, iterations: int = 60
) -> np.ndarray:
    """Weighted k-means labels ``0..k-1`` (k-means++ start; an empty cluster is re-seeded)."""
    centres = [xy[int(rng.choice(len(xy), p=weight / weight.sum()))]]
    for _ in range(1, k):
        d2 = ((xy[:, None, :] - np.array(centres)[None]) ** 2).sum(axis=2).min(axis=1)
        p = d2 * weight
        centres.append(xy[int(rng.choice(len(xy), p=p / p.sum()))])
    c = np.array(centres, dtype=float)
    lab = nearest(xy, c)
    for _ in range(iterations):
        for q in range(k):
            members = lab == q
            if members.any():
                c[q] = np.average(xy[members], axis=0, weights=weight[members])
            else:
                c[q] = xy[int(((xy - c[lab]) ** 2).sum(axis=1).argmax())]
        new = nearest(xy, c)
        if np.array_equal(new, lab) and len(np.unique(new)) == k:
            break
        lab = new
    return lab


def isochrone(
    station: Point,
    roads: list[LineString],
    town: Polygon,
    seconds: float,
    local_speed: float,
    road_speed: float,
    step: float = 25.0,
) -> Polygon:
    """Area reachable from ``station`` within ``seconds``, clipped to ``town``.

    Travel model: ``local_speed`` (m/s) in any straight line off the main roads; a vehicle may
    drive straight to the nearest point of a main road, follow it at ``road_speed`` (m/s), and
    leave it again at ``local_speed``. The reachable area is the union of the local disc and,
    along each road, discs whose radius shrinks with the time spent getting there. Turning from
    one main road onto another is ignored. The piece containing the station is returned.
    """
    parts = [station.buffer(seconds * local_speed, quad_segs=16)]
    for road in roads:
        s0 = road.project(station)
        left = seconds - station.distance(road.interpolate(s0)) / local_speed
        if left <= 0:
            continue
        reach = left * road_speed
        s = np.arange(max(0.0, s0 - reach), min(road.length, s0 + reach) + step / 2, step)
        radius = (left - np.abs(s - s0) / road_speed) * local_speed
        ok = radius > 1.0
        pts = shapely.line_interpolate_point(road, s[ok])
        parts.extend(shapely.buffer(pts, radius[ok], quad_segs=8))
    area = shapely.union_all(parts).intersection(town)
    pieces = [p for p in shapely.get_parts(area) if isinstance(p, Polygon)]
    return next((p for p in pieces if p.contains(station)), max(pieces, key=lambda p: p.area))
