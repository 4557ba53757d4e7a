"""The map wall page (综合信息指挥室大屏): layout and callbacks, each calling one function.

Data flow: the filter bar's values go to the server, which answers with a new history-layer URL
(the browser adds the map's zoom and view and fetches that zoom's clusters, computed on the
server: :mod:`app.wall_history`), the tiles, the legend, the feed and the grid choropleth.
Every few seconds the browser asks for a delta (incidents new or changed
since the cut that it does not hold yet) and merges it clientside into the live layer; the
staleness banner shows when deltas stop arriving.

First render: the page loads the lazily loaded scripts its components need with its own and
preloads the layout (:func:`app.wall_routes.register_first_render`); the layout (built for the
page by :func:`app.server.root_layout`) already holds the tiles, legend, feed and grid shading
from one cached overview (:mod:`app.wall_render`), so no callback runs before the map is drawn,
and the history layer's first frame (``assets/wall_map_first.js``), drawn with the map; the
charts (with plotly.js) come once it is. The hotspot overlays
(:mod:`app.components.wall_hot`) are computed only while switched on. Labels are Chinese or
English (:mod:`app.i18n`): ``?lang=en``, default from settings.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update

from app import wall_render as render
from app import wall_routes, wall_view
from app.basemap import IDENTITY, Display
from app.components import wall_charts as wc
from app.components import wall_feeds
from app.components import wall_grid as wg
from app.components import wall_hot as wh
from app.components import wall_map as wm
from app.components import wall_panels as wp
from app.components.town_map import TownData
from app.i18n import DEFAULT_LANG, Lang, lang_of, t
from app.wall_data import WallFilters, cut_of, history_url, now_utc

#: Live delta poll (ms): changes reach the wall within this.
DELTA_MS = 5_000
#: Tiles, feed and choropleth refresh (ms).
OVERVIEW_MS = 30_000
#: WallFilters fields, in the order of the filter inputs.
FILTER_INPUTS = ("window", "start", "end", "category", "source", "village")


def layout(
    data: TownData,
    villages: list[tuple[str, str]],
    basemap: Any = "",
    args: dict[str, str] | None = None,
    lang: str = DEFAULT_LANG,
    url: str = "",
) -> html.Div:
    """The wall: header with filters; KPI tiles | map with drawer | legend and feed; charts.

    ``args`` (URL query arguments such as ``window=year&category=wage&lang=en``) set the filters
    and the language the page opens with; ``lang`` is the server's default language. The
    history layer's URL is in the layout (the map adds its zoom and view). The layout also
    holds the first tiles, legend, feed, grid shading and feeds alarm from the store at
    ``url``: no callback runs at load (each would be a round trip and a re-render of the
    page's components), the wall is drawn from its layout.
    """
    args = args or {}
    f = WallFilters.from_args(args)
    language = lang_of(args.get("lang"), lang)
    cut = cut_of(now_utc())
    # The first tiles, legend, feed and grid shading: a recent overview of these filters
    # (another wall's, or this one's last refresh), else computed now.
    the_map = wm.wall_map(data, {}, basemap, language)
    first, grid_legend = render.first(url, args, f, cut, data, language)
    render.set_hideout(the_map, first[-1])
    return html.Div(
        [
            wp.header(data, villages, f, language, url),
            html.Main(
                [
                    html.Section(first[0], id="wall-tiles", className="wall-tiles"),
                    html.Section(
                        [
                            the_map,
                            wg.control(language, legend=grid_legend),
                            html.Aside(id="wall-drawer", className="wall-drawer"),
                            html.Div(first[1], id="wall-legend", className="wall-legend"),
                            wh.legend_box(language),
                        ],
                        className="wall-map",
                    ),
                    html.Section(first[2], id="wall-feed", className="wall-feed"),
                    wc.strip(language),
                ],
                className="wall-body",
            ),
            dcc.Store(id="wall-cut", data=cut),
            dcc.Store(id=wm.HISTORY_URL_ID, data=history_url(cut, f)),
            dcc.Store(id=wm.FIRST_ID, data=render.first_frame(url, cut, f, basemap)),
            dcc.Store(id="wall-i18n", data=i18n_data(language)),
            dcc.Store(id="wall-delta"),
            dcc.Store(id="wall-known", data={}),
            dcc.Store(id="wall-selected"),
            dcc.Store(id="wall-rem"),
            wm.lazy_store(language),
            dcc.Interval(id="wall-tick", interval=DELTA_MS),
            dcc.Interval(id="wall-slow", interval=OVERVIEW_MS),
        ],
        className="wall-page",
        lang=language,
    )


def i18n_data(lang: Lang) -> dict[str, str]:
    """What the page's clientside callbacks need of the language (``wall-i18n`` store)."""
    return {"lang": lang, "stale": t("stale", lang)}


def _lang(value: Any) -> Lang:
    return lang_of((value or {}).get("lang") if isinstance(value, dict) else value)


def register_callbacks(app: Dash, url: str, data: TownData, display: Display = IDENTITY) -> None:
    """Attach the wall's callbacks to ``app`` for the store at ``url``; points are sent in
    ``display`` coordinates (``data`` is already in them)."""
    wall_routes.register_first_render(app)
    wall_routes.register(app, url, data, display)  # /wall/layers/…, /wall/hotspots.geojson
    wh.register_callbacks(app, url, display)
    wall_feeds.register(app, url)  # the feeds-stalled alarm (#10)
    filters = [Input("wall-window", "value"), Input("wall-dates", "start_date")]
    filters += [Input("wall-dates", "end_date"), Input("wall-category", "value")]
    filters += [Input("wall-source", "value"), Input("wall-village", "value")]

    @app.callback(
        Output("wall-cut", "data"),
        Output(wm.HISTORY_URL_ID, "data"),
        Output("wall-tiles", "children"),
        Output("wall-legend", "children"),
        Output("wall-feed", "children"),
        Output("wall-lang", "children"),
        *filters,
        Input("wall-slow", "n_intervals"),
        State("wall-cut", "data"),
        State(wm.HISTORY_URL_ID, "data"),
        State("wall-i18n", "data"),
        prevent_initial_call=True,  # the layout holds the first overview
    )
    def overview(*args: Any) -> tuple[Any, ...]:
        *values, _n, cut, current_url, i18n = args
        refresh = ctx.triggered_id == "wall-slow"
        filters = dict(zip(FILTER_INPUTS, values, strict=False))
        new_cut, history, *rest = render.overview(url, filters, cut, _lang(i18n), refresh, display)
        return (new_cut, no_update if history == current_url else history, *rest)

    @app.callback(
        *[Output(f"{i}-box", "children") for i, _ in wc.CHARTS],
        *[Output(f"{i}-note", "children") for i, _ in wc.CHARTS],
        Input("wall-cut", "data"),  # after every overview: filters changed or refreshed
        Input("wall-rem", "data"),  # once the map is drawn
        *[State(i, p) for i, p in _filter_states()],
        State("wall-i18n", "data"),
    )
    def charts(cut: str | None, rem: Any, *args: Any) -> tuple[Any, ...]:
        *values, i18n = args
        lang = _lang(i18n)
        data = wall_view.charts(url, dict(zip(FILTER_INPUTS, values, strict=False)), cut)
        return (*wc.graphs(data, rem, lang), *wc.notes(data, lang))

    @app.callback(
        Output("wall-delta", "data"),
        Input("wall-tick", "n_intervals"),
        State("wall-cut", "data"),
        State("wall-known", "data"),
        *[State(i, p) for i, p in _filter_states()],
        prevent_initial_call=True,
    )
    def live(_n: int, cut: str | None, known: dict[str, Any] | None, *values: Any) -> Any:
        if not cut:
            return no_update
        args = dict(zip(FILTER_INPUTS, values, strict=False))
        return display.collection(wall_view.live(url, cut, known or {}, args))

    @app.callback(
        Output(wm.GRID_ID, "hideout"),
        Output(wg.LEGEND_ID, "children"),
        Input(wg.MODE_ID, "value"),
        Input("wall-cut", "data"),
        *filters,
        Input("wall-slow", "n_intervals"),
        State("wall-i18n", "data"),
        prevent_initial_call=True,  # the layout holds the first shading
    )
    def grid(mode: Any, cut: str | None, *args: Any) -> tuple[Any, Any]:
        *values, _n, i18n = args
        filters = dict(zip(FILTER_INPUTS, values, strict=False))
        return render.grid(url, cut, filters, mode, data, _lang(i18n))

    app.clientside_callback(
        ClientsideFunction("wall", "historyUrl"),
        Output(wm.HISTORY_ID, "url"),
        Input(wm.HISTORY_URL_ID, "data"),
        Input(wm.MAP_ID, "zoom"),
        Input(wm.MAP_ID, "bounds"),
        State(wm.HISTORY_ID, "url"),
    )
    app.clientside_callback(
        ClientsideFunction("wall", "lazyLayers"),
        *[Output(i, "url") for i in wm.LAZY_IDS],
        Input(wh.CONTROL_ID, "overlays"),
        State(wm.LAZY_ID, "data"),
        *[State(i, "url") for i in wm.LAZY_IDS],
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("wall", "mergeDelta"),
        Output(wm.LIVE_ID, "data"),
        Output("wall-known", "data"),
        Input("wall-delta", "data"),
        State(wm.LIVE_ID, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("wall", "staleness"),
        Output("wall-stale", "children"),
        Output("wall-stale", "className"),
        Input("wall-tick", "n_intervals"),
        Input("wall-delta", "data"),
        State("wall-i18n", "data"),
        prevent_initial_call=True,  # nothing is late at load
    )
    app.clientside_callback(
        ClientsideFunction("wall", "remWhenDrawn"),
        Output("wall-rem", "data"),
        Input("wall-charts", "className"),  # once, at load
    )
    app.clientside_callback(
        ClientsideFunction("wall", "startClock"),
        Output("wall-clock", "children"),
        Input("wall-i18n", "data"),  # once, at load
    )

    app.clientside_callback(
        ClientsideFunction("wall", "selectedId"),
        Output("wall-selected", "data"),
        Input(wm.HISTORY_ID, "clickData"),
        Input(wm.LIVE_ID, "clickData"),
        Input({"type": "wall-feed-row", "id": ALL}, "n_clicks"),
        Input({"type": "wall-close", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("wall-drawer", "children"),
        Output("wall-drawer", "className"),
        Output(wm.TRINITY_ID, "data"),
        Input("wall-selected", "data"),
        State("wall-cut", "data"),
        State("wall-i18n", "data"),
        prevent_initial_call=True,
    )
    def show(incident_id: str | None, cut: str | None, i18n: Any) -> tuple[Any, str, Any]:
        return render.drawer(url, incident_id, cut, _lang(i18n), data, display)


def _filter_states() -> list[tuple[str, str]]:
    return [
        ("wall-window", "value"),
        ("wall-dates", "start_date"),
        ("wall-dates", "end_date"),
        ("wall-category", "value"),
        ("wall-source", "value"),
        ("wall-village", "value"),
    ]
