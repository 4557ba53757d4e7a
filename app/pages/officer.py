"""The officer view 我的网格 at ``/me``: my area, my tasks, arrived / resolved / photo.

For grid officers, beat officers, team members, fire-station crews and departments, on a phone.
Every action is one call of :mod:`app.officer_actions` with the signed-in account's scope; the
store refuses anything outside it. "Arrived" takes the browser's position (``assets/officer.js``)
and warns, in both languages, when it is more than 500 m from the incident, but records anyway.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from flask import Response, abort, send_file

from app import officer_actions as actions
from app.auth import current_scope, require_login
from app.basemap import Basemap
from app.components import officer_cards as cards
from app.components import officer_map as omap
from app.components.form_memory import keep_input
from app.components.officer_shell import allowed, denied, header, message, protect
from app.components.town_map import TownData
from app.config import Settings
from app.i18n import Lang, lang_of, t
from incidents.lifecycle import EventError
from store import IncidentNotFound, IncidentStore, ReadOnlyScope, StaleVersion, StoreBusy

PATH = "/me"
ROLES = ("grid", "beat", "team", "station", "department")
PREFIX = "officer"


def layout(
    store: IncidentStore,
    data: TownData,
    basemap: Basemap,
    settings: Settings,
    args: dict[str, str] | None = None,
) -> html.Div:
    """The page for the signed-in officer (or a sign-in prompt)."""
    lang = lang_of((args or {}).get("lang"), settings.lang)
    account = allowed(ROLES)
    if account is None:
        return denied(lang, PATH, PREFIX)
    tasks = actions.my_tasks(store, current_scope())
    area = omap.area_collection(data, account)
    points = omap.task_points(tasks, basemap.display, lang)
    return html.Div(
        [
            header(omap.title_key(account), account, lang, PATH, PREFIX),
            html.Div(omap.area_map(data, basemap, area, points), className="officer-map-box"),
            html.Div(id="officer-msg", className="officer-msg-box"),
            cards.photo_limit(settings.photo_max_bytes, lang),
            html.Div(
                cards.task_lists(tasks, lang, settings.photo_max_bytes),
                id="officer-tasks",
            ),
            dcc.Store(id="officer-arrival"),
            dcc.Store(id="officer-lang", data=lang),
        ],
        className="officer-page",
        lang=lang,
    )


def _for(states: list[dict[str, Any]], incident_id: str) -> Any:
    """The value of the pattern-matched state of ``incident_id``."""
    for item in states:
        if item["id"].get("id") == incident_id:
            return item.get("value")
    return None


def _error(exc: Exception, lang: Lang) -> html.Div:
    if isinstance(exc, IncidentNotFound):
        return message(t("me.not_found", lang), "error")
    if isinstance(exc, StaleVersion):
        return message(t("me.stale", lang), "error")
    if isinstance(exc, ReadOnlyScope):
        return message(t("me.read_only", lang), "error")
    return message(str(exc), "error")


def arrival_message(arrival: actions.Arrival, position: dict[str, Any], lang: Lang) -> html.Div:
    """Recorded; far from the incident (both languages) or without a position: a warning."""
    if arrival.far and arrival.distance_m is not None:
        m = round(arrival.distance_m)
        text = f"{t('me.far', 'zh', m=m)} / {t('me.far', 'en', m=m)}"
        return message(text, "warn")
    if position.get("error") or (arrival.distance_m is None and "lon" not in position):
        return message(t("me.arrived.nopos", lang), "warn")
    return message(t("me.arrived", lang), "ok")


def act(
    store: IncidentStore,
    settings: Settings,
    trigger: Any,
    value: Any,
    states: list[Any],
    lang: Lang,
) -> tuple[html.Div, str]:
    """Run the action the ``trigger`` names; say what happened, and how it went:
    ``recorded``, ``refused`` (or nothing to do: nothing changed) or ``stale`` (someone else
    changed the incident since the card was drawn: nothing changed, the cards must be drawn
    again)."""
    scope = current_scope()
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    try:
        if kind == "officer-arrival":
            position = value or {}
            arrival = actions.arrive(
                store, scope, str(position["id"]), int(position["v"]), position
            )
            return arrival_message(arrival, position, lang), "recorded"
        incident_id = str(trigger["id"])
        if kind == "officer-resolve":
            result, who, what, amount, due = (_for(s, incident_id) for s in states)
            commitment = actions.parse_commitment(who, what, amount, due)
            actions.resolve(
                store, scope, incident_id, int(trigger["v"]), result or "",
                [commitment] if commitment else [],
            )  # fmt: skip
            return message(t("me.resolved", lang), "ok"), "recorded"
        if kind == "officer-photo":
            content = actions.decode_upload(value or "")
            name = actions.add_photo(
                store, scope, incident_id, content,
                photo_dir=settings.photo_dir, max_bytes=settings.photo_max_bytes,
            )  # fmt: skip
            src = f"/photos/{incident_id}/{name}"
            saved = html.Div(
                [
                    message(t("me.photo.saved", lang), "ok"),
                    html.Img(src=src, className="officer-thumb"),
                ]
            )
            return saved, "recorded"
    except (
        actions.ActionError,
        EventError,
        IncidentNotFound,
        StaleVersion,
        ReadOnlyScope,
        StoreBusy,
    ) as exc:
        return _error(exc, lang), "stale" if isinstance(exc, StaleVersion) else "refused"
    return message(t("me.nothing", lang), "warn"), "refused"


def register_callbacks(
    app: Dash, store: IncidentStore, data: TownData, basemap: Basemap, settings: Settings
) -> None:
    """The page route (signed-in officers only) and its callbacks."""
    protect(app, PATH, ROLES)
    _photo_route(app, store, settings)
    app.clientside_callback(
        ClientsideFunction("officer", "locate"),
        Output("officer-arrival", "data"),
        Input({"type": "officer-arrive", "id": ALL, "v": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    fields = ("officer-result", "officer-c-who", "officer-c-what", "officer-c-amount")

    @app.callback(
        Output("officer-msg", "children"),
        Output("officer-tasks", "children"),
        Output(omap.POINTS_ID, "data"),
        Input("officer-arrival", "data"),
        Input({"type": "officer-resolve", "id": ALL, "v": ALL}, "n_clicks"),
        Input({"type": "officer-photo", "id": ALL}, "contents"),
        *[State({"type": f, "id": ALL}, "value") for f in (*fields, "officer-c-due")],
        State("officer-lang", "data"),
        prevent_initial_call=True,
    )
    def on_action(*args: Any) -> tuple[Any, Any, Any]:
        lang = lang_of(args[-1])
        if allowed(ROLES) is None:
            return message(t("me.denied", lang), "error"), no_update, no_update
        trig = ctx.triggered[0] if ctx.triggered else None
        if not trig or not trig.get("value"):
            return no_update, no_update, no_update
        prop = trig["prop_id"].rsplit(".", 1)[0]
        trigger = json.loads(prop) if prop.startswith("{") else prop
        states = [ctx.states_list[i] for i in range(5)]
        msg, outcome = act(store, settings, trigger, trig["value"], states, lang)
        if outcome == "refused":  # nothing changed: keep the cards, an open form, what was typed
            return msg, no_update, no_update
        # drawn again (each card with its incident's version now), what was typed kept: all of
        # it but a resolved card's form (an arrival or a photo leaves a form half typed alone)
        tasks = actions.my_tasks(store, current_scope())
        resolved = outcome == "recorded" and isinstance(trigger, dict)
        done = str(trigger["id"]) if resolved and trigger.get("type") == "officer-resolve" else None
        return (
            msg,
            keep_input(cards.task_lists(tasks, lang, settings.photo_max_bytes), states, done),
            omap.task_points(tasks, basemap.display, lang),
        )


def _photo_route(app: Dash, store: IncidentStore, settings: Settings) -> None:
    """``GET /photos/<incident id>/<sha256>.<ext>``: a photo, only to signed-in users whose
    scope includes the incident (404 otherwise, as for the incident itself)."""

    @require_login
    def photo(incident_id: str, name: str) -> Response:
        try:
            record = store.get_incident(incident_id, current_scope())
            path = actions.photo_path(settings.photo_dir, record.incident.id, name)
        except (IncidentNotFound, actions.ActionError):
            abort(404)
        if name not in actions.photos_of(record) or not path.is_file():
            abort(404)
        media = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
        response = send_file(path.resolve(), mimetype=media[name.rsplit(".", 1)[1]])
        response.headers["Cache-Control"] = "private, max-age=86400"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    app.server.add_url_rule("/photos/<incident_id>/<name>", "officer_photo", photo)
