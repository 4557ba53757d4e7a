"""What the dispatcher console's callbacks show and do (:mod:`app.pages.console`): each checks
the signed-in account's role, calls :mod:`app.console_actions` or reads through the account's
scope, and renders the result with :mod:`app.components.console_panels`."""

from __future__ import annotations

import hashlib
from typing import Any

from dash import no_update
from plotly.io.json import to_json_plotly

from app import console_actions as ca
from app import console_find
from app.auth import current_account, current_scope
from app.basemap import Display
from app.components import console_panels as cp
from app.components import incident_map as im
from app.components.console_directory import directory_of, store_of
from app.components.incident_detail import detail
from app.i18n import t
from app.routes_incidents import CONSOLE_ROLES
from store import IncidentNotFound, User


def console_account() -> User | None:
    """The signed-in account if it may use the console, else ``None``."""
    account = current_account()
    return account if account is not None and account.role in CONSOLE_ROLES else None


def allowed() -> bool:
    """Whether the signed-in account may use the console."""
    return console_account() is not None


def lists(
    url: str, selected: str | None, lang: str, shown: list[str] | None = None
) -> tuple[Any, Any, list[str]]:
    """The queue and the supervision list, ``selected`` marked (empty when not allowed), and
    their digests.

    ``shown`` holds the digests of the lists the page shows: a list that has not changed is
    ``no_update``, so a refresh re-renders only what changed (the renderer's work grows with
    the number of components; a re-sent list is rebuilt whole)."""
    if not allowed():
        return [], [], ["", ""]
    scope, store = current_scope(), store_of(url)
    new = [
        cp.queue(ca.queue(store, scope), selected, lang),
        cp.supervision(ca.supervision(store, scope, limit=None), selected, lang),
    ]
    keys = [_digest(components) for components in new]
    old = [*(shown or []), "", ""]
    out = [no_update if key == was else c for c, key, was in zip(new, keys, old, strict=False)]
    return out[0], out[1], keys


def found(url: str, text: str | None, selected: str | None, lang: str) -> list[Any]:
    """The incidents the find field's ``text`` matches within the account's scope (nothing when
    not allowed or nothing asked)."""
    text = (text or "").strip()
    if not allowed() or not text:
        return []
    return cp.found(console_find.find(store_of(url), current_scope(), text), selected, lang)


def _digest(components: Any) -> str:
    """A digest of components as the page receives them (Dash's own JSON encoding)."""
    return hashlib.sha256(to_json_plotly(components).encode()).hexdigest()[:32]


def pin(click: Any, display: Display) -> tuple[Any, Any]:
    """The pin marker and its point for a click on the console's map."""
    point = im.clicked(click, display)
    if point is None or not allowed():
        return no_update, no_update
    return im.marker(display, point[0], point[1], "pin"), list(point)


def selected_view(
    url: str, display: Display, incident_id: str | None, lang: str
) -> tuple[Any, ...]:
    """Outputs of the detail callback for ``incident_id`` (empty when not allowed or found)."""
    empty: tuple[Any, ...] = (cp.empty_detail(lang), None, None, None, 1, [], [], None, no_update)
    account = console_account()
    if not incident_id or account is None:
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
    if not allowed():
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
