"""The review page 报表 at ``/reports``: daily, weekly, monthly; printable and as .xlsx.

For commanders, administrators and analysts. ``?kind=daily|weekly|monthly&date=YYYY-MM-DD``
picks the period (default: the last complete one); the page, ``GET /reports/<kind>.xlsx`` and
``ember report`` all call :func:`app.reports.build_report` within the signed-in account's scope,
personal data masked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, html
from flask import Response, request

from app import report_output, reports
from app.auth import current_account, current_scope, require_login
from app.components import report_tables as tables
from app.components.officer_shell import allowed, denied, header, protect
from app.config import Settings
from app.i18n import lang_of
from store import IncidentStore

PATH = "/reports"
ROLES = ("commander", "admin", "analyst")
PREFIX = "report"


def _now() -> datetime:
    return datetime.now(UTC)


def _kind(value: Any) -> str:
    return str(value) if value in reports.KINDS else "daily"


def layout(store: IncidentStore, settings: Settings, args: dict[str, str] | None = None) -> Any:
    """The review for the signed-in account (or a sign-in prompt)."""
    args = args or {}
    lang = lang_of(args.get("lang"), settings.lang)
    account = allowed(ROLES)
    if account is None:
        return denied(lang, PATH, PREFIX)
    kind = _kind(args.get("kind"))
    now = _now()
    try:
        day = reports.parse_day(args.get("date"), kind, now)
    except ValueError as exc:  # the page as usual (header, form), the error above the form
        return html.Div(
            [
                header("rep.title", account, lang, PATH, PREFIX),
                html.Div(str(exc), className="report-msg", role="alert"),
                tables.controls(kind, str(args.get("date") or "")[:40], lang),
            ],
            className="report-page",
            lang=lang,
        )
    report = reports.build_report(store, kind, day, scope=current_scope(), as_of=now)
    return html.Div(
        [
            header("rep.title", account, lang, PATH, PREFIX),
            tables.controls(kind, day.isoformat(), lang),
            tables.exports(report.window, lang),
            html.Main(tables.report_body(report, lang), className="report-main"),
            html.Div(id="report-printed", hidden=True),
        ],
        className="report-page",
        lang=lang,
    )


def register_callbacks(app: Dash, store: IncidentStore, settings: Settings) -> None:
    """The page route, the .xlsx download and the print button."""
    protect(app, PATH, ROLES)

    @require_login(roles=ROLES)
    def xlsx(kind: str) -> Response:
        if kind not in reports.KINDS:
            return Response("unknown report kind", status=404)
        now = _now()
        try:
            day = reports.parse_day(request.args.get("date"), kind, now)
        except ValueError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
        report = reports.build_report(store, kind, day, scope=current_scope(), as_of=now)
        account = current_account()
        store.audit(
            account.username if account else "?",
            "report",
            detail={"kind": kind, "period": report.period, "via": "xlsx"},
        )
        name = f"ember-{kind}-{day.isoformat()}.xlsx"
        return Response(
            report_output.xlsx_bytes(report),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    app.server.add_url_rule("/reports/<kind>.xlsx", "report_xlsx", xlsx)
    app.clientside_callback(
        "function (n) { if (n) { window.print(); } return ''; }",
        Output("report-printed", "children"),
        Input("report-print", "n_clicks"),
        prevent_initial_call=True,
    )
