"""The town map (镇域态势图): governance layers of one town on a dark dash-leaflet map.

Layers are read once, turned into GeoJSON dicts (:func:`load_town`) and kept; the map, the header
and the feature card are built from that value. Colours and tooltips are drawn by the JS functions
in ``assets/ember_map.js``; Python only says which layer is which.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import dash_leaflet as dl
import geopandas as gpd
import numpy as np
import shapely
from dash import html

from app.basemap import Basemap, custom
from app.i18n import Lang, Msg, t
from store import LayerNotFound, Store

log = logging.getLogger(__name__)

GeoJSON = dict[str, Any]

#: Component ids used by the page's callbacks and by tests.
MAP_ID = "town-map"
INFO_ID = "town-map-info"
LAYER_IDS = {
    "villages": "town-map-villages",
    "grid_cells": "town-map-grid-cells",
    "police_beats": "town-map-police-beats",
    "fire_stations": "town-map-fire-stations",
}

#: Columns sent to the browser per layer; everything else stays on the server.
COLUMNS: dict[str, tuple[str, ...]] = {
    "town": ("code", "name"),
    "villages": ("code", "name", "kind"),
    "grid_cells": (
        "code",
        "name",
        "village_code",
        "officer_name",
        "registered_pop",
        "migrant_pop",
        "households",
    ),
    "police_beats": ("code", "name", "officer_name", "police_station"),
    "fire_stations": ("code", "name", "kind", "crew"),
    "fire_station_coverage": ("station_code", "minutes"),
    "roads": ("name", "kind"),
}

#: The map's labels in Chinese and English (layer names, the card's and tooltips' fields).
MESSAGES = {
    "town": Msg("镇界", "Town boundary"),
    "villages": Msg("村社区", "Villages"),
    "grid_cells": Msg("网格", "Grid cells"),
    "police_beats": Msg("警格", "Police beats"),
    "fire_stations": Msg("消防站", "Fire stations"),
    "fire_station_coverage": Msg("3分钟覆盖", "3-min coverage"),
    "roads": Msg("道路", "Roads"),
    "grid": Msg("网格", "Grid cell"),
    "beat": Msg("警格", "Police beat"),
    "station": Msg("智慧消防站", "Smart fire station"),
    "code": Msg("编码", "Code"),
    "officer_name": Msg("网格员", "Grid officer"),
    "beat_officer": Msg("民警", "Officer"),
    "kind": Msg("类型", "Type"),
    "registered_pop": Msg("户籍人口", "Registered residents"),
    "migrant_pop": Msg("流动人口", "Migrant residents"),
    "households": Msg("户数", "Households"),
    "police_station": Msg("派出所", "Police station"),
    "crew": Msg("队员", "Crew"),
    "basemap": Msg("底图", "Basemap"),
}


def _m(key: str, lang: Lang) -> str:
    return MESSAGES[key].text(lang)


#: Overlays in the layer control, top to bottom: (layer, pane z-index); named by MESSAGES.
OVERLAYS: tuple[tuple[str, int], ...] = (
    ("town", 450),
    ("villages", 410),
    ("grid_cells", 420),
    ("police_beats", 440),
    ("fire_stations", 460),
    ("fire_station_coverage", 405),
    ("roads", 430),
)

#: Tooltip content per layer: title field and (label message, field) rows, drawn by
#: ember_map.js once the labels are in the page's language (:func:`tooltip`).
TOOLTIPS: dict[str, dict[str, Any]] = {
    "grid_cells": {"title": "name", "rows": [["code", "code"], ["officer_name", "officer_name"]]},
    "police_beats": {"title": "name", "rows": [["beat_officer", "officer_name"]]},
    "fire_stations": {"title": "name", "rows": [["kind", "kind"]], "sticky": False},
}

#: What the feature card shows per layer: kind message, then (label message, field) rows.
CARDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "grid_cells": (
        "grid",
        (
            ("code", "code"),
            ("officer_name", "officer_name"),
            ("registered_pop", "registered_pop"),
            ("migrant_pop", "migrant_pop"),
            ("households", "households"),
        ),
    ),
    "police_beats": (
        "beat",
        (("code", "code"), ("beat_officer", "officer_name"), ("police_station", "police_station")),
    ),
    "fire_stations": ("station", (("code", "code"), ("kind", "kind"), ("crew", "crew"))),
}


def tooltip(layer: str, lang: Lang) -> dict[str, Any]:
    """The tooltip spec of ``layer`` with its labels in ``lang``."""
    spec = TOOLTIPS[layer]
    return {**spec, "rows": [[_m(label, lang), f] for label, f in spec["rows"]]}


COVERAGE_MINUTES = 3


def _js(name: str) -> dict[str, str]:
    """Reference a function of ``assets/ember_map.js`` as a dash-leaflet functional prop."""
    return {"variable": f"dashExtensions.ember.{name}"}


def empty_collection() -> GeoJSON:
    """An empty GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": []}


