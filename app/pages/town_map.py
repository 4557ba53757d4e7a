"""Town map page (镇域态势图): layout and callbacks, each calling one function."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html

from app.basemap import Basemap
from app.components import town_map as tm
from app.i18n import Lang, lang_of

LANG_ID = "town-map-lang"

#: Layers whose clicks fill the feature card.
CLICKABLE = ("grid_cells", "police_beats", "fire_stations")


def layout(data: tm.TownData, basemap: Basemap | str = "", lang: Lang = "zh") -> html.Div:
    """The page: header bar over the full-height map, with the feature card on the map."""
    return html.Div(
        [
            tm.header(data, lang),
            html.Main(
                [
                    tm.town_map(data, basemap, lang),
                    html.Div(id=tm.INFO_ID, className="ember-info"),
                ],
                className="ember-main",
            ),
            dcc.Store(id=LANG_ID, data=lang),
        ],
        className="ember-page",
        lang=lang,
    )


def register_callbacks(app: Dash) -> None:
    """Attach the page's callbacks to ``app`` (per app, so several apps can coexist in tests)."""
    layer_of = {tm.LAYER_IDS[name]: name for name in CLICKABLE}

    @app.callback(
        Output(tm.INFO_ID, "children"),
        [Input(tm.LAYER_IDS[name], "clickData") for name in CLICKABLE],
        State(LANG_ID, "data"),
        prevent_initial_call=True,
    )
    def show_feature(*args: Any) -> list[Any]:
        value = ctx.triggered[0]["value"] if ctx.triggered else None
        return tm.feature_card(layer_of.get(str(ctx.triggered_id)), value, lang_of(args[-1]))
