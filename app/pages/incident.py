"""The incident page ``/incidents/<id>``: facts, map, trinity people, timeline, related and
nearby incidents, audit. Personal data is masked; roles that may unmask have an explicit button
(the store writes the view to the audit log).

The layout is built in the router callback, so it reads the store with the signed-in account's
scope: outside it the page says "not found" and shows nothing of the incident (the HTTP gate in
:mod:`app.routes_incidents` has already answered 404 to the page URL itself).
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update

from app.auth import Forbidden, current_account, current_scope
from app.auth.roles import ROLES
from app.basemap import Basemap
from app.components import incident_panels as ip
from app.components.console_directory import directory_of, store_of
from app.components.incident_detail import detail
from app.components.incident_map import incident_map
from app.components.town_map import TownData
from app.i18n import DEFAULT_LANG, lang_of, t
from store import IncidentNotFound

PREFIX = "/incidents/"


def layout(
    data: TownData,
    basemap: Basemap,
    url: str,
    args: dict[str, str],
    lang: str = DEFAULT_LANG,
) -> html.Div:
    """The page of incident ``args["incident_id"]`` for the signed-in account."""
    language = lang_of(args.get("lang"), lang)
    incident_id = args.get("incident_id", "")
    account = current_account()
    if account is None:
        return ip.notice(t("inc.login", language), f"/login?next={PREFIX}{incident_id}", language)
    try:
        body = detail(store_of(url), current_scope(), directory_of(url), incident_id, account.role)
    except IncidentNotFound:
        return ip.notice(t("inc.not_found", language, id=incident_id), "/", language)
    may_unmask = ROLES[account.role].may_unmask
    the_map = incident_map(
        "incident-map", data, basemap, basemap.display, body.get("lon"), body.get("lat")
    )
    return html.Div(
        [
            ip.header(body, account.username, language, account.role),
            html.Main(
                [
                    html.Section(
                        [ip.facts(body, language), ip.parties(body, may_unmask, language)],
                        className="incident-col",
                    ),
                    html.Section(
                        [
                            html.Div(the_map, className="incident-map-box"),
                            ip.trinity(body, language),
                        ],
                        className="incident-col",
                    ),
                    html.Section(
                        [
                            ip.timeline(body, language),
                            ip.links(body, language),
                            ip.audit(body, language),
                        ],
                        className="incident-col",
                    ),
                ],
                className="incident-body",
            ),
            dcc.Store(id="incident-id", data=incident_id),
            dcc.Store(id="incident-lang", data=language),
        ],
        className="incident-page console-theme",
        lang=language,
    )


def register_callbacks(app: Dash, url: str) -> None:
    """The unmask button: parties shown unmasked, for roles that may, audited by the store."""

    @app.callback(
        Output("incident-parties", "children"),
        Input("incident-unmask", "n_clicks"),
        State("incident-id", "data"),
        State("incident-lang", "data"),
        prevent_initial_call=True,
    )
    def unmask(clicks: int | None, incident_id: str | None, lang: str | None) -> Any:
        return unmasked_parties(url, clicks, incident_id, lang_of(lang))


def unmasked_parties(url: str, clicks: int | None, incident_id: str | None, lang: str) -> Any:
    """What the unmask button shows: the parties unmasked, or a message (never another area's
    incident: the store answers "not found" outside the scope)."""
    if not clicks or not incident_id:
        return no_update
    account = current_account()
    if account is None:
        return ip.error(t("inc.login", lang))
    try:
        scope = current_scope(unmask=True)
        body = detail(store_of(url), scope, directory_of(url), str(incident_id), account.role)
    except Forbidden:
        return ip.error(t("inc.no_unmask", lang))
    except IncidentNotFound:
        return ip.error(t("inc.not_found", lang, id=incident_id))
    return ip.party_rows(body, lang)
