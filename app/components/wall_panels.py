"""The wall's panels: header with filters, KPI tiles, legend, live feed and incident drawer.

Each function turns a value from :mod:`app.wall_data` into Dash components; none reads the store.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from app.components import wall_feeds
from app.components.town_map import TownData
from app.i18n import Lang, num, since, t, table
from app.wall_data import SOURCES, STATES, WINDOWS, WallFilters
from incidents.model import State
from layers.incidents_layer import CATEGORIES

ARROWS = {"up": "▲", "down": "▼", "flat": "■"}


def lang_links(f: WallFilters, lang: Lang) -> list[Any]:
    """The language switch 中文 | EN: links to this page in each language, with ``f``'s filters
    (a full reload: a wall switches language rarely)."""
    return [
        html.A(
            t(f"lang.{code}", lang),
            href=lang_href(f, code),
            id=f"wall-lang-{code}",
            lang=code,
            className="wall-lang-link" + (" wall-lang-on" if code == lang else ""),
        )
        for code in ("zh", "en")
    ]


def lang_href(f: WallFilters, lang: str) -> str:
    """The relative URL of the wall in ``lang`` with the filters ``f``."""
    from urllib.parse import urlencode

    return "?" + urlencode({**f.as_args(), "lang": lang})


def header(
    data: TownData,
    villages: list[tuple[str, str]],
    f: WallFilters,
    lang: Lang = "zh",
    url: str | None = None,
) -> html.Header:
    """Title, clock, staleness banner, the feeds alarm (as it stands for the store at ``url``),
    the language switch and the filter bar (window, category, source, village), set to ``f``."""
    window_options: list[dict[str, Any]] = [
        {"label": t(f"win.{k}", lang), "value": k} for k in WINDOWS
    ]
    window_options.append({"label": t("win.custom", lang), "value": "custom"})

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
                        [
                            html.Span("●", className="wall-dot"),
                            html.Span(data.name, className="wall-data"),
                            f" · {t('title', lang)}",
                        ]
                    ),
                    html.Div(id="wall-clock", className="wall-clock"),
                    html.Nav(lang_links(f, lang), id="wall-lang", className="wall-lang"),
                ],
                className="wall-brand",
            ),
            html.Div(
                [html.Div(id="wall-stale", className="wall-stale"), wall_feeds.banner(url, lang)],
                className="wall-alerts",
            ),
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
                        month_format=t("dates.month", lang),
                        first_day_of_week=1,  # weeks start on Monday in China
                        className="wall-dates",
                        start_date=f.start,
                        end_date=f.end,
                        start_date_placeholder_text=t("dates.start", lang),
                        end_date_placeholder_text=t("dates.end", lang),
                    ),
                    select(
                        "wall-category",
                        t("filter.category", lang),
                        table("cat", lang, CATEGORIES),
                        f.category,
                    ),
                    select(
                        "wall-source",
                        t("filter.source", lang),
                        table("src", lang, SOURCES),
                        f.source,
                    ),
                    select("wall-village", t("filter.village", lang), villages, f.village),
                ],
                className="wall-filters",
            ),
        ],
        className="wall-header",
    )


def tiles(values: list[dict[str, Any]], lang: Lang = "zh") -> list[Any]:
    """KPI tiles: today's value large, this week and month below, 环比 / 同比 arrows; counts
    written the way of ``lang`` (万 in Chinese).

    Few components on purpose (seven a tile): the renderer's work at load and at each refresh
    grows with their number. The small labels (环比, 本周…) are ``data-label`` attributes drawn
    by CSS (``assets/wall.css``), not components of their own."""
    out = []
    for tile in values:
        raw = tile.get("raw") if tile.get("fmt") == "count" else None

        def shown(period: str, tile: dict[str, Any] = tile, raw: Any = raw) -> str:
            return num(raw[period], lang) if raw else str(tile[period])

        key = tile["key"]
        out.append(
            html.Div(
                [
                    html.Div(t(f"tile.{key}", lang), className="wall-tile-label"),
                    html.Div(
                        shown("day") if raw else tile["value"],
                        className="wall-tile-value",
                        id=f"wall-kpi-{key}",
                    ),
                    *(_trend(tile, k, lang) for k in ("mom", "yoy")),
                    *(
                        html.Span(shown(p), className="wall-period", **_label(f"period.{p}", lang))
                        for p in ("week", "month")
                    ),
                ],
                className=f"wall-tile wall-tile-{key}",
            )
        )
    return out


def _label(key: str, lang: Lang) -> dict[str, Any]:
    """A small label drawn before the component's text by CSS (``[data-label]::before``)."""
    return {"data-label": t(key, lang)}


def _trend(tile: dict[str, Any], key: str, lang: Lang) -> Any:
    """The 环比 or 同比 arrow of a tile, green or red as the change is good or bad."""
    direction, text = tile[key]
    text = t("trend.new", lang) if text == "新增" else text
    good = (direction == "down") if tile["bad_up"] else (direction == "up")
    tone = "flat" if direction == "flat" else ("good" if good else "bad")
    return html.Span(
        f"{ARROWS[direction]}{text}",
        className=f"wall-trend wall-{tone}",
        **_label(f"trend.{key}", lang),
    )


