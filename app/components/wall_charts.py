"""The wall's chart strip: category mix, 24-hour profile, 30-day trend, share involving migrants.

:func:`figures` turns :func:`app.wall_data.chart_data` into four plotly figures styled for the
dark wall: transparent background, light text, Okabe–Ito colours (those of the state legend),
fonts sized in the page's rem (the browser reports it), so that a 4K wall gets 4K type. The
graphs are static (no mode bar, no hover): a wall is looked at, not clicked. plotly.js is
served by Dash itself (no CDN).
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from app.i18n import Lang, num, t, t_or

#: (graph id, title message id) of the four charts, in order.
CHARTS: tuple[tuple[str, str], ...] = (
    ("wall-chart-category", "chart.category"),
    ("wall-chart-hours", "chart.hours"),
    ("wall-chart-trend", "chart.trend"),
    ("wall-chart-migrant", "chart.migrant"),
)
CONFIG: Any = {"displayModeBar": False, "staticPlot": True}
TEXT = "#e6eef9"
MUTED = "#93a7c4"
GRID = "rgba(147, 167, 196, 0.18)"
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
#: Okabe–Ito, as the state colours of assets/wall_map.js and wall.css.
SKY, ORANGE, PURPLE = "#56B4E9", "#E69F00", "#CC79A7"
ACCENT = "#5ee7ff"


def strip(lang: Lang = "zh") -> html.Section:
    """The four chart cards, titled; their graphs (:func:`graphs`) come once the map is drawn:
    plotly.js, some 4 MB of script, then loads after the map, not in its way."""
    cards = [
        html.Div(
            [
                html.Div(
                    [
                        html.H2(t(title, lang)),
                        html.Span(id=f"{id_}-note", className="wall-chart-note"),
                    ],
                    className="wall-chart-head",
                ),
                html.Div(id=f"{id_}-box", className="wall-chart-graph"),
            ],
            className="wall-chart",
        )
        for id_, title in CHARTS
    ]
    return html.Section(cards, id="wall-charts", className="wall-charts")


def graphs(data: dict[str, Any], rem: float | None, lang: Lang = "zh") -> list[dcc.Graph]:
    """The four graphs of :data:`CHARTS` (:func:`figures`), for the cards of :func:`strip`."""
    return [
        dcc.Graph(
            id=id_,
            figure=fig,
            config=CONFIG,
            responsive=True,
            style={"width": "100%", "height": "100%"},
        )
        for (id_, _), fig in zip(CHARTS, figures(data, rem, lang), strict=True)
    ]


def _layout(rem: float, **more: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT, "size": round(0.95 * rem, 1), "color": TEXT},
        "margin": {
            "l": round(0.4 * rem),
            "r": round(0.6 * rem),
            "t": round(0.3 * rem),
            "b": round(0.4 * rem),
            "pad": 0,
        },
        "showlegend": False,
        "autosize": True,
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
    }
    layout.update(more)
    return layout


def _axis(rem: float, **more: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {
        "visible": True,
        "showgrid": False,
        "zeroline": False,
        "showline": False,
        "ticks": "",
        "tickfont": {"size": round(0.95 * rem, 1), "color": MUTED},
        "automargin": True,
        "fixedrange": True,
    }
    axis.update(more)
    return axis


def _count_step(top: int) -> int:
    """A whole step between ticks for counts up to ``top``: 1, 2 or 5 times a power of ten,
    about three ticks above zero (never below 1: counts have no "500m")."""
    rough = max(1.0, top / 3)
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover


def _value_axis(rem: float, top: int) -> dict[str, Any]:
    return _axis(
        rem,
        showgrid=True,
        gridcolor=GRID,
        gridwidth=1,
        rangemode="tozero",
        range=[0, max(1, top) * 1.18],
        tick0=0,
        dtick=_count_step(top),
        tickformat=",d",
    )


def figures(data: dict[str, Any], rem: float | None, lang: Lang = "zh") -> list[go.Figure]:
    """The four figures of :data:`CHARTS` for ``data`` (:func:`app.wall_data.chart_data`),
    with fonts in units of ``rem`` px (16 when unknown), labels in ``lang``."""
    rem = float(rem or 16.0)
    return [
        _categories(data, rem, lang),
        _hours(data, rem, lang),
        _trend(data, rem, lang),
        _migrant(data, rem, lang),
    ]


def notes(data: dict[str, Any], lang: Lang = "zh") -> list[str]:
    """The small text right of each chart's title."""
    m = data["migrant"]
    first, last = data["days"][0][0], data["days"][-1][0]
    total = sum(n for _, _, n in data["categories"])
    return [
        t("chart.total", lang, n=num(total, lang)),
        t("chart.by_hour", lang),
        t("chart.range", lang, a=first[5:], b=last[5:]),
        t("chart.share", lang, n=num(m["n"], lang), total=num(m["total"], lang)),
    ]


