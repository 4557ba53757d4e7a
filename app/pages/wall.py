"""The map wall page (综合信息指挥室大屏): layout and callbacks, each calling one function.

Data flow: the filter bar's values go to the server, which answers with a new history-layer URL
(the browser fetches the gzipped points once per filter and cut), the tiles, the legend, the feed
and the grid choropleth. Every few seconds the browser asks for a delta (incidents new or changed
since the cut that it does not hold yet) and merges it clientside into the live layer; the
staleness banner shows when deltas stop arriving.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update

from app import wall_view
from app.components import wall_charts as wc
from app.components import wall_map as wm
from app.components import wall_panels as wp
from app.components.town_map import TownData, empty_collection
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
    basemap_url: str = "",
    args: dict[str, str] | None = None,
) -> html.Div:
    """The wall: header with filters; KPI tiles | map with drawer | legend and feed; charts.

    ``args`` (URL query arguments such as ``window=year&category=wage``) set the filters the
    page opens with. The history layer's URL is in the layout, so the browser fetches the points
    while the server computes the tiles.
    """
    f = WallFilters.from_args(args or {})
    cut = cut_of(now_utc())
    return html.Div(
        [
            wp.header(data, villages, f),
            html.Main(
                [
                    html.Section(id="wall-tiles", className="wall-tiles"),
                    html.Section(
                        [
                            wm.wall_map(data, history_url(cut, f), {}, basemap_url),
                            html.Aside(id="wall-drawer", className="wall-drawer"),
                            html.Div(id="wall-legend", className="wall-legend"),
                        ],
                        className="wall-map",
                    ),
                    html.Section(id="wall-feed", className="wall-feed"),
                    wc.strip(),
                ],
                className="wall-body",
            ),
            dcc.Store(id="wall-cut", data=cut),
            dcc.Store(id="wall-delta"),
            dcc.Store(id="wall-known", data={}),
            dcc.Store(id="wall-selected"),
            dcc.Store(id="wall-rem"),
            dcc.Interval(id="wall-tick", interval=DELTA_MS),
            dcc.Interval(id="wall-slow", interval=OVERVIEW_MS),
            dcc.Interval(id="wall-clock-tick", interval=1_000),
        ],
        className="wall-page",
    )


def register_callbacks(app: Dash, url: str, data: TownData) -> None:
    """Attach the wall's callbacks to ``app`` for the store at ``url``."""
    filters = [Input("wall-window", "value"), Input("wall-dates", "start_date")]
    filters += [Input("wall-dates", "end_date"), Input("wall-category", "value")]
    filters += [Input("wall-source", "value"), Input("wall-village", "value")]

    @app.callback(
        Output("wall-cut", "data"),
        Output(wm.HISTORY_ID, "url"),
        Output(wm.GRID_ID, "hideout"),
        Output("wall-tiles", "children"),
        Output("wall-legend", "children"),
        Output("wall-feed", "children"),
        *[Output(i, "figure") for i, _ in wc.CHARTS],
        *[Output(f"{i}-note", "children") for i, _ in wc.CHARTS],
        *filters,
        Input("wall-slow", "n_intervals"),
        Input("wall-rem", "data"),
        State("wall-cut", "data"),
        State(wm.HISTORY_ID, "url"),
    )
    def overview(*args: Any) -> tuple[Any, ...]:
        *values, _n, rem, cut, current_url = args
        refresh = ctx.triggered_id == "wall-slow"
        filters = dict(zip(FILTER_INPUTS, values, strict=False))
        view = wall_view.overview(url, filters, cut, advance=refresh)
        return (
            view.cut,
            no_update if view.history_url == current_url else view.history_url,
            {"counts": view.grid_counts, "max": max(view.grid_counts.values(), default=1)},
            wp.tiles(view.tiles),
            wp.legend(view.states, view.total),
            wp.feed(view.feed),
            *wc.figures(view.charts, rem),
            *wc.notes(view.charts),
        )

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
        return wall_view.live(url, cut, known or {}, dict(zip(FILTER_INPUTS, values, strict=False)))

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
    )
    app.clientside_callback(
        ClientsideFunction("wall", "rem"),
        Output("wall-rem", "data"),
        Input("wall-charts", "className"),  # once, at load
    )
    app.clientside_callback(
        ClientsideFunction("wall", "clock"),
        Output("wall-clock", "children"),
        Input("wall-clock-tick", "n_intervals"),
    )

    @app.callback(
        Output("wall-selected", "data"),
        Input(wm.HISTORY_ID, "clickData"),
        Input(wm.LIVE_ID, "clickData"),
        Input({"type": "wall-feed-row", "id": ALL}, "n_clicks"),
        Input({"type": "wall-close", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(*_args: Any) -> Any:
        return wall_view.selected_id(ctx.triggered_id, ctx.triggered)

    @app.callback(
        Output("wall-drawer", "children"),
        Output("wall-drawer", "className"),
        Output(wm.TRINITY_ID, "data"),
        Input("wall-selected", "data"),
        State("wall-cut", "data"),
        prevent_initial_call=True,
    )
    def show(incident_id: str | None, cut: str | None) -> tuple[Any, str, Any]:
        detail = wall_view.detail(url, incident_id, cut) if incident_id else {}
        if not detail:
            return [], "wall-drawer", empty_collection()
        people = wm.people_on_duty(data, detail)
        trinity = wm.trinity_geojson(data, detail)
        return wp.drawer(detail, people), "wall-drawer wall-drawer-open", trinity


def _filter_states() -> list[tuple[str, str]]:
    return [
        ("wall-window", "value"),
        ("wall-dates", "start_date"),
        ("wall-dates", "end_date"),
        ("wall-category", "value"),
        ("wall-source", "value"),
        ("wall-village", "value"),
    ]
