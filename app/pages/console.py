"""The dispatcher console 坐席台 at ``/console`` (dispatcher, commander, admin; desktop).

Left: a field that finds any incident of the account's scope by id or address (a caller rings
back about one in neither list), then the incoming queue (state received, newest first).
Centre: the selected incident with the trinity suggestion, the actions (accept, dispatch, return
with a reason, supervise, escalate to consultation 1–3) and a small map: click on it to set a
pin, then "place here" moves the incident (amend with re-derived trinity codes). Right: the
supervision list (overdue and supervised).

Every callback parses its input and calls one function of :mod:`app.console_render`, which
checks the signed-in account's role, calls :mod:`app.console_actions` (or reads through the
account's scope) and renders the result; the store refuses what is outside the scope, stale or
illegal, and the message bar says so in Chinese first.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from app import console_render as render
from app.auth import current_account
from app.basemap import Basemap, Display
from app.components import console_panels as cp
from app.components import incident_map as im
from app.components.console_directory import directory_of
from app.components.town_map import TownData
from app.i18n import DEFAULT_LANG, lang_of, t
from app.routes_incidents import CONSOLE_ROLES

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
                            cp.find_box(language),
                            html.Div(id="console-found", className="console-list console-found"),
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
            dcc.Store(id="console-lists-key"),
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
        Output("console-lists-key", "data"),
        Input("console-refresh", "n_intervals"),
        Input("console-changed", "data"),
        State("console-selected", "data"),
        State("console-lang", "data"),
        State("console-lists-key", "data"),
    )
    def lists(_n: Any, _changed: Any, selected: str | None, lang: str | None, shown: Any) -> Any:
        return render.lists(url, selected, lang_of(lang), shown)

    @app.callback(
        Output("console-found", "children"),
        Input(cp.FIND_ID, "value"),
        State("console-selected", "data"),
        State("console-lang", "data"),
        prevent_initial_call=True,
    )
    def find(text: str | None, selected: str | None, lang: str | None) -> Any:
        return render.found(url, text, selected, lang_of(lang))

    # Clientside: a click is never lost to a list refresh replacing the rows mid-request.
    app.clientside_callback(
        SELECT_JS,
        Output("console-selected", "data"),
        Input({"type": cp.ROW, "id": ALL}, "n_clicks"),
        Input({"type": cp.SUPERVISION_ROW, "id": ALL}, "n_clicks"),
        Input({"type": cp.FOUND_ROW, "id": ALL}, "n_clicks"),
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
        return render.selected_view(url, display, incident_id, lang_of(lang))

    @app.callback(
        Output("console-pin", "children"),
        Output("console-pin-at", "data"),
        Input(MAP_ID, "clickData"),
        prevent_initial_call=True,
    )
    def pin(click: Any) -> Any:
        return render.pin(click, display)

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
        text, ok = render.run_action(url, str(ctx.triggered_id), current, form, lang_of(lang))
        return cp.message(text, ok), (int(changed or 0) + 1) if ok else no_update
