"""The callback view 回访 at ``/callbacks``: callbacks due today, and their outcome in one step.

For callback clerks, commanders and administrators. The list holds every incident whose
next-day, periodic or commitment callback is due today or overdue
(:func:`app.officer_actions.due_callbacks`). Submitting records one ``callback`` event
(:func:`app.officer_actions.record_callback`): unsatisfied or a broken commitment reopens the
incident at once, and the page says so. Callers' phones are masked; "show" unmasks one, which the
store writes to the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ALL, MATCH, Dash, Input, Output, State, ctx, html, no_update

from app import officer_actions as actions
from app.auth import ROLES as ROLE_TABLE
from app.auth import current_scope
from app.components import callback_cards as cards
from app.components.form_memory import keep_input
from app.components.officer_shell import allowed, denied, header, message, protect
from app.config import Settings
from app.i18n import Lang, lang_of, t
from incidents._time import local_date
from incidents.lifecycle import EventError
from store import IncidentNotFound, IncidentStore, ReadOnlyScope, StaleVersion, User

PATH = "/callbacks"
ROLES = ("callback", "commander", "admin")
PREFIX = "cb"


def _may_unmask(account: User) -> bool:
    return ROLE_TABLE[account.role].may_unmask if account.role in ROLE_TABLE else False


def _list(store: IncidentStore, account: User, lang: Lang, find: str | None = None) -> list[Any]:
    """The due cards; with ``find``, those whose id or address contains it (the page shows only
    the first of a long queue: a clerk finds the one a caller rings back about)."""
    today = local_date(actions.utc_now())
    due = actions.due_callbacks(store, current_scope(), today)
    text = (find or "").strip()
    if text:
        due = [(r, d) for r, d in due if cards.matches(r, text)]
    return cards.card_list(due, today, lang, _may_unmask(account), found=bool(text))


def layout(store: IncidentStore, settings: Settings, args: dict[str, str] | None = None) -> Any:
    """The page for the signed-in clerk (or a sign-in prompt)."""
    lang = lang_of((args or {}).get("lang"), settings.lang)
    account = allowed(ROLES)
    if account is None:
        return denied(lang, PATH, PREFIX)
    return html.Div(
        [
            header("cb.title", account, lang, PATH, PREFIX),
            html.Div(id="cb-msg", className="cb-msg-box"),
            cards.find_box(lang),
            html.Div(_list(store, account, lang), id="cb-list"),
            html.Div(lang, id="cb-lang", hidden=True),
        ],
        className="cb-page",
        lang=lang,
    )


def _checks(values: list[Any], ids: list[dict[str, Any]]) -> dict[int, bool]:
    return {int(i["i"]): v == "kept" for i, v in zip(ids, values, strict=True) if v}


def submit(
    store: IncidentStore, trigger: dict[str, Any], values: dict[str, Any], lang: Lang
) -> tuple[html.Div, str]:
    """Record the callback the ``trigger`` (a submit button) names; say what it did, and how
    it went: ``recorded``, ``refused`` (nothing changed) or ``stale`` (someone else changed
    the incident since the card was drawn: nothing changed, the card must be drawn again)."""
    incident_id, version = str(trigger["id"]), int(trigger["v"])
    reached = values.get("reached")
    if reached not in ("yes", "no"):
        return message(t("cb.need_reached", lang), "error", PREFIX), "refused"
    try:
        done = actions.record_callback(
            store, current_scope(), incident_id, version, reached == "yes",
            values.get("sat"), values.get("checks"), values.get("note") or "",
        )  # fmt: skip
    except StaleVersion:
        return message(t("me.stale", lang), "error", PREFIX), "stale"
    except (actions.ActionError, EventError, IncidentNotFound, ReadOnlyScope) as exc:
        return message(str(exc), "error", PREFIX), "refused"
    kind = {"reopen": "warn", "close": "ok", "continue": "ok"}[done.result]
    return message(t(f"cb.done.{done.result}", lang, id=incident_id), kind, PREFIX), "recorded"


def _value_of(states: list[dict[str, Any]], incident_id: str) -> Any:
    return next((s.get("value") for s in states if s["id"].get("id") == incident_id), None)


def register_callbacks(app: Dash, store: IncidentStore, settings: Settings) -> None:
    """The page route (callback clerks, commanders, admins) and its callbacks."""
    protect(app, PATH, ROLES)

    @app.callback(
        Output({"type": "cb-preview", "id": MATCH}, "children"),
        Input({"type": "cb-reached", "id": MATCH}, "value"),
        Input({"type": "cb-sat", "id": MATCH}, "value"),
        Input({"type": "cb-check", "id": MATCH, "i": ALL}, "value"),
        State("cb-lang", "children"),
    )
    def on_form(reached: Any, sat: Any, checks: list[Any], lang: Any) -> Any:
        if reached not in ("yes", "no"):
            return ""
        marks = [None if not c else c == "kept" for c in checks]
        result = actions.preview_result(reached == "yes", sat, marks)
        return cards.preview(result, lang_of(lang))

    @app.callback(
        Output("cb-msg", "children"),
        Output("cb-list", "children"),
        Input({"type": "cb-submit", "id": ALL, "v": ALL}, "n_clicks"),
        State({"type": "cb-reached", "id": ALL}, "value"),
        State({"type": "cb-sat", "id": ALL}, "value"),
        State({"type": "cb-check", "id": ALL, "i": ALL}, "value"),
        State({"type": "cb-note", "id": ALL}, "value"),
        State("cb-lang", "children"),
        Input(cards.FIND_ID, "value"),
        prevent_initial_call=True,
    )
    def on_submit(_clicks: Any, *rest: Any) -> tuple[Any, Any]:
        *args, find = rest
        lang = lang_of(args[-1])
        account = allowed(ROLES)
        if account is None:
            return message(t("me.denied", lang), "error", PREFIX), no_update
        if ctx.triggered_id == cards.FIND_ID:  # what was entered on cards still found stays
            return no_update, keep_input(_list(store, account, lang, find), ctx.states_list[:4])
        trig = ctx.triggered[0] if ctx.triggered else None
        if not trig or not trig.get("value"):
            return no_update, no_update
        trigger = json.loads(trig["prop_id"].rsplit(".", 1)[0])
        iid = str(trigger["id"])
        reached_s, sat_s, check_s, note_s = ctx.states_list[:4]
        mine = [s for s in check_s if s["id"].get("id") == iid]
        values = {
            "reached": _value_of(reached_s, iid),
            "sat": _value_of(sat_s, iid),
            "checks": _checks([s.get("value") for s in mine], [s["id"] for s in mine]),
            "note": _value_of(note_s, iid),
        }
        msg, outcome = submit(store, trigger, values, lang)
        if outcome == "refused":  # nothing changed: keep the list as is, with what was entered
            return msg, no_update
        # drawn again (the incident's new version on its card), what was entered kept: all of
        # it after a stale refusal, all but the recorded card's after a callback
        items = _list(store, account, lang, find)
        return msg, keep_input(items, ctx.states_list[:4], iid if outcome == "recorded" else None)

    @app.callback(
        Output({"type": "cb-contact", "id": MATCH}, "children"),
        Input({"type": "cb-unmask", "id": MATCH}, "n_clicks"),
        prevent_initial_call=True,
    )
    def on_unmask(n: Any) -> Any:
        account = allowed(ROLES)
        if not n or account is None or not _may_unmask(account):
            return no_update
        incident_id = str(ctx.triggered_id["id"])  # type: ignore[index]
        try:
            record = store.get_incident(incident_id, current_scope(unmask=True))  # audited
        except IncidentNotFound:
            return no_update
        caller = next((p for p in record.incident.parties if p.phone or p.name), None)
        return " ".join(x for x in (caller.name, caller.phone) if x) if caller else "—"
