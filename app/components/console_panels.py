"""Panels of the dispatcher console 坐席台: the queue, the selected incident with its actions,
the supervision list (督办) and the message bar. Plain Dash HTML from the use-case results of
:mod:`app.console_actions`; ids are what :mod:`app.pages.console` wires up."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from app.components import incident_panels as ip
from app.components.callback_cards import FIND_PAUSE
from app.components.console_directory import Directory
from app.components.incident_detail import iso, local
from app.console_actions import QueueRow
from app.i18n import since, t, t_or

ROW = "console-row"
SUPERVISION_ROW = "console-sv-row"
FOUND_ROW = "console-found-row"
#: The find field (app.console_find) and how many of its matches are shown.
FIND_ID = "console-find"
FOUND_SHOWN = 20
#: Rows of the supervision list on the page, the most overdue first. At a city's volume
#: (~200 overdue) the whole list was ~1,500 components, and the renderer spent ~1.8 s on it at
#: every 15-s refresh, the console frozen meanwhile.
SUPERVISION_SHOWN = 50


def message(text: str, ok: bool) -> html.Div:
    """The message bar: success or error (the error text is bilingual, Chinese first)."""
    kind = "console-msg-ok" if ok else "console-msg-error"
    return html.Div(text, className=f"console-msg {kind}", role="status" if ok else "alert")


def queue(rows: list[QueueRow], selected: str | None, lang: str) -> list[Any]:
    """The incoming queue, newest first: time since received, source, category, flags."""
    if not rows:
        return [html.P(t("feed.empty", lang), className="console-muted")]
    out = []
    for r in rows:
        flags = [html.Span(t("con.needs_place", lang), className="console-flag console-flag-warn")]
        out.append(
            html.Button(
                [
                    html.Span(since(r.minutes, lang), className="console-time"),
                    html.B(r.id),
                    html.Span(t_or(f"src.{r.source}", lang, r.source), className="console-muted"),
                    ip.category(r.category, lang),
                    html.Span(r.address, className="console-addr"),
                    *(flags if r.needs_placement else []),
                ],
                id={"type": ROW, "id": r.id},
                className="console-queue-row" + (" selected" if r.id == selected else ""),
                n_clicks=0,
            )
        )
    return out


def supervision(
    frame: pd.DataFrame, selected: str | None, lang: str, shown: int = SUPERVISION_SHOWN
) -> list[Any]:
    """Overdue and supervised open incidents, the ``shown`` most overdue first, under a line
    counting them all when there are more."""
    if frame.empty:
        return [html.P(t("con.sv_empty", lang), className="console-muted")]
    out: list[Any] = []
    if len(frame) > shown:
        out.append(
            html.P(t("con.sv_more", lang, n=len(frame), shown=shown), className="console-muted")
        )
    for r in frame.head(shown).itertuples():
        flags = [html.Span(t(f"con.flag.{f}", lang), className="console-flag") for f in r.flags]
        if r.supervised:
            flags.append(html.Span(t("flag.supervised", lang), className="console-flag"))
        if r.escalation_level:
            flags.append(
                html.Span(t("con.level", lang, n=r.escalation_level), className="console-flag")
            )
        out.append(
            html.Button(
                [
                    html.B(r.id),
                    ip.state(str(r.state), lang),
                    ip.category(str(r.category), lang),
                    html.Span(
                        f"{t('fact.deadline', lang)} {local(iso(r.deadline))}",
                        className="console-time",
                    ),
                    *flags,
                ],
                id={"type": SUPERVISION_ROW, "id": r.id},
                className="console-queue-row" + (" selected" if r.id == selected else ""),
                n_clicks=0,
            )
        )
    return out


def find_box(lang: str) -> dcc.Input:
    """The field that finds an incident by id or address (searched when the typing pauses for
    :data:`app.components.callback_cards.FIND_PAUSE` seconds; Enter within the pause)."""
    field = ip.find_field(FIND_ID, t("con.find", lang), "console-find")
    return dcc.Input(**{**field.to_plotly_json()["props"], "debounce": FIND_PAUSE})


def found(
    frame: pd.DataFrame, selected: str | None, lang: str, shown: int = FOUND_SHOWN
) -> list[Any]:
    """What the find field found, newest first, under a count: each row selects the incident."""
    if frame.empty:
        return [html.P(t("con.none_found", lang), className="console-muted")]
    many = len(frame) > shown
    count = t("con.found_more" if many else "con.found", lang, n=len(frame), shown=shown)
    rows = [
        html.Button(
            [
                html.B(r.id),
                ip.state(str(r.state), lang),
                ip.category(str(r.category), lang),
                html.Span(local(iso(r.received_at)), className="console-time"),
                html.Span(str(r.address or ""), className="console-addr"),
            ],
            id={"type": FOUND_ROW, "id": r.id},
            className="console-queue-row" + (" selected" if r.id == selected else ""),
            n_clicks=0,
        )
        for r in frame.head(shown).itertuples()
    ]
    return [html.P(count, className="console-muted"), *rows]


def _options(codes: dict[str, str]) -> list[dict[str, str]]:
    return [{"label": f"{name} ({code})", "value": code} for code, name in codes.items()]


def detail(body: dict[str, Any], lang: str) -> list[Any]:
    """The selected incident: title, trinity suggestion and facts."""
    head = html.H2(
        [
            html.A(body["id"], href=f"/incidents/{body['id']}", target="_blank"),
            " ",
            ip.category(body.get("category"), lang),
            " ",
            ip.state(body["state"], lang),
            html.Span(f" v{body['version']}", className="console-muted"),
        ]
    )
    hint = []
    if body.get("needs_placement"):
        hint = [
            html.P(
                t("con.needs_place", lang) + " · " + t("con.place_hint", lang),
                className="console-flag-warn",
            )
        ]
    return [head, *hint, ip.trinity(body, lang), ip.facts(body, lang)]


def suggested(body: dict[str, Any]) -> tuple[str | None, str | None, int]:
    """(team, department, next consultation level) to preselect for ``body``."""
    tr = body.get("trinity") or {}
    team = (tr.get("team") or [None])[0]
    dept = (tr.get("department") or [None])[0]
    return team, dept, min(3, int(body.get("escalation_level") or 0) + 1)


def actions(directory: Directory, lang: str) -> html.Div:
    """The action controls (always present; they act on the selected incident)."""
    row1 = [
        html.Button(t("con.accept", lang), id="console-accept", className="console-btn"),
        dcc.Dropdown(
            id="console-team",
            options=_options(directory.teams),
            clearable=False,
            placeholder=t("inc.team", lang),
            className="console-select",
        ),
        dcc.Dropdown(
            id="console-dept",
            options=_options(directory.departments),
            placeholder=t("inc.department", lang),
            className="console-select",
        ),
        html.Button(
            t("con.dispatch", lang),
            id="console-dispatch",
            className="console-btn console-btn-primary",
        ),
    ]
    row2 = [
        dcc.Dropdown(
            id="console-return-to",
            value="110",
            clearable=False,
            options=[
                {"label": t(f"con.to.{k}", lang), "value": k}
                for k in ("110", "12345", "department")
            ],
            className="console-select console-select-small",
        ),
        dcc.Input(
            id="console-reason",
            placeholder=t("con.reason", lang),
            className="console-input",
            maxLength=500,
        ),
        html.Button(t("con.return", lang), id="console-return", className="console-btn"),
    ]
    row3 = [
        html.Button(t("con.supervise", lang), id="console-supervise", className="console-btn"),
        dcc.Dropdown(
            id="console-level",
            value=1,
            clearable=False,
            options=[{"label": t("con.level", lang, n=n), "value": n} for n in (1, 2, 3)],
            className="console-select console-select-small",
        ),
        html.Button(t("con.escalate", lang), id="console-escalate", className="console-btn"),
        html.Button(t("con.place", lang), id="console-place", className="console-btn"),
        html.Span(t("con.place_hint", lang), className="console-muted"),
    ]
    return html.Div(
        [html.Div(r, className="console-actions") for r in (row1, row2, row3)],
        className="console-action-box",
    )


def empty_detail(lang: str) -> list[Any]:
    """Nothing selected."""
    return [html.P(t("con.select", lang), className="console-muted")]
