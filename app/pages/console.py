"""The dispatcher console 坐席台 at ``/console`` (dispatcher, commander, admin; desktop).

Left: the incoming queue (state received, newest first). Centre: the selected incident with the
trinity suggestion, the actions (accept, dispatch, return with a reason, supervise, escalate to
consultation 1–3) and a small map: click on it to set a pin, then "place here" moves the incident
(amend with re-derived trinity codes). Right: the supervision list (overdue and supervised).

Every callback checks the signed-in account's role, then parses its input, calls one function of
:mod:`app.console_actions` (or reads through the account's scope) and renders the result; the
store refuses what is outside the scope, stale or illegal, and the message bar says so in
Chinese first.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from app import console_actions as ca
from app.auth import current_account, current_scope
from app.basemap import Basemap, Display
from app.components import console_panels as cp
from app.components import incident_map as im
from app.components.console_directory import directory_of, store_of
from app.components.incident_detail import detail
from app.components.town_map import TownData
from app.i18n import DEFAULT_LANG, lang_of, t
from app.routes_incidents import CONSOLE_ROLES
from store import IncidentNotFound

REFRESH_MS = 15_000
MAP_ID = "console-map"
#: The clicked row's incident id (rows re-rendered with n_clicks 0 select nothing).
SELECT_JS = """function () {
    const hit = dash_clientside.callback_context.triggered.find((t) => t.value);
    if (!hit) { return dash_clientside.no_update; }
    return JSON.parse(hit.prop_id.slice(0, hit.prop_id.lastIndexOf("."))).id;
}"""
BUTTONS = (
    "console-accept",
    "console-dispatch",
    "console-return",
    "console-supervise",
    "console-escalate",
    "console-place",
)


def _allowed() -> bool:
    account = current_account()
    return account is not None and account.role in CONSOLE_ROLES


def layout(
    data: TownData, basemap: Basemap, url: str, args: dict[str, str], lang: str = DEFAULT_LANG
) -> html.Div:
    """The console for the signed-in account (a notice for anyone else)."""
    language = lang_of(args.get("lang"), lang)
    account = current_account()
    if account is None or account.role not in CONSOLE_ROLES:
        key = "inc.login" if account is None else "con.forbidden"
        return cp.ip.notice(t(key, language), "/login?next=/console", language)
    other = "zh" if language == "en" else "en"
    header = html.Header(
        [
            html.H1(t("con.title", language)),
            html.Span(
                [
                    html.A(t(f"lang.{other}", language), href=f"?lang={other}"),
                    html.Span(account.username, className="console-user"),
                    html.A(t("con.logout", language), href="/logout"),
                ],
                className="console-nav",
            ),
        ],
        className="console-header",
    )
    the_map = im.incident_map(
        MAP_ID,
        data,
        basemap,
        basemap.display,
        None,
        None,
        pin_id="console-pin",
        incident_id="console-mark",
    )
    return html.Div(
        [
            header,
            html.Div(id="console-msg", className="console-msg-bar"),
            html.Main(
                [
                    html.Section(
                        [
                            html.H2(t("con.queue", language)),
                            html.Div(id="console-queue", className="console-list"),
                        ],
                        className="console-col console-col-queue",
                    ),
                    html.Section(
                        [
                            cp.actions(directory_of(url), language),
                            html.Div(the_map, className="console-map-box"),
                            html.Div(cp.empty_detail(language), id="console-detail"),
                        ],
                        className="console-col console-col-detail",
                    ),
                    html.Section(
                        [
                            html.H2(t("con.supervision", language)),
                            html.Div(id="console-supervision", className="console-list"),
                        ],
                        className="console-col console-col-sv",
                    ),
                ],
                className="console-body",
            ),
            dcc.Store(id="console-lang", data=language),
            dcc.Store(id="console-selected"),
            dcc.Store(id="console-current"),
            dcc.Store(id="console-pin-at"),
            dcc.Store(id="console-changed", data=0),
            dcc.Interval(id="console-refresh", interval=REFRESH_MS),
        ],
        className="console-page console-theme",
        lang=language,
    )


def register_callbacks(app: Dash, url: str, display: Display) -> None:
    """Attach the console's callbacks for the store at ``url``; the map draws in ``display``."""

    @app.callback(
        Output("console-queue", "children"),
        Output("console-supervision", "children"),
        Input("console-refresh", "n_intervals"),
        Input("console-changed", "data"),
        State("console-selected", "data"),
        State("console-lang", "data"),
    )
    def lists(_n: Any, _changed: Any, selected: str | None, lang: str | None) -> Any:
        if not _allowed():
            return [], []
        language, scope, store = lang_of(lang), current_scope(), store_of(url)
        return (
            cp.queue(ca.queue(store, scope), selected, language),
            cp.supervision(ca.supervision(store, scope), selected, language),
        )

    # Clientside: a click is never lost to a list refresh replacing the rows mid-request.
    app.clientside_callback(
        SELECT_JS,
        Output("console-selected", "data"),
        Input({"type": cp.ROW, "id": ALL}, "n_clicks"),
        Input({"type": cp.SUPERVISION_ROW, "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("console-detail", "children"),
        Output("console-current", "data"),
        Output("console-team", "value"),
        Output("console-dept", "value"),
        Output("console-level", "value"),
        Output("console-mark", "children"),
        Output("console-pin", "children", allow_duplicate=True),
        Output("console-pin-at", "data", allow_duplicate=True),
        Output(MAP_ID, "viewport"),
        Input("console-selected", "data"),
        Input("console-changed", "data"),
        State("console-lang", "data"),
        prevent_initial_call=True,
    )
    def show(incident_id: str | None, _changed: Any, lang: str | None) -> Any:
        return selected_view(url, display, incident_id, lang_of(lang))

    @app.callback(
        Output("console-pin", "children"),
        Output("console-pin-at", "data"),
        Input(MAP_ID, "clickData"),
        prevent_initial_call=True,
    )
    def pin(click: Any) -> Any:
        point = im.clicked(click, display)
        if point is None or not _allowed():
            return no_update, no_update
        return im.marker(display, point[0], point[1], "pin"), list(point)

    @app.callback(
        Output("console-msg", "children"),
        Output("console-changed", "data"),
        *[Input(b, "n_clicks") for b in BUTTONS],
        State("console-current", "data"),
        State("console-team", "value"),
        State("console-dept", "value"),
        State("console-return-to", "value"),
        State("console-reason", "value"),
        State("console-level", "value"),
        State("console-pin-at", "data"),
        State("console-changed", "data"),
        State("console-lang", "data"),
        prevent_initial_call=True,
    )
    def act(*values: Any) -> Any:
        clicks = values[: len(BUTTONS)]
        if not any(clicks) or ctx.triggered_id not in BUTTONS:
            return no_update, no_update
        current, team, dept, to, reason, level, pin_at, changed, lang = values[len(BUTTONS) :]
        form = {
            "team": team,
            "dept": dept,
            "to": to,
            "reason": reason,
            "level": level,
            "pin": pin_at,
        }
        text, ok = run_action(url, str(ctx.triggered_id), current, form, lang_of(lang))
        return cp.message(text, ok), (int(changed or 0) + 1) if ok else no_update


def selected_view(
    url: str, display: Display, incident_id: str | None, lang: str
) -> tuple[Any, ...]:
    """Outputs of the detail callback for ``incident_id`` (empty when not allowed or found)."""
    empty: tuple[Any, ...] = (cp.empty_detail(lang), None, None, None, 1, [], [], None, no_update)
    account = current_account()
    if not incident_id or account is None or account.role not in CONSOLE_ROLES:
        return empty
    try:
        body = detail(
            store_of(url), current_scope(), directory_of(url), str(incident_id), account.role
        )
    except IncidentNotFound as exc:
        return (cp.message(str(exc), False), *empty[1:])
    team, dept, level = cp.suggested(body)
    lon, lat = body.get("lon"), body.get("lat")
    viewport: Any = no_update
    if lon is not None and lat is not None:
        d = im.ZOOM_DEG
        west, south = display.point(lon - d, lat - d)
        east, north = display.point(lon + d, lat + d)
        viewport = {"bounds": [[south, west], [north, east]], "transition": "flyToBounds"}
    current = {"id": body["id"], "version": body["version"]}
    mark = im.marker(display, lon, lat, "incident")
    return cp.detail(body, lang), current, team, dept, level, mark, [], None, viewport


def run_action(
    url: str, button: str, current: Any, form: dict[str, Any], lang: str
) -> tuple[str, bool]:
    """Run the action of ``button`` on the selected incident; ``(message, succeeded)``."""
    if not _allowed():
        return t("con.forbidden", lang), False
    if not isinstance(current, dict) or not current.get("id"):
        return t("con.select", lang), False
    store, scope = store_of(url), current_scope()
    iid, version = str(current["id"]), int(current.get("version") or 0)
    try:
        if button == "console-accept":
            ca.accept(store, scope, iid, version)
        elif button == "console-dispatch":
            ca.dispatch(
                store,
                scope,
                directory_of(url),
                iid,
                version,
                form["team"],
                department_code=form["dept"],
            )
        elif button == "console-return":
            ca.return_incident(store, scope, iid, version, form["reason"], to=form["to"] or "110")
        elif button == "console-supervise":
            ca.supervise(store, scope, iid, version, form["reason"])
        elif button == "console-escalate":
            ca.escalate(store, scope, iid, version, form["level"], form["reason"])
        elif button == "console-place":
            pin = form["pin"]
            if not isinstance(pin, list) or len(pin) != 2:
                return t("con.no_pin", lang), False
            ca.place(store, scope, directory_of(url), iid, version, float(pin[0]), float(pin[1]))
    except Exception as exc:
        return ca.message_of(exc), False
    return t(f"con.done.{button.removeprefix('console-')}", lang, id=iid), True
