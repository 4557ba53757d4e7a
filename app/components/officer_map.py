"""The officer view's map: my area, my task points, and around them the town as Ember draws it.

With no tile basemap (the default: phones on the intranet fetch nothing from outside), a lone
outline on a grey ground tells an officer in a factory yard nothing about where it is; the map
draws Ember's own layers under the area instead — roads, the villages with their names, the
town's edge — as the wall does, cut to the part of the town around the map's view so that a
phone is not sent the whole town.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import shapely
from shapely.geometry import shape

from app.basemap import Basemap
from app.components.officer_cards import LISTS, category_name
from app.components.town_map import TownData, basemap_overlays
from app.i18n import Lang
from app.officer_actions import Tasks
from store import User

MAP_ID = "officer-map"
POINTS_ID = "officer-points"
#: Role -> (layer, property holding the area code) drawn as "my area".
AREA_LAYERS = {
    "grid": ("grid_cells", "code"),
    "beat": ("police_beats", "code"),
    "station": ("fire_station_coverage", "station_code"),
}
#: The town's layers drawn under the area when there is no tile basemap, bottom first: white
#: roads and grey outlines on the light ground, leaving the area (blue) and the task points
#: (red, orange, blue) standing out.
CONTEXT = {
    "villages": {"color": "#868e96", "weight": 1.5, "dashArray": "5 5", "fill": False},
    "roads": {"color": "#ffffff", "weight": 5, "opacity": 1},
    "town": {"color": "#495057", "weight": 3, "fill": False},
}
CONTEXT_ID = "officer-context-{}"
LABELS_ID = "officer-context-labels"


def title_key(account: User) -> str:
    """The page's title: 我的网格 for an account with an area, 我的任务 for a team or a
    department (their area is wherever their incidents are)."""
    return "me.title" if account.role in AREA_LAYERS else "me.title.tasks"


def area_collection(data: TownData, account: User) -> dict[str, Any]:
    """The account's areas as GeoJSON (grid cells, beat, station coverage; none for teams and
    departments, whose area is where their incidents are)."""
    layer = AREA_LAYERS.get(account.role)
    if layer is None:
        return {"type": "FeatureCollection", "features": []}
    name, prop = layer
    codes = set(account.areas)
    features = data.layers.get(name, {"features": []})["features"]
    return {
        "type": "FeatureCollection",
        "features": [f for f in features if str(f["properties"].get(prop)) in codes],
    }


def task_points(tasks: Tasks, display: Any, lang: Lang = "zh") -> dict[str, Any]:
    """The tasks as display-coordinate points, tagged with their list and labelled with their
    category in ``lang``."""
    features = []
    for list_name, items in zip(
        LISTS, (tasks.to_arrive, tasks.to_handle, tasks.callbacks), strict=True
    ):
        for task in items:
            if task.lon is None or task.lat is None:
                continue
            x, y = display.point(task.lon, task.lat)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {
                        "id": task.id,
                        "list": list_name,
                        "label": category_name(task, lang),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _bounds(area: dict[str, Any], points: dict[str, Any], data: TownData) -> list[list[float]]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for part in c:
                walk(part)

    for f in [*area["features"], *points["features"]]:
        if f.get("geometry"):
            walk(f["geometry"]["coordinates"])
    if not xs:
        west, south, east, north = data.bounds
    else:
        west, south, east, north = min(xs), min(ys), max(xs), max(ys)
    pad = 0.002
    return [[south - pad, west - pad], [north + pad, east + pad]]


def area_map(
    data: TownData, basemap: Basemap | str, area: dict[str, Any], points: dict[str, Any]
) -> dl.Map:
    """A light map of my area with my task points (red: to arrive, orange: to handle, blue:
    callbacks), over the basemap's tiles or, without tiles, over :func:`context_layers`."""
    layers: list[Any] = [
        dl.GeoJSON(
            data=area,
            style={"color": "#003f88", "weight": 3, "fillColor": "#4cc9f0", "fillOpacity": 0.15},
            interactive=False,
            id="officer-area",
        ),
        dl.GeoJSON(
            data=points,
            pointToLayer={"variable": "dashExtensions.officer.taskToLayer"},
            id=POINTS_ID,
        ),
    ]
    overlays = basemap_overlays(basemap)
    bounds = _bounds(area, points, data)
    children = [dl.LayersControl(overlays, collapsed=True)] if overlays else []
    under = [] if overlays else context_layers(data, bounds)
    return dl.Map(
        [*children, *under, *layers, dl.ScaleControl(position="bottomleft", imperial=False)],
        id=MAP_ID,
        className="officer-map",
        bounds=bounds,
        trackViewport=False,
        zoomSnap=0.5,
        maxZoom=20,
        attributionControl=False,
    )


def _near(collection: dict[str, Any] | None, window: Any) -> dict[str, Any]:
    """The features of ``collection`` that meet the box ``window`` (whole, not clipped)."""
    features = [f for f in (collection or {}).get("features", []) if f.get("geometry")]
    geoms = [shape(f["geometry"]) for f in features]
    hits = shapely.intersects(geoms, window).tolist() if geoms else []
    near = [f for f, hit in zip(features, hits, strict=True) if hit]
    return {"type": "FeatureCollection", "features": near}


def context_layers(data: TownData, bounds: list[list[float]]) -> list[dl.GeoJSON]:
    """Roads, villages with their names and the town's edge within one view's width around
    ``bounds`` (``[[south, west], [north, east]]``), as non-interactive layers."""
    (south, west), (north, east) = bounds
    dx, dy = east - west, north - south
    window = shapely.box(west - dx, south - dy, east + dx, north + dy)
    layers = []
    for name, style in CONTEXT.items():
        near = _near(data.layers.get(name), window)
        if near["features"]:
            layers.append(
                dl.GeoJSON(data=near, style=style, interactive=False, id=CONTEXT_ID.format(name))
            )
    labels = _near(data.labels, window)
    if labels["features"]:
        layers.append(
            dl.GeoJSON(
                data=labels,
                pointToLayer={"variable": "dashExtensions.ember.labelToLayer"},
                hideout={"label": "name", "labelClass": "officer-village-label"},
                interactive=False,
                id=LABELS_ID,
            )
        )
    return layers
