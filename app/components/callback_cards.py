"""The callback view's cards: one incident due for a callback and its outcome form.

The form asks, in order: reached or not (接通), satisfaction (满意 / 基本满意 / 不满意), and for
each open commitment whether it was kept (兑现) or broken (未兑现). A line under the form says
what submitting will do (close, keep waiting, or reopen) before the clerk presses the button.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dash import dcc, html

from app.components.incident_panels import find_field
from app.i18n import Lang, t, t_or
from incidents._time import LOCAL_TZ
from incidents.status import SATISFACTION
from store import IncidentRecord

#: Satisfaction value -> message id of its English label.
SAT_KEYS = {"满意": "cb.sat.1", "基本满意": "cb.sat.2", "不满意": "cb.sat.3"}
#: Preview result -> CSS modifier.
RESULT_CLASS = {"close": "ok", "continue": "wait", "reopen": "reopen", "incomplete": "wait"}


def _radio(kind: str, incident_id: str, options: list[dict[str, Any]], **extra: Any) -> Any:
    return dcc.RadioItems(
        id={"type": kind, "id": incident_id, **extra},
        options=options,
        className="cb-radio",
        inputClassName="cb-radio-input",
        labelClassName="cb-radio-label",
    )


def _commitment(record: IncidentRecord, index: int, lang: Lang) -> html.Div:
    c = next(r for r in record.status.commitments if r.index == index)
    amount = c.commitment.amount
    amount_text = "" if amount is None else f" · {t('cb.amount', lang, amount=f'{amount:,.0f}')}"
    colon = "：" if lang == "zh" else ": "  # full-width in Chinese only
    label = (
        f"{c.commitment.who}{colon}{c.commitment.what}{amount_text} · "
        f"{t('cb.due', lang)} {c.due_date}"
    )
    options = [
        {"label": t("cb.kept", lang), "value": "kept"},
        {"label": t("cb.broken", lang), "value": "broken"},
    ]
    return html.Div(
        [
            html.Div(label, className="cb-commit-label"),
            _radio("cb-check", record.incident.id, options, i=index),
        ],
        className="cb-commit",
    )


def card(
    record: IncidentRecord, due: date, today: date, lang: Lang, may_unmask: bool
) -> html.Article:
    """One due callback: the incident, when it was resolved, its commitments and the form."""
    inc, st = record.incident, record.status
    iid = inc.id
    resolved = st.resolved_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M") if st.resolved_at else ""
    late = due < today
    caller = next((p for p in inc.parties if p.phone or p.name), None)
    who = " ".join(x for x in (caller.name, caller.phone) if x) if caller else ""
    contact: list[Any] = [html.Span(who or "—", id={"type": "cb-contact", "id": iid})]
    if may_unmask and caller is not None:
        contact.append(
            html.Button(
                t("cb.unmask", lang),
                id={"type": "cb-unmask", "id": iid},
                className="cb-btn cb-btn-small",
                n_clicks=0,
            )
        )
    reached = [
        {"label": t("cb.reached", lang), "value": "yes"},
        {"label": t("cb.unreached", lang), "value": "no"},
    ]
    sat = [{"label": t(SAT_KEYS[s], lang), "value": s} for s in SATISFACTION]
    return html.Article(
        [
            html.Div(
                [
                    html.Strong(t_or(f"cat.{st.category}", lang, st.category or "")),
                    html.Span(iid),
                    html.Span(t("cb.late", lang) if late else "", className="cb-late"),
                ],
                className="cb-card-head",
            ),
            html.Div(st.address or inc.address, className="cb-card-addr"),
            html.Div(
                f"{t('cb.resolved', lang)} {resolved} · {t('cb.day', lang)} {due.isoformat()}",
                className="cb-card-time",
            ),
            html.Div([html.Span(t("cb.contact", lang)), *contact], className="cb-contact"),
            html.Fieldset(
                [html.Legend(t("cb.reached.q", lang)), _radio("cb-reached", iid, reached)],
                className="cb-q",
            ),
            html.Fieldset(
                [html.Legend(t("cb.sat.q", lang)), _radio("cb-sat", iid, sat)], className="cb-q"
            ),
            *(
                [
                    html.Fieldset(
                        [
                            html.Legend(t("cb.commit.q", lang)),
                            *[_commitment(record, c.index, lang) for c in st.open_commitments],
                        ],
                        className="cb-q",
                    )
                ]
                if st.open_commitments
                else []
            ),
            dcc.Input(
                id={"type": "cb-note", "id": iid},
                type="text",
                placeholder=t("cb.note", lang),
                className="cb-input",
            ),
            html.Div(id={"type": "cb-preview", "id": iid}, className="cb-preview"),
            html.Button(
                t("cb.submit", lang),
                id={"type": "cb-submit", "id": iid, "v": st.version},
                className="cb-btn cb-btn-submit",
                n_clicks=0,
            ),
        ],
        className="cb-card" + (" cb-card-late" if late else ""),
        id=f"cb-card-{iid}",
    )


def preview(result: str, lang: Lang) -> html.Div:
    """What submitting will do, coloured: close (green), wait (grey), reopen (red)."""
    return html.Div(
        t(f"cb.will.{result}", lang), className=f"cb-will cb-will-{RESULT_CLASS[result]}"
    )


#: Cards on the page at once: the clerk works the queue from the top, and a page of every
#: due callback (hundreds at a city's volume) kept the browser busy for ~50 s (Dash's renderer
#: works per component, ~30 a card). Recording one brings in the next.
CARDS_SHOWN = 20


#: The search field above the list: an incident id or part of an address.
FIND_ID = "cb-find"


#: Seconds of no typing after which the find field searches (``dcc.Input``'s ``debounce``;
#: ``True`` would wait for Enter or leaving the field, a pause never searched).
FIND_PAUSE = 0.6


def find_box(lang: Lang) -> dcc.Input:
    """The field that narrows the list to the callbacks whose id or address holds its text
    (searched when the typing pauses; Enter within the pause)."""
    field = find_field(FIND_ID, t("cb.find", lang), "cb-input cb-find")
    return dcc.Input(**{**field.to_plotly_json()["props"], "debounce": FIND_PAUSE})


def matches(record: IncidentRecord, text: str) -> bool:
    """Whether ``text`` is in the incident's id (any case) or in its (masked) address."""
    address = record.status.address or record.incident.address or ""
    return text.upper() in record.incident.id.upper() or text in address


def card_list(
    due: list[tuple[IncidentRecord, date]],
    today: date,
    lang: Lang,
    may_unmask: bool,
    shown: int = CARDS_SHOWN,
    found: bool = False,
) -> list[Any]:
    """The ``shown`` callbacks due earliest (the overdue first), under the count of all that
    are due (``found``: of those a search found); or a line saying there is none."""
    if not due:
        return [html.P(t("cb.none_found" if found else "cb.empty", lang), className="cb-empty")]
    count = t("cb.found", lang, n=len(due)) if found else t("cb.count", lang, n=len(due))
    head: list[Any] = [html.H2(count, className="cb-count")]
    if len(due) > shown:
        head.append(html.P(t("cb.shown", lang, shown=shown), className="cb-shown"))
    return [*head, *[card(r, d, today, lang, may_unmask) for r, d in due[:shown]]]
