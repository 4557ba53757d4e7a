"""The wall's hotspot overlays: 热力 (KDE heat squares) and Gi* 热点 (hot and cold grid cells).

Both are overlays of the map's layer control, off by default. Nothing is computed until one is
switched on: the callback here then hands its GeoJSON layer a URL,
``/wall/hotspots.geojson?layer=heat|hot&cut=…&<filters>`` (the history layer's query, so the
hotspots always cover the same incidents as the points), and the browser fetches the gzipped
layer once per cut and filter (:func:`app.wall_routes.hotspots`, from
:func:`app.wall_hotspots.for_wall`). The legend (bottom right) lists what is switched on.
Symbols are ``dashExtensions.wall.heatToLayer`` and ``hotStyle`` of ``assets/wall_map.js``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import dash_leaflet as dl
from dash import ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from app import wall_data as wd
from app import wall_hotspots as wh
from app.basemap import IDENTITY, Display
from app.i18n import Msg

HEAT_ID = "wall-heat"
HOT_ID = "wall-hot"
LEGEND_ID = "wall-hot-legend"
#: Stores: the overlays' names in the control, and which of them are on (from the control's
#: checkboxes: dash-leaflet's ``overlays`` prop lists only the last overlay switched on).
NAMES_ID = "wall-hot-names"
ON_ID = "wall-hot-on"
#: The id of the map's layer control (its ``overlays`` prop lists the checked overlays).
CONTROL_ID = "wall-layers"
ROUTE = "/wall/hotspots.geojson"

MESSAGES = {
    "heat": Msg("热力", "Heat"),
    "hot": Msg("Gi* 热点", "Gi* hot spots"),
    "heat.title": Msg("热力 · 核密度（件/km²）", "Heat · kernel density (per km²)"),
    "hot.title": Msg("Gi* 热点 / 冷点（置信度）", "Gi* hot / cold spots (confidence)"),
    "few": Msg("窗口内事项太少", "too few incidents in the window"),
}


def _m(key: str, lang: str) -> str:
    return MESSAGES[key].text(lang)


def overlays(lang: str = "zh") -> list[Any]:
    """The two overlays (unchecked, no data until switched on), under the incidents."""
    heat = dl.GeoJSON(  # no data: a GeoJSON with data ignores its url
        pointToLayer={"variable": "dashExtensions.wall.heatToLayer"},
        hideout={"cell_m": wh.CELL_M},
        interactive=False,
        id=HEAT_ID,
    )
    hot = dl.GeoJSON(
        style={"variable": "dashExtensions.wall.hotStyle"},
        interactive=False,
        id=HOT_ID,
    )
    return [
        dl.Overlay(
            dl.Pane(heat, name="wall-heat", style={"zIndex": 450}),  # one layer: no group
            name=_m("heat", lang),
            checked=False,
        ),
        dl.Overlay(
            dl.Pane(hot, name="wall-hotspots", style={"zIndex": 405}),
            name=_m("hot", lang),
            checked=False,
        ),
    ]


def legend_box(lang: str = "zh") -> html.Div:
    """The legend (empty until an overlay is on) and the stores of the overlays' names and
    whether each is switched on."""
    names = {"heat": _m("heat", lang), "hot": _m("hot", lang)}
    return html.Div(
        [
            html.Div(id=LEGEND_ID, className="wall-hot-legend"),
            dcc.Store(id=NAMES_ID, data=names),
            dcc.Store(id=ON_ID, data={"heat": False, "hot": False}),
        ]
    )


def layer_url(history_url: str | None, layer: str) -> str:
    """The hotspot layer's URL for the history layer's (same cut and filters)."""
    query = parse_qsl(urlsplit(history_url or "").query)
    return ROUTE + "?" + urlencode([("layer", layer), *[(k, v) for k, v in query if k != "layer"]])


def query_of(url: str) -> tuple[str | None, dict[str, str]]:
    """(cut, filter arguments) of a history or hotspot URL."""
    args = dict(parse_qsl(urlsplit(url).query))
    return args.pop("cut", None), args


def legend(layers: wh.WallHotspots, heat: bool, hot: bool, lang: str) -> list[Any]:
    """Legend rows of the switched-on layers (swatch colour, label)."""
    rows = layers.legend(lang)
    out: list[Any] = []
    for on, key, part, fc in (
        (hot, "hot.title", rows[:6], layers.hot),
        (heat, "heat.title", rows[6:], layers.heat),
    ):
        if not on:
            continue
        out.append(html.Div(_m(key, lang), className="wall-hot-title"))
        if not fc["features"]:
            out.append(html.Div(_m("few", lang), className="wall-grid-empty"))
            continue
        # The swatch is the item's ::before, in the colour given as --key (assets/wall_map.css).
        items = [html.Li(text, style={"--key": colour}) for colour, text in part]
        out.append(html.Ul(items, className="wall-hot-scale"))
    return out


def register_callbacks(app: Dash, url: str, display: Display = IDENTITY) -> None:
    """Hand the overlays their URLs and fill the legend when they are switched on, the
    filters change or the cut moves (the history layer's URL changes)."""

    app.clientside_callback(
        ClientsideFunction("wall", "hotOverlays"),
        Output(ON_ID, "data"),
        Input(CONTROL_ID, "overlays"),
        State(NAMES_ID, "data"),
        State(ON_ID, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(HEAT_ID, "url"),
        Output(HOT_ID, "url"),
        Output(LEGEND_ID, "children"),
        Output(LEGEND_ID, "className"),
        Input(ON_ID, "data"),
        Input("wall-history", "data"),  # the history layer's URL (cut and filters)
        State(HEAT_ID, "url"),
        State(HOT_ID, "url"),
        State("wall-i18n", "data"),
        prevent_initial_call=True,
    )
    def hotspots(
        on: dict[str, bool] | None,
        history: str | None,
        heat_url: str | None,
        hot_url: str | None,
        i18n: Any,
    ) -> tuple[Any, ...]:
        lang = str((i18n or {}).get("lang") or "zh")
        heat, hot = bool((on or {}).get("heat")), bool((on or {}).get("hot"))
        if not (heat or hot):
            if not (heat_url or hot_url):
                raise PreventUpdate
            return no_update, no_update, [], "wall-hot-legend"
        cut, args = query_of(history or "")
        layers = wh.for_wall(url, wd.parse_cut(cut, wd.now_utc()), args, display)
        new_heat, new_hot = layer_url(history, "heat"), layer_url(history, "hot")
        return (
            new_heat if heat and new_heat != heat_url else no_update,
            new_hot if hot and new_hot != hot_url else no_update,
            legend(layers, heat, hot, lang),
            "wall-hot-legend wall-hot-legend-on",
        )