@dataclass(frozen=True)
class TownData:
    """The town's layers as GeoJSON, ready for the browser.

    Attributes
    ----------
    name, code : str
        Town name and 9-digit division code, from the ``town`` layer.
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees (WGS84).
    layers : dict
        GeoJSON FeatureCollection per layer name; a missing optional layer is empty.
    labels : dict
        Village label points (representative points inside each village).
    """

    name: str
    code: str
    bounds: tuple[float, float, float, float]
    layers: dict[str, GeoJSON] = field(default_factory=dict)
    labels: GeoJSON = field(default_factory=empty_collection)

    def count(self, layer: str) -> int:
        """Number of features in ``layer`` (0 when absent)."""
        return len(self.layers.get(layer, empty_collection())["features"])

    def title(self, lang: Lang = "zh") -> str:
        """Page title shown in the header, e.g. ``演示镇 · 非警务事项态势``."""
        return f"{self.name} · {t('title', lang)}"


def _prepare(frame: Any, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Keep ``columns`` (those present) and valid geometries, in EPSG:4326, rounded to ~0.1 m."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError("expected a layer with geometry / 需要带几何的图层")
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    keep = [c for c in columns if c in frame.columns]
    out = frame.loc[~frame.geometry.isna() & ~frame.geometry.is_empty, [*keep, "geometry"]].copy()
    rounded = shapely.transform(out.geometry.values, lambda xy: np.round(xy, 6))
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))


def _read(store: Store, name: str, required: bool) -> gpd.GeoDataFrame | None:
    try:
        return _prepare(store.read_layer(name), COLUMNS[name])
    except LayerNotFound:
        if required:
            raise
        log.warning("图层缺失，地图上不显示 / layer %r missing, not shown on the map", name)
        return None


def load_town(store: Store) -> TownData:
    """Read the town's map layers from ``store`` once and keep them as GeoJSON.

    Parameters
    ----------
    store : Store
        An open store; ``town`` is required, every other layer is optional.

    Returns
    -------
    TownData
    """
    town = _read(store, "town", required=True)
    assert town is not None
    frames = {name: _read(store, name, required=False) for name in COLUMNS if name != "town"}
    cover = frames.get("fire_station_coverage")
    if cover is not None and "minutes" in cover and (cover["minutes"] == COVERAGE_MINUTES).any():
        frames["fire_station_coverage"] = cover[cover["minutes"] == COVERAGE_MINUTES]
    layers = {"town": town.to_geo_dict(drop_id=True)}
    for name, frame in frames.items():
        layers[name] = empty_collection() if frame is None else frame.to_geo_dict(drop_id=True)
    villages = frames.get("villages")
    labels = empty_collection()
    if villages is not None and len(villages):
        points = villages[["code", "name"]].set_geometry(villages.geometry.representative_point())
        labels = points.to_geo_dict(drop_id=True)
    extent = town if len(town) else villages
    if extent is None or not len(extent):
        raise ValueError("镇界图层为空 / the town layer is empty")
    west, south, east, north = (float(v) for v in extent.total_bounds)
    first = town.iloc[0] if len(town) else None
    return TownData(
        name=str(first["name"]) if first is not None and "name" in town else "本镇",
        code=str(first["code"]) if first is not None and "code" in town else "",
        bounds=(west, south, east, north),
        layers=layers,
        labels=labels,
    )


def _geojson(data: TownData, name: str, pane: str, lang: Lang, **props: Any) -> dl.GeoJSON:
    """One GeoJSON layer styled by ``ember.style``; ``hideout.kind`` tells the JS which."""
    hideout = {"kind": name, **props.pop("hideout", {})}
    if name in TOOLTIPS:
        hideout["tooltip"] = tooltip(name, lang)
        props.setdefault("onEachFeature", _js("onEachFeature"))
    if name in LAYER_IDS:
        props.setdefault("id", LAYER_IDS[name])
    return dl.GeoJSON(
        data=data.layers[name],
        pane=pane,
        style=_js("style"),
        hideout=hideout,
        **props,
    )


def _overlay_children(data: TownData, name: str, pane: str, lang: Lang) -> list[Any]:
    """The layers inside one overlay of the layer control."""
    if name == "villages":
        # Polygons are shading only; the permanent labels name them.
        labels = dl.GeoJSON(
            data=data.labels,
            pointToLayer=_js("labelToLayer"),
            hideout={"label": "name", "labelClass": "ember-village-label"},
            interactive=False,
            id="town-map-village-labels",
        )
        return [_geojson(data, name, pane, lang, interactive=False), labels]
    if name == "grid_cells":
        return [_geojson(data, name, pane, lang, hoverStyle=_js("hoverStyle"))]
    if name == "fire_stations":
        return [_geojson(data, name, pane, lang, pointToLayer=_js("stationToLayer"))]
    if name in ("town", "fire_station_coverage", "roads"):
        return [_geojson(data, name, pane, lang, interactive=False)]
    return [_geojson(data, name, pane, lang)]


