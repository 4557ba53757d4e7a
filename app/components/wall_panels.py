"""The wall's panels: header with filters, KPI tiles, legend, live feed and incident drawer.

Each function turns a value from :mod:`app.wall_data` into Dash components; none reads the store.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from app.components.town_map import TownData
from app.wall_data import SOURCES, STATES, WINDOWS, WallFilters
from incidents.model import STATE_ZH, State
from layers.incidents_layer import CATEGORIES

ARROWS = {"up": "▲", "down": "▼", "flat": "■"}


def header(data: TownData, villages: list[tuple[str, str]], f: WallFilters) -> html.Header:
    """Title, clock, staleness banner and the filter bar (window, category, source, village),
    set to ``f``."""
    window_options = [{"label": label, "value": k} for k, (label, _) in WINDOWS.items()]
    window_options.append({"label": "自定义", "value": "custom"})

    def select(
        id_: str, placeholder: str, options: dict[str, str] | list[tuple[str, str]], value: Any
    ) -> Any:
        pairs = options.items() if isinstance(options, dict) else options
        return dcc.Dropdown(
            id=id_,
            value=value,
            options=[{"label": v, "value": k} for k, v in pairs],
            placeholder=placeholder,
            clearable=True,
            searchable=False,
            className="wall-select",
        )

    return html.Header(
        [
            html.Div(
                [
                    html.H1(
                        [html.Span("●", className="wall-dot"), f"{data.name} · 非警务事项态势"]
                    ),
                    html.Div(id="wall-clock", className="wall-clock"),
                ],
                className="wall-brand",
            ),
            html.Div(id="wall-stale", className="wall-stale"),
            html.Div(
                [
                    dcc.RadioItems(
                        id="wall-window",
                        options=window_options,
                        value=f.window,
                        className="wall-segments",
                        inputClassName="wall-seg-input",
                        labelClassName="wall-seg",
                    ),
                    dcc.DatePickerRange(
                        id="wall-dates",
                        display_format="MM-DD",
                        className="wall-dates",
                        start_date=f.start,
                        end_date=f.end,
                        start_date_placeholder_text="起",
                        end_date_placeholder_text="止",
                    ),
                    select("wall-category", "全部类别", CATEGORIES, f.category),
                    select("wall-source", "全部来源", SOURCES, f.source),
                    select("wall-village", "全部村社区", villages, f.village),
                ],
                className="wall-filters",
            ),
        ],
        className="wall-header",
    )


def tiles(values: list[dict[str, Any]]) -> list[Any]:
    """KPI tiles: today's value large, this week and month below, 环比 / 同比 arrows."""
    out = []
    for t in values:
        arrows = []
        for key, label in (("mom", "环比"), ("yoy", "同比")):
            direction, text = t[key]
            good = (direction == "down") if t["bad_up"] else (direction == "up")
            tone = "flat" if direction == "flat" else ("good" if good else "bad")
            arrows.append(
                html.Span(
                    [label, html.B(f"{ARROWS[direction]}{text}")],
                    className=f"wall-trend wall-{tone}",
                )
            )
        out.append(
            html.Div(
                [
                    html.Div(t["label"], className="wall-tile-label"),
                    html.Div(t["value"], className="wall-tile-value", id=f"wall-kpi-{t['key']}"),
                    html.Div(arrows, className="wall-tile-trends"),
                    html.Div(
                        [
                            html.Span(["本周", html.B(t["week"])]),
                            html.Span(["本月", html.B(t["month"])]),
                        ],
                        className="wall-tile-periods",
                    ),
                ],
                className=f"wall-tile wall-tile-{t['key']}",
            )
        )
    return out


