"""The grid choropleth's switch and legend, on the wall's map (bottom left).

The switch (``wall-grid-mode``) picks what the grid cells are shaded by: open incidents now or
incidents of the window per 1,000 residents (:mod:`app.wall_choropleth`); the legend says which,
with the bounds of the classes drawn by ``dashExtensions.wall.gridStyle``. Swatch colours are CSS
classes (``wall-ckey-0`` … ``wall-ckey-5`` in ``assets/wall_map.css``, the palette of
``assets/wall_map.js``).
"""

from __future__ import annotations

import math
from typing import Any

from dash import dcc, html

from app.i18n import Msg, t
from app.wall_choropleth import DEFAULT_MODE, Choropleth, classes

MODE_ID = "wall-grid-mode"
LEGEND_ID = "wall-grid-legend"

MESSAGES = {
    "open": Msg("在办", "Open"),
    "rate": Msg("每千人", "Per 1,000"),
    "title.open": Msg("网格 · 在办事项数", "Grid cells · open incidents"),
    "title.rate": Msg(
        "网格 · 每千名常住人口事项数（{window}）",
        "Grid cells · incidents per 1,000 residents ({window})",
    ),
    "none": Msg("无", "none"),
    "no_pop": Msg("无人口数据", "no population data"),
}


def _m(key: str, lang: str, **fields: Any) -> str:
    return MESSAGES[key].text(lang, **fields)


def control(lang: str = "zh", mode: str = DEFAULT_MODE, legend: Any = None) -> html.Div:
    """The switch and the legend (``legend``, else empty until the page's grid callback)."""
    return html.Div(
        [
            dcc.RadioItems(
                id=MODE_ID,
                options=[{"label": _m(m, lang), "value": m} for m in ("open", "rate")],
                value=mode,
                inline=True,
                className="wall-grid-mode",
                inputClassName="wall-grid-radio",
            ),
            html.Div(legend, id=LEGEND_ID, className="wall-grid-legend"),
        ],
        className="wall-grid-control",
    )


def _fmt(v: float, mode: str) -> str:
    return f"{v:,.0f}" if mode == "open" else f"{v:,.1f}"


def _counts(low: float, high: float, *, last: bool) -> str:
    """The whole counts n of a class ``[low, high)`` (the last class is ``n == high``): "3",
    "2–5", or "—" for a class no count can fall in (a small maximum)."""
    first = max(1, math.ceil(low))
    end = math.ceil(high) if last else math.ceil(high) - 1  # largest whole n < high
    if last:
        first = end = int(high)
    if first > end:
        return "—"
    return f"{first:,}" if first == end else f"{first:,}–{end:,}"


def legend(choro: Choropleth, window: str, lang: str = "zh") -> list[Any]:
    """Title (which measure, over which window) and the six classes with their bounds (for
    counts, only the classes some count can be drawn in: with at most 3 open, 0 1 2 3)."""
    key = f"win.{window}"
    title = _m(f"title.{choro.mode}", lang, window=t(key, lang) if window else "")
    rows: list[Any] = [html.Div(title, className="wall-grid-title", id="wall-grid-title")]
    if not choro.values:
        note = _m("no_pop" if choro.mode == "rate" else "none", lang)
        return [*rows, html.Div(note, className="wall-grid-empty")]
    swatches = [(0, "0")]
    for i, (low, high) in enumerate(classes(choro.max), start=1):
        if choro.mode == "open":  # counts are whole: say which counts fall in each class
            text = _counts(low, high, last=i == 5)
            if text == "—":
                continue  # no count is drawn in this colour (a small maximum): not shown
        else:
            text = (
                _fmt(high, choro.mode) if i == 5 else f"{_fmt(low, choro.mode)}–" if low else ">0"
            )
        swatches.append((i, text))
    rows.append(
        html.Ul(
            [
                html.Li(text, className=f"wall-ckey-{i}")  # swatch: the item's ::before
                for i, text in swatches
            ],
            className="wall-grid-scale",
        )
    )
    return rows