def legend(counts: list[tuple[str, str, int]], total: int, lang: Lang = "zh") -> list[Any]:
    """State colour legend with counts in the current window (two components an item: the
    swatch is the item's ``::before``, ``wall-key-N`` in ``assets/wall_map.css``)."""
    items = [
        html.Li(
            [t(f"state.{s}", lang), html.B(num(n, lang))], className=f"wall-key-{STATES.index(s)}"
        )
        for s, _zh, n in counts
        if n or State(s).is_open
    ]
    items.append(html.Li([t("flag.overdue", lang), html.B("")], className="wall-key-late"))
    return [
        html.Div(
            [t("legend.total", lang), html.B(num(total, lang))], className="wall-legend-total"
        ),
        html.Ul(items),
    ]


def feed(value: dict[str, Any], lang: Lang = "zh") -> list[Any]:
    """The live feed rows; each row is a button that opens the drawer (six components a row:
    an overdue row says so by its class and title, drawn by CSS)."""
    late = t("flag.overdue", lang)
    rows = [
        html.Button(
            [
                html.Span(r["time"], className="wall-feed-time"),
                html.B(_category(r, lang), className="wall-feed-cat"),
                html.Small(r["address"], className="wall-feed-addr wall-data"),
                html.Span(
                    t(f"state.{r['state']}", lang),
                    className=f"wall-chip wall-s{STATES.index(r['state'])}",
                ),
                html.Span(
                    since(r["minutes"], lang) if "minutes" in r else r["since"],
                    className="wall-feed-since",
                ),
            ],
            id={"type": "wall-feed-row", "id": r["id"]},
            className="wall-feed-row" + (" wall-feed-late" if r["overdue"] else ""),
            title=late if r["overdue"] else None,
            n_clicks=0,
        )
        for r in value["rows"]
    ]
    head = html.Div(
        [
            html.H2(t("feed.title", lang)),
            html.Span(
                num(value["callbacks_due"], lang), className="wall-due", **_label("feed.due", lang)
            ),
        ],
        className="wall-panel-head",
    )
    empty = html.P(t("feed.empty", lang), className="wall-empty")
    return [head, html.Div(rows or [empty], className="wall-feed-list")]


def _category(row: dict[str, Any], lang: Lang) -> str:
    code = row.get("category_code")
    return table("cat", lang, {code: row["category"]})[code] if code else row["category"]


def drawer(
    detail: dict[str, Any], people: list[tuple[str, str, str]], lang: Lang = "zh"
) -> list[Any]:
    """The incident drawer: details, parties (masked), trinity people, timeline, nearby.

    ``detail`` is :func:`app.components.wall_detail.drawer`'s, in ``lang``; data (address,
    description, masked names, place names) is marked ``wall-data`` and never translated.
    """
    if not detail:
        return []
    state = detail["state"]
    badges = [
        html.Span(t(f"state.{state}", lang), className=f"wall-chip wall-s{STATES.index(state)}")
    ]
    if detail["overdue"]:
        badges.append(html.Span(t("flag.overdue", lang), className="wall-flag"))
    if detail["supervised"]:
        badges.append(html.Span(t("flag.supervised", lang), className="wall-flag"))
    facts = [
        ("fact.id", detail["id"]),
        ("fact.source", detail["source"]),
        ("fact.received", detail["received"]),
        ("fact.deadline", detail["deadline"]),
        ("fact.address", detail["address"]),
    ]
    migrant = f"  · {t('drawer.migrant', lang)}"
    parties = [
        html.Li(
            [
                html.Span(f"{p['name']}  {p['phone']}", className="wall-data"),
                migrant if p["migrant"] else None,
            ]
        )
        for p in detail["parties"]
    ]
    timeline = [
        html.Li(
            [
                html.Time(e["at"]),
                html.B(e["action"]),
                html.Span(e["reason"] or "", className="wall-data"),
            ]
        )
        for e in detail["events"]
    ]
    repeat = f" {t('drawer.repeat', lang)}"
    nearby = [
        html.Li([n["text"], html.Span(repeat, className="wall-flag") if n["repeat"] else None])
        for n in detail["nearby"]
    ]
    duty = [
        html.Li(
            [html.Span(r, className="wall-role"), html.Span(f"{u} · {w}", className="wall-data")]
        )
        for r, u, w in people
    ]
    fact_items = [
        c for k, v in facts for c in (html.Dt(t(k, lang)), html.Dd(v or "—", className="wall-data"))
    ]
    close = html.Button(
        "×",
        id={"type": "wall-close", "id": "x"},
        className="wall-close",
        n_clicks=0,
        title=t("drawer.close", lang),
    )
    title = [
        html.H2(detail["category"]),
        html.Span(detail["subcategory"], className="wall-data"),
        *badges,
    ]
    return [
        html.Div(
            [html.Div(title, className="wall-drawer-title"), close], className="wall-drawer-head"
        ),
        html.P(detail["description"], className="wall-drawer-desc wall-data"),
        html.Dl(fact_items),
        html.H3(t("drawer.parties", lang)),
        html.Ul(parties or [html.Li("—")], className="wall-list"),
        html.H3(t("drawer.people", lang)),
        html.Ul(duty or [html.Li("—")], className="wall-list"),
        html.H3(t("drawer.timeline", lang)),
        html.Ol(timeline, className="wall-timeline"),
        html.H3(t("drawer.nearby", lang)),
        html.Ul(nearby or [html.Li(t("drawer.none", lang))], className="wall-list"),
    ]
