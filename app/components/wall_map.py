"""The wall's map: the town's layers drawn from Ember's own data (no tiles by default), the grid
choropleth, the clustered history layer (loaded once by URL), the live layer and the trinity.

Styles and point symbols are JS functions of ``assets/wall_map.js`` (``dashExtensions.wall``) and
``assets/ember_map.js`` (``dashExtensions.ember``); Python only wires them up.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl

from app.basemap import Basemap
from app.components import wall_hot
from app.components.town_map import TownData, basemap_overlays, empty_collection, has_attribution
from app.i18n import Lang, t

MAP_ID = "wall-map"
HISTORY_ID = "wall-incidents"
LIVE_ID = "wall-live"
TRINITY_ID = "wall-trinity"
GRID_ID = "wall-grid"

#: supercluster settings: cluster until street level, then single points. Index only the zoom
#: levels a town is viewed at (minZoom 9, about a county): half the index time at 100,000.
CLUSTER_OPTIONS = {"radius": 70, "minZoom": 9, "maxZoom": 16, "minPoints": 3}


def _js(ns: str, name: str) -> dict[str, str]:
    return {"variable": f"dashExtensions.{ns}.{name}"}


def _base(data: TownData, name: str, **props: Any) -> dl.GeoJSON:
    return dl.GeoJSON(
        data=data.layers.get(name, empty_collection()),
        style=_js("wall", "baseStyle"),
        hideout={"kind": name},
        interactive=False,
        **props,
    )


def _overlay(label: str, pane: str, z: int, children: list[Any], checked: bool = True) -> Any:
    group = dl.LayerGroup(dl.Pane(children, name=pane, style={"zIndex": z}))
    return dl.Overlay(group, name=label, checked=checked)


def wall_map(
    data: TownData,
    history_url: str,
    counts: dict[str, int],
    basemap: Basemap | str,
    lang: Lang = "zh",
) -> dl.Map:
    """The map of the wall, fitted to the town.

    Parameters
    ----------
    data : TownData
        The town's layers.
    history_url : str
        URL of the first history layer (the page replaces it when filters change).
    counts : dict
        Open incidents per grid code, for the choropleth.
    basemap : Basemap or str
        The basemap (:func:`app.basemap.basemap_of`) or a tile URL template; ``none`` or empty
        draws Ember's own layers only. ``data`` is already in the basemap's display coordinates.
    lang : {"zh", "en"}
        Language of the layer control and of the symbols' labels.
    """
    overlays: list[Any] = basemap_overlays(basemap, t("layer.basemap", lang))
    grid = dl.GeoJSON(
        data=data.layers.get("grid_cells", empty_collection()),
        style=_js("wall", "gridStyle"),
        hideout={"counts": counts, "max": max(counts.values(), default=1)},
        interactive=False,
        id=GRID_ID,
    )
    labels = dl.GeoJSON(
        data=data.labels,
        pointToLayer=_js("ember", "labelToLayer"),
        hideout={"label": "name", "labelClass": "ember-village-label"},
        interactive=False,
    )
    history = dl.GeoJSON(
        url=history_url or None,
        cluster=True,
        superClusterOptions=CLUSTER_OPTIONS,
        pointToLayer=_js("wall", "pointToLayer"),
        clusterToLayer=_js("wall", "clusterToLayer"),
        zoomToBoundsOnClick=True,
        hideout={"lang": lang},
        id=HISTORY_ID,
    )
    live = dl.GeoJSON(
        data=empty_collection(), pointToLayer=_js("wall", "livePointToLayer"), id=LIVE_ID
    )
    trinity = dl.GeoJSON(
        data=empty_collection(),
        style=_js("wall", "trinityStyle"),
        pointToLayer=_js("wall", "trinityPoint"),
        interactive=False,
        id=TRINITY_ID,
    )
    stations = dl.GeoJSON(
        data=data.layers.get("fire_stations", empty_collection()),
        pointToLayer=_js("wall", "stationToLayer"),
        hideout={"glyph": t("station.glyph", lang)},
        interactive=False,
    )
    overlays += [
        _overlay(t("layer.grid", lang), "wall-grid", 400, [grid]),
        _overlay(
            t("layer.villages", lang),
            "wall-villages",
            410,
            [_base(data, "villages"), labels],
            checked=False,
        ),
        _overlay(t("layer.roads", lang), "wall-roads", 415, [_base(data, "roads")]),
        _overlay(
            t("layer.coverage", lang),
            "wall-coverage",
            420,
            [_base(data, "fire_station_coverage")],
            False,
        ),
        _overlay(t("layer.beats", lang), "wall-beats", 430, [_base(data, "police_beats")]),
        _overlay(t("layer.town", lang), "wall-town", 440, [_base(data, "town")]),
        _overlay(t("layer.stations", lang), "wall-stations", 445, [stations]),
        *wall_hot.overlays(lang),
        _overlay(t("layer.trinity", lang), "wall-trinity", 600, [trinity]),
        _overlay(t("layer.points", lang), "wall-points", 620, [history]),
        _overlay(t("layer.live", lang), "wall-live", 640, [live]),
    ]
    west, south, east, north = data.bounds
    return dl.Map(
        [
            dl.LayersControl(overlays, collapsed=True, position="topright", id=wall_hot.CONTROL_ID),
            dl.ScaleControl(position="bottomleft", imperial=False),
        ],
        id=MAP_ID,
        className="wall-leaflet",
        bounds=[[south, west], [north, east]],
        boundsOptions={"padding": [16, 16]},
        trackViewport=False,
        preferCanvas=True,
        minZoom=9,
        zoomSnap=0.25,
        zoomDelta=0.5,
        maxZoom=19,
        attributionControl=bool(overlays and has_attribution(basemap)),
        style={"width": "100%", "height": "100%"},
    )


def trinity_geojson(data: TownData, detail: dict[str, Any]) -> dict[str, Any]:
    """The clicked incident's grid cell, police beat and fire station (with its coverage),
    and the incident itself, as one FeatureCollection with ``kind`` properties."""
    wanted = (
        ("grid_cells", "code", detail.get("grid_code"), "grid"),
        ("police_beats", "code", detail.get("beat_code"), "beat"),
        ("fire_station_coverage", "station_code", detail.get("station_code"), "coverage"),
        ("fire_stations", "code", detail.get("station_code"), "station"),
    )
    features: list[dict[str, Any]] = []
    for layer, key, code, kind in wanted:
        if not code:
            continue
        for f in data.layers.get(layer, empty_collection())["features"]:
            if (f.get("properties") or {}).get(key) == code:
                features.append({**f, "properties": {"kind": kind, "code": code}})
    lon, lat = detail.get("lonlat") or (None, None)
    if lon is not None and lat is not None:
        point = {"type": "Point", "coordinates": [lon, lat]}
        features.append({"type": "Feature", "geometry": point, "properties": {"kind": "incident"}})
    return {"type": "FeatureCollection", "features": features}


def people_on_duty(
    data: TownData, detail: dict[str, Any], lang: Lang = "zh"
) -> list[tuple[str, str, str]]:
    """(role, unit name, person) of the trinity: grid officer, beat officer, fire station."""
    out: list[tuple[str, str, str]] = []
    for layer, code, role, person in (
        ("grid_cells", detail.get("grid_code"), t("role.grid", lang), "officer_name"),
        ("police_beats", detail.get("beat_code"), t("role.beat", lang), "officer_name"),
        ("fire_stations", detail.get("station_code"), t("role.station", lang), "crew"),
    ):
        for f in data.layers.get(layer, empty_collection())["features"]:
            p = f.get("properties") or {}
            if code and p.get("code") == code:
                who = p.get(person)
                crew = person == "crew" and who is not None
                text = t("people.crew", lang, n=who) if crew else str(who or "—")
                out.append((role, str(p.get("name") or code), text))
    return out
