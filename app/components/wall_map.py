"""The wall's map: the town's layers drawn from Ember's own data (no tiles by default), the grid
choropleth, the history layer (clustered on the server, fetched per zoom and view), the live
layer and the trinity.

Styles and point symbols are JS functions of ``assets/wall_map.js`` (``dashExtensions.wall``) and
``assets/ember_map.js`` (``dashExtensions.ember``); Python only wires them up.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc

from app.basemap import Basemap
from app.components import wall_hot
from app.components.town_map import TownData, basemap_overlays, empty_collection, has_attribution
from app.i18n import Lang, t

MAP_ID = "wall-map"
HISTORY_ID = "wall-incidents"
#: The store holding the history layer's URL for the page's cut and filters; the browser adds
#: the map's zoom and view to it (``wall.historyUrl`` in ``assets/wall_map.js``).
HISTORY_URL_ID = "wall-history"
#: The store holding the history layer's first frame (``app.wall_history.first_frame``),
#: drawn by ``assets/wall_map_first.js`` as soon as the map has its view.
FIRST_ID = "wall-first"
LIVE_ID = "wall-live"
TRINITY_ID = "wall-trinity"
GRID_ID = "wall-grid"


def _js(ns: str, name: str) -> dict[str, str]:
    return {"variable": f"dashExtensions.{ns}.{name}"}


#: The town's layers are fetched by the map from here (``app.wall_routes``), not carried in the
#: page's layout: the layout stays small (Dash's renderer walks all of it), the layers come in
#: parallel, gzipped and cached by ETag.
LAYER_ROUTE = "/wall/layers/<name>.geojson"
#: Layers served by :data:`LAYER_ROUTE`: the town's own, plus the villages' label points.
LAYERS: tuple[str, ...] = ("town", "villages", "roads", "grid_cells", "police_beats")
LAYERS += ("fire_stations", "fire_station_coverage", "labels")


def layer_url(name: str) -> str:
    """The URL of the town layer ``name`` (one of :data:`LAYERS`)."""
    return LAYER_ROUTE.replace("<name>", name)


#: The store of the overlays off at load (:func:`lazy_store`): their layers are fetched only
#: once switched on (``wall.lazyLayers`` in ``assets/wall_map.js``): at load the map fetches
#: what it draws, and the history layer does not queue behind layers nobody sees (a browser
#: opens six connections to a server).
LAZY_ID = "wall-lazy"
#: (overlay message key, layer names) of the overlays off at load.
LAZY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("layer.villages", ("villages", "labels")),
    ("layer.coverage", ("fire_station_coverage",)),
)


def lazy_id(name: str) -> str:
    """The id of the GeoJSON of the town layer ``name`` fetched once its overlay is on."""
    return f"wall-layer-{name}"


#: The GeoJSON components whose ``url`` ``wall.lazyLayers`` sets, in its outputs' order.
LAZY_IDS: tuple[str, ...] = tuple(lazy_id(n) for _key, names in LAZY for n in names)


def lazy_store(lang: Lang = "zh") -> dcc.Store:
    """Which overlay (its label in the layer control) each of :data:`LAZY_IDS` belongs to, and
    the URL to give it when the overlay is switched on."""
    rows = [
        {"overlay": t(key, lang), "url": layer_url(name)} for key, names in LAZY for name in names
    ]
    return dcc.Store(id=LAZY_ID, data=rows)


def _base(name: str, lazy: bool = False, **props: Any) -> dl.GeoJSON:
    if lazy:  # no URL until its overlay is switched on
        props["id"] = lazy_id(name)
    else:
        props["url"] = layer_url(name)
    return dl.GeoJSON(
        style=_js("wall", "baseStyle"),
        hideout={"kind": name},
        interactive=False,
        **props,
    )


def _overlay(label: str, pane: str, z: int, children: list[Any], checked: bool = True) -> Any:
    """An overlay of the layer control drawing ``children`` in its own pane (z-index ``z``).

    The control holds one layer per overlay: several children are put in a LayerGroup, a
    single one is that layer itself (one component fewer for the page to render)."""
    if len(children) == 1:
        return dl.Overlay(_pane(children[0], pane, z), name=label, checked=checked)
    return dl.Overlay(dl.LayerGroup(_pane(children, pane, z)), name=label, checked=checked)


def _pane(children: Any, name: str, z: int) -> dl.Pane:
    """A map pane ``name`` at z-index ``z`` holding ``children``."""
    return dl.Pane(children, name=name, style={"zIndex": z})


def wall_map(
    data: TownData,
    counts: dict[str, int],
    basemap: Basemap | str,
    lang: Lang = "zh",
) -> dl.Map:
    """The map of the wall, fitted to the town.

    Parameters
    ----------
    data : TownData
        The town's layers.
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
        url=layer_url("grid_cells"),
        style=_js("wall", "gridStyle"),
        hideout={"counts": counts, "max": max(counts.values(), default=1)},
        interactive=False,
        id=GRID_ID,
    )
    labels = dl.GeoJSON(
        id=lazy_id("labels"),
        pointToLayer=_js("ember", "labelToLayer"),
        hideout={"label": "name", "labelClass": "ember-village-label"},
        interactive=False,
    )
    # Clusters come from the server (app.wall_history) for the map's zoom and view: the URL is
    # set in the browser from the history store and the viewport.
    history = dl.GeoJSON(
        pointToLayer=_js("wall", "historyToLayer"),
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
        url=layer_url("fire_stations"),
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
            [_base("villages", lazy=True), labels],
            checked=False,
        ),
        _overlay(t("layer.roads", lang), "wall-roads", 415, [_base("roads")]),
        _overlay(
            t("layer.coverage", lang),
            "wall-coverage",
            420,
            [_base("fire_station_coverage", lazy=True)],
            False,
        ),
        _overlay(t("layer.beats", lang), "wall-beats", 430, [_base("police_beats")]),
        _overlay(t("layer.town", lang), "wall-town", 440, [_base("town")]),
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
        # The bounds' centre (the map fits the bounds; no zoom given): dash-leaflet's viewport
        # tracking compares the map's centre with this prop and fails without it.
        center=[(south + north) / 2, (west + east) / 2],
        trackViewport=True,  # zoom and bounds: which clusters to fetch
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