def _categories(data: dict[str, Any], rem: float, lang: Lang = "zh") -> go.Figure:
    rows = data["categories"][::-1]  # largest on top
    if not rows:
        return _nothing(rem, lang)
    names = [t_or(f"cat.{code}", lang, zh) for code, zh, _ in rows]
    counts = [n for _, _, n in rows]
    bar = go.Bar(
        x=counts,
        y=names,
        orientation="h",
        marker={"color": SKY, "line": {"width": 0}},
        text=[num(n, lang) for n in counts],
        textposition="outside",
        textfont={"size": round(0.95 * rem, 1), "color": TEXT},
        cliponaxis=False,
        width=0.72,
    )
    layout = _layout(
        rem,
        xaxis=_axis(rem, visible=False, range=[0, max(counts) * 1.25]),
        yaxis=_axis(rem, tickfont={"size": round(0.95 * rem, 1), "color": TEXT}),
        bargap=0.25,
    )
    return go.Figure(bar, layout)


def _hours(data: dict[str, Any], rem: float, lang: Lang = "zh") -> go.Figure:
    hours = data["hours"]
    bar = go.Bar(
        x=list(range(24)), y=hours, marker={"color": ORANGE, "line": {"width": 0}}, width=0.78
    )
    layout = _layout(
        rem,
        xaxis=_axis(
            rem,
            tickvals=[0, 6, 12, 18, 23],
            ticktext=[t("chart.hour", lang, h=h) for h in (0, 6, 12, 18, 23)],
            range=[-0.6, 23.6],
        ),
        yaxis=_value_axis(rem, max(hours)),
    )
    return go.Figure(bar, layout)


def _trend(data: dict[str, Any], rem: float, lang: Lang = "zh") -> go.Figure:
    """One count a day. Today, a day not over yet (``partial``), is not drawn as part of the
    line: a dotted step to a hollow point, its tick 今日, so that a morning's few calls do not
    read as a fall."""
    days = [d for d, _ in data["days"]]
    counts = [n for _, n in data["days"]]
    partial = bool(data.get("partial")) and len(days) > 1
    whole = len(days) - 1 if partial else len(days)
    width = max(2.0, 0.18 * rem)
    traces = [
        go.Scatter(
            x=days[:whole],
            y=counts[:whole],
            mode="lines",
            line={"color": ACCENT, "width": width},
            fill="tozeroy",
            fillcolor="rgba(94, 231, 255, 0.16)",
        )
    ]
    if partial:
        traces.append(
            go.Scatter(
                x=days[-2:],
                y=counts[-2:],
                mode="lines",
                line={"color": ACCENT, "width": width, "dash": "dot"},
            )
        )
    traces.append(
        go.Scatter(
            x=days[-1:],
            y=counts[-1:],
            mode="markers",
            marker={
                "color": "#050912" if partial else ACCENT,
                "size": round(0.55 * rem),
                "line": {"color": ACCENT if partial else "#050912", "width": 2},
            },
        )
    )
    ticks = days[::-7][::-1]
    labels = [d[5:] for d in ticks]
    if partial:
        labels[-1] = t("chart.today", lang)
    layout = _layout(
        rem,
        xaxis=_axis(
            rem,
            type="category",
            tickvals=ticks,
            ticktext=labels,
            range=[-0.5, len(days) - 0.5],
        ),
        yaxis=_value_axis(rem, max(counts, default=0)),
    )
    return go.Figure(traces, layout)


def _migrant(data: dict[str, Any], rem: float, lang: Lang = "zh") -> go.Figure:
    m = data["migrant"]
    share = m["share"]
    if share is None:
        return _nothing(rem, lang)
    pie = go.Pie(
        values=[m["n"], m["total"] - m["n"]],
        labels=[t("chart.migrants", lang), t("chart.others", lang)],
        hole=0.62,
        sort=False,
        direction="clockwise",
        rotation=0,
        marker={"colors": [PURPLE, "#1d3252"], "line": {"width": 0}},
        textinfo="none",
        domain={"x": [0.0, 0.46], "y": [0.02, 0.98]},
    )
    big = {
        "text": f"{share * 100:.1f}%",
        "x": 0.74,
        "y": 0.58,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "font": {"size": round(2.3 * rem), "color": TEXT, "family": FONT},
    }
    small = {
        "text": t("chart.migrants", lang),
        "x": 0.74,
        "y": 0.22,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "font": {"size": round(0.95 * rem, 1), "color": PURPLE, "family": FONT},
    }
    return go.Figure(pie, _layout(rem, annotations=[big, small]))


def _nothing(rem: float, lang: Lang = "zh") -> go.Figure:
    text = {
        "text": t("chart.empty", lang),
        "x": 0.5,
        "y": 0.5,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "font": {"size": round(1.1 * rem), "color": MUTED},
    }
    return go.Figure(layout=_layout(rem, annotations=[text]))