def basemap_overlays(basemap: Basemap | str, label: str = "底图") -> list[Any]:
    """The basemap's tile layers as one checked overlay (none for the default ``none``);
    a string is a custom tile URL template."""
    basemap = custom(basemap) if isinstance(basemap, str) else basemap
    if not basemap.tiles:
        return []
    tiles = [dl.TileLayer(**t.options()) for t in basemap.tiles]
    return [dl.Overlay(dl.LayerGroup(tiles), name=label, checked=True)]


def has_attribution(basemap: Basemap | str) -> bool:
    """Whether the map needs an attribution control (online basemaps name their source)."""
    return not isinstance(basemap, str) and bool(basemap.attribution)


def town_map(data: TownData, basemap: Basemap | str = "", lang: Lang = "zh") -> dl.Map:
    """The dark town map fitted to the town's bounds, with a layer control in ``lang``.

    Parameters
    ----------
    data : TownData
        Layers from :func:`load_town` (already in display coordinates, see :mod:`app.basemap`).
    basemap : Basemap or str
        The basemap (:func:`app.basemap.basemap_of`) or a tile URL template; the default draws
        no tiles at all.
    lang : {"zh", "en"}
        Language of the layer control and the tooltips.
    """
    overlays: list[Any] = basemap_overlays(basemap, _m("basemap", lang))
    for name, z in OVERLAYS:
        pane = f"ember-{name.replace('_', '-')}"
        children = _overlay_children(data, name, pane, lang)
        overlays.append(
            # One LayerGroup per overlay: an Overlay registers each direct child layer as its own
            # entry in the control.
            dl.Overlay(
                dl.LayerGroup(dl.Pane(children, name=pane, style={"zIndex": z})),
                name=_m(name, lang),
                checked=True,
            )
        )
    west, south, east, north = data.bounds
    return dl.Map(
        [
            dl.LayersControl(overlays, collapsed=False, position="topright"),
            dl.ScaleControl(position="bottomright", imperial=False),
        ],
        id=MAP_ID,
        className="ember-map",
        bounds=[[south, west], [north, east]],
        # Fitted to ``bounds`` alone: a ``center`` would re-centre the map and undo the padding,
        # and without one dash-leaflet 1.1's viewport tracking throws, so it stays off.
        trackViewport=False,
        # Room on the right for the layer control, so it does not cover the town.
        boundsOptions={"paddingTopLeft": [48, 28], "paddingBottomRight": [210, 28]},
        zoomSnap=0.1,
        zoomDelta=0.5,
        maxZoom=20,
        attributionControl=bool(overlays and has_attribution(basemap)),
        style={"width": "100%", "height": "100%"},
    )


def header(data: TownData, lang: Lang = "zh", path: str = "/map") -> html.Header:
    """Header bar: the town's title, its layer counts and the language switch."""
    counts = ("villages", "grid_cells", "police_beats", "fire_stations")
    other: Lang = "zh" if lang == "en" else "en"
    return html.Header(
        [
            html.H1(
                [html.Span("●", className="ember-dot"), data.title(lang)], className="ember-title"
            ),
            html.Ul(
                [
                    html.Li(
                        [
                            html.Span(_m(layer, lang)),
                            html.B(str(data.count(layer)), id=f"count-{layer}"),
                        ]
                    )
                    for layer in counts
                ]
                + [
                    html.Li(
                        html.A(
                            t(f"lang.{other}", lang),
                            href=f"{path}?lang={other}",
                            className="ember-lang",
                        )
                    )
                ],
                className="ember-counts",
            ),
        ],
        className="ember-header",
    )


def feature_card(layer: str | None, feature: dict[str, Any] | None, lang: Lang = "zh") -> list[Any]:
    """The info card of a clicked feature; empty when there is nothing to show.

    Parameters
    ----------
    layer : str or None
        Layer name (``grid_cells``, ``police_beats`` or ``fire_stations``).
    feature : dict or None
        The GeoJSON feature from the layer's ``clickData``.
    lang : {"zh", "en"}
        Language of the labels (the values are the layer's own).
    """
    if not layer or not feature or layer not in CARDS:
        return []
    kind, rows = CARDS[layer]
    props = feature.get("properties") or {}
    items: list[Any] = []
    for label, key in rows:
        value = props.get(key)
        if value is None or value == "":
            continue
        items += [html.Dt(_m(label, lang)), html.Dd(str(value))]
    return [
        html.Div(_m(kind, lang), className="ember-info-kind"),
        html.H2(str(props.get("name") or "—")),
        html.Dl(items),
    ]
