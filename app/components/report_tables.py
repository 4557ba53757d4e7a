"""The printable review: period controls, one KPI table per level, the incident lists.

Plain HTML tables (``assets/report.css`` lays them out for the screen and for A4 paper). Each KPI
cell shows the value with its 环比 and 同比 changes underneath; the lists are masked.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from app import report_output, reports
from app.i18n import Lang, t
from incidents import kpi


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


def _cell(c: kpi.Comparison, name: str, lang: Lang) -> html.Td:
    return html.Td(
        [
            html.Div(report_output.fmt(c, name), className="report-value"),
            html.Div(
                f"{t('trend.mom', lang)} {report_output.fmt_change(c.mom_change, name)} · "
                f"{t('trend.yoy', lang)} {report_output.fmt_change(c.yoy_change, name)}",
                className="report-change",
            ),
        ]
    )


def level_table(level: str, title: str, rows: list[reports.Row], lang: Lang) -> html.Section:
    """One level's KPIs: a row per area, a column per KPI."""
    head = [html.Th(t("rep.area", lang))] + [
        html.Th(d.en if lang == "en" else d.zh) for d in kpi.KPIS.values()
    ]
    body = [
        html.Tr(
            [
                html.Th(r.name if r.code else t("rep.town", lang), scope="row"),
                *[_cell(c, n, lang) for n, c in r.kpis.items()],
            ]
        )
        for r in rows
    ]
    return html.Section(
        [
            html.H3(title),
            html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="report-table")
            if rows
            else html.P(t("rep.none", lang)),
        ],
        className=f"report-level report-level-{level}",
        id=f"report-level-{level}",
    )


def incident_list(title: str, frame: pd.DataFrame, lang: Lang, list_id: str) -> html.Section:
    """An incident list (masked) with Chinese headers."""
    table = report_output.list_table(frame)
    if not len(table):
        return html.Section([html.H3(f"{title} (0)"), html.P(t("rep.none", lang))], id=list_id)
    head = html.Tr([html.Th(c) for c in table.columns])
    rows = [
        html.Tr([html.Td("" if v is None else str(v)) for v in row])
        for row in table.itertuples(index=False)
    ]
    return html.Section(
        [
            html.H3(f"{title} ({len(table)})"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="report-table report-list"),
        ],
        id=list_id,
    )


def report_body(report: reports.Report, lang: Lang) -> list[Any]:
    """The heading (天天推进 / 周周闭环 / 月月改进), the level tables and the two lists."""
    zh, en = report.heading
    as_of = report.as_of.tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M")
    out: list[Any] = [
        html.H2([zh, html.Small(f" {en}")], className="report-heading"),
        html.P(t("rep.period", lang, period=report.period, as_of=as_of, n=report.received)),
    ]
    for level, zh_name, en_name, _layer in reports.LEVELS:
        out.append(
            level_table(level, en_name if lang == "en" else zh_name, report.levels[level], lang)
        )
    out.append(incident_list(t("rep.overdue", lang), report.overdue, lang, "report-overdue"))
    out.append(
        incident_list(t("rep.unsatisfied", lang), report.unsatisfied, lang, "report-unsatisfied")
    )
    return out