def legend(counts: list[tuple[str, str, int]], total: int) -> list[Any]:
    """State colour legend with counts in the current window."""
    from app.wall_data import wan

    items = [
        html.Li(
            [
                html.I(className=f"wall-swatch wall-s{STATES.index(s)}"),
                html.Span(zh),
                html.B(wan(n)),
            ]
        )
        for s, zh, n in counts
        if n or State(s).is_open
    ]
    items.append(
        html.Li([html.I(className="wall-swatch wall-late-swatch"), html.Span("超期"), html.B("")])
    )
    return [
        html.Div(["窗口内事项 ", html.B(wan(total))], className="wall-legend-total"),
        html.Ul(items),
    ]


def feed(value: dict[str, Any]) -> list[Any]:
    """The live feed rows; each row is a button that opens the drawer."""
    rows = [
        html.Button(
            [
                html.Span(r["time"], className="wall-feed-time"),
                html.Span(
                    [html.B(r["category"]), html.Small(r["address"])], className="wall-feed-what"
                ),
                html.Span(
                    STATE_ZH[State(r["state"])],
                    className=f"wall-chip wall-s{STATES.index(r['state'])}",
                ),
                html.Span(r["since"], className="wall-feed-since"),
                html.Span("超期", className="wall-flag") if r["overdue"] else None,
            ],
            id={"type": "wall-feed-row", "id": r["id"]},
            className="wall-feed-row" + (" wall-feed-late" if r["overdue"] else ""),
            n_clicks=0,
        )
        for r in value["rows"]
    ]
    head = html.Div(
        [
            html.H2("最新事项"),
            html.Span(["今日待回访 ", html.B(str(value["callbacks_due"]))], className="wall-due"),
        ],
        className="wall-panel-head",
    )
    return [
        head,
        html.Div(rows or [html.P("暂无事项", className="wall-empty")], className="wall-feed-list"),
    ]


def drawer(detail: dict[str, Any], people: list[tuple[str, str, str]]) -> list[Any]:
    """The incident drawer: details, parties (masked), trinity people, timeline, nearby."""
    if not detail:
        return []
    badges = [
        html.Span(detail["state_zh"], className=f"wall-chip wall-s{STATES.index(detail['state'])}")
    ]
    if detail["overdue"]:
        badges.append(html.Span("超期", className="wall-flag"))
    if detail["supervised"]:
        badges.append(html.Span("督办", className="wall-flag"))
    facts = [
        ("编号", detail["id"]),
        ("来源", detail["source"]),
        ("受理", detail["received"]),
        ("期限", detail["deadline"]),
        ("地址", detail["address"]),
    ]
    parties = [
        html.Li(f"{p['name']}  {p['phone']}" + ("  · 流动人口" if p["migrant"] else ""))
        for p in detail["parties"]
    ]
    timeline = [
        html.Li([html.Time(e["at"]), html.B(e["action"]), html.Span(e["reason"] or "")])
        for e in detail["events"]
    ]
    nearby = [
        html.Li(
            [n["text"], html.Span(" 重复", className="wall-flag") if n["repeat"] else None],
        )
        for n in detail["nearby"]
    ]
    return [
        html.Div(
            [
                html.Div(
                    [html.H2(detail["category"]), html.Span(detail["subcategory"]), *badges],
                    className="wall-drawer-title",
                ),
                html.Button(
                    "×", id={"type": "wall-close", "id": "x"}, className="wall-close", n_clicks=0
                ),
            ],
            className="wall-drawer-head",
        ),
        html.P(detail["description"], className="wall-drawer-desc"),
        html.Dl([c for k, v in facts for c in (html.Dt(k), html.Dd(v or "—"))]),
        html.H3("当事人（已脱敏）"),
        html.Ul(parties or [html.Li("—")], className="wall-list"),
        html.H3("三合一责任人"),
        html.Ul(
            [html.Li([html.Span(r, className="wall-role"), f"{u} · {w}"]) for r, u, w in people]
            or [html.Li("—")],
            className="wall-list",
        ),
        html.H3("处置时间线"),
        html.Ol(timeline, className="wall-timeline"),
        html.H3("附近30天事项"),
        html.Ul(nearby or [html.Li("无")], className="wall-list"),
    ]
