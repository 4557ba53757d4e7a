"""The printable review: period controls, one KPI table per level, the incident lists.

Plain HTML tables written as one HTML fragment (:func:`report_body`); ``assets/report.css``
lays them out for the screen and for A4 paper. Each KPI cell shows the value with its 环比 and
同比 changes underneath; the lists are masked.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd
from dash import dcc, html

from app import report_output, reports
from app.i18n import Lang, t
from incidents import kpi
from incidents.model import STATE_ZH
from layers.incidents_layer import CATEGORIES


def exports(window: kpi.Window, lang: Lang) -> html.Div:
    """Links to the period's incidents as files (``/export/incidents.<fmt>``: the account's
    scope, personal data masked, audited); hidden when printing."""
    start = window.start.tz_convert(reports.LOCAL_TZ).date().isoformat()
    last = (window.end - pd.Timedelta(days=1)).tz_convert(reports.LOCAL_TZ).date().isoformat()
    links = [
        html.A(label, href=f"/export/incidents.{fmt}?from={start}&to={last}",
               className="report-btn", id=f"report-export-{fmt}")
        for fmt, label in (("gpkg", "GeoPackage"), ("geojson", "GeoJSON"),
                           ("shp", "Shapefile"), ("xlsx", "Excel"))
    ]  # fmt: skip
    return html.Div(
        [html.Span(t("rep.export", lang), className="report-export-label"), *links],
        className="report-exports no-print",
    )


def controls(kind: str, day: str, lang: Lang) -> html.Form:
    """A GET form (kind, date) and the print and .xlsx buttons; hidden when printing."""
    options = [
        html.Option(t(f"rep.kind.{k}", lang), value=k, selected=k == kind) for k in reports.KINDS
    ]
    return html.Form(
        [
            html.Select(options, name="kind", id="report-kind", className="report-input"),
            dcc.Input(
                type="text",
                name="date",
                value=day,
                id="report-date",
                className="report-input",
                placeholder="YYYY-MM-DD",
            ),
            dcc.Input(type="hidden", name="lang", value=lang),
            html.Button(t("rep.show", lang), type="submit", className="report-btn"),
            html.Button(
                t("rep.print", lang),
                type="button",
                id="report-print",
                className="report-btn",
                n_clicks=0,
            ),
            html.A(
                t("rep.xlsx", lang),
                href=f"/reports/{kind}.xlsx?date={day}",
                className="report-btn",
                id="report-xlsx",
            ),
        ],
        method="get",
        action="/reports",
        className="report-controls no-print",
    )


def _text(value: Any) -> str:
    """``value`` as escaped HTML text on one line (a blank line would end Markdown's HTML
    block and let the rest be read as Markdown)."""
    return escape(" ".join(("" if value is None else str(value)).split()))


def _cell(c: kpi.Comparison, name: str, lang: Lang) -> str:
    change = (
        f"{t('trend.mom', lang)} {report_output.fmt_change(c.mom_change, name)} · "
        f"{t('trend.yoy', lang)} {report_output.fmt_change(c.yoy_change, name)}"
    )
    return (
        f'<td><div class="report-value">{_text(report_output.fmt(c, name))}</div>'
        f'<div class="report-change">{_text(change)}</div></td>'
    )


def level_table(level: str, title: str, rows: list[reports.Row], lang: Lang) -> str:
    """One level's KPIs (HTML): a row per area, a column per KPI."""
    head = f"<th>{_text(t('rep.area', lang))}</th>" + "".join(
        f"<th>{_text(d.en if lang == 'en' else d.zh)}</th>" for d in kpi.KPIS.values()
    )
    body = "".join(
        f'<tr><th scope="row">{_text(r.name if r.code else t("rep.town", lang))}</th>'
        + "".join(_cell(c, n, lang) for n, c in r.kpis.items())
        + "</tr>"
        for r in rows
    )
    table = (
        f'<table class="report-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        if rows
        else f"<p>{_text(t('rep.none', lang))}</p>"
    )
    return (
        f'<section class="report-level report-level-{level}" id="report-level-{level}">'
        f"<h3>{_text(title)}</h3>{table}</section>"
    )


#: Chinese values of the lists -> message ids of their English labels.
_VALUE_KEYS: dict[str, dict[str, str]] = {
    "category_zh": {zh: f"cat.{code}" for code, zh in CATEGORIES.items()},
    "state_zh": {zh: f"state.{s.value}" for s, zh in STATE_ZH.items()},
    "satisfaction": {"满意": "cb.sat.1", "基本满意": "cb.sat.2", "不满意": "cb.sat.3"},
}


def _in_lang(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """A :func:`app.report_output.list_table` (Chinese headers and values, as in the .xlsx)
    with headers, categories, states and ratings in ``lang``."""
    if lang != "en":
        return table
    out = table.copy()
    for key, header in reports.LIST_COLUMNS.items():
        keys = _VALUE_KEYS.get(key)
        if keys and header in out:
            out[header] = out[header].map(
                lambda v, keys=keys: t(keys[v], lang) if isinstance(v, str) and v in keys else v
            )
    return out.rename(columns={h: t(f"rep.col.{k}", lang) for k, h in reports.LIST_COLUMNS.items()})


def incident_list(title: str, frame: pd.DataFrame, lang: Lang, list_id: str) -> str:
    """An incident list (HTML, masked) with headers and labels in ``lang``."""
    table = _in_lang(report_output.list_table(frame), lang)
    if not len(table):
        return (
            f'<section id="{list_id}"><h3>{_text(title)} (0)</h3>'
            f"<p>{_text(t('rep.none', lang))}</p></section>"
        )
    head = "".join(f"<th>{_text(c)}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_text(v)}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return (
        f'<section id="{list_id}"><h3>{_text(title)} ({len(table)})</h3>'
        f'<table class="report-table report-list"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def body_html(report: reports.Report, lang: Lang) -> str:
    """The heading (天天推进 / 周周闭环 / 月月改进), the level tables and the two lists, as one
    HTML fragment on one line, every text escaped."""
    zh, en = report.heading
    as_of = report.as_of.tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M")
    period = t("rep.period", lang, period=report.period, as_of=as_of, n=report.received)
    out = [
        f'<h2 class="report-heading">{_text(zh)}<small> {_text(en)}</small></h2>',
        f"<p>{_text(period)}</p>",
    ]
    if report.so_far:
        out.append(f'<p class="report-so-far">{_text(t("rep.so_far", lang))}</p>')
    for level, zh_name, en_name, _layer in reports.LEVELS:
        title = en_name if lang == "en" else zh_name
        out.append(level_table(level, title, report.levels[level], lang))
    out.append(incident_list(t("rep.overdue", lang), report.overdue, lang, "report-overdue"))
    out.append(
        incident_list(t("rep.unsatisfied", lang), report.unsatisfied, lang, "report-unsatisfied")
    )
    return "".join(out)


def report_body(report: reports.Report, lang: Lang) -> dcc.Markdown:
    """The review's body as one component holding its HTML (:func:`body_html`).

    Not built from ``html.Table``/``html.Td`` components: the demo town's review is ~7,000
    cells, and Dash's renderer does work per component on every change of its store, so a page
    of 7,000 components kept the browser busy for ~160 s after loading (measured here, Dash
    4.4). One component of HTML is drawn in a blink and prints the same."""
    return dcc.Markdown(
        body_html(report, lang),
        dangerously_allow_html=True,  # our own HTML, every text escaped (_text)
        className="report-body",
        id="report-body",
    )
