"""Who may look at the map wall: the roles that see the whole town.

The wall's page, its Dash callbacks, its layout (``/_dash-layout`` asked from ``/``) and
``/wall/history.geojson`` read the whole town (the
wall's own read-only scope), so a role bound to an area (grid, beat, team, station, department)
or to one source (the police liaison) must not reach them — not by URL, and not by a forged
callback. This gate runs before every request: such a role asking for the wall's page is sent
to its own page (officers to ``/me``), and any other way in to the wall's data gets 403.
Anonymous requests are left to the sign-in gate (``auth_required``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request
from flask_login import current_user

from app.auth.session import is_static

#: Roles whose scope is the whole town: they may watch the wall.
WALL_ROLES = frozenset({"admin", "commander", "dispatcher", "callback", "analyst", "wall"})
#: Where a role that may not watch the wall lands instead.
HOME = {"grid": "/me", "beat": "/me", "team": "/me", "station": "/me", "department": "/me"}
WALL_PAGES = ("/", "/wall")
WALL_PREFIX = "/wall/"
DASH_UPDATE = "/_dash-update-component"
#: The layout request: the app builds the page of its ``Referer`` into it (app.server).
DASH_LAYOUT = "/_dash-layout"


def may_watch_wall(role: str) -> bool:
    return role in WALL_ROLES


def _forbidden() -> Response:
    body = json.dumps(
        {"error": "大屏仅向全镇范围的角色开放 / the wall is for whole-town roles only"},
        ensure_ascii=False,
    )
    return Response(body, status=403, mimetype="application/json")


def _wall_callback(body: Any) -> bool:
    """Whether a Dash callback request is one of the wall's (its outputs are ``wall-*``) or the
    router asked for the wall's page."""
    if not isinstance(body, dict):
        return False
    output = str(body.get("output", ""))
    if "wall-" in output:
        return True
    if output.startswith(("ember-page.", "..ember-page.")):
        for item in body.get("inputs", []) + body.get("state", []):
            if isinstance(item, dict) and item.get("property") == "pathname":
                path = (str(item.get("value") or "/").rstrip("/")) or "/"
                return path in WALL_PAGES
    return False


def _referer_path() -> str | None:
    """The path of the page that sent this request (same host only)."""
    parts = urlsplit(request.headers.get("Referer", ""))
    if parts.netloc != request.host:
        return None
    return (parts.path.rstrip("/")) or "/"


#: What the ``wall`` account (a wall PC signed in for weeks) may reach: the wall (and the town's
#: layer map ``/map``) and what they load, nothing else (not the incident pages, the JSON API,
#: exports or the OGC/Open311 APIs).
WALL_ACCOUNT_PREFIXES = (
    "/wall/", "/_dash-", "/assets/", "/_favicon", "/favicon", "/login", "/logout",
    "/healthz", "/tiles/",
)  # fmt: skip


def _gate() -> Response | None:
    if is_static(request.path) or not current_user.is_authenticated:
        return None  # static code is public: no need to load the user
    if current_user.role == "wall":
        path = (request.path.rstrip("/")) or "/"
        if path in (*WALL_PAGES, "/map") or request.path.startswith(WALL_ACCOUNT_PREFIXES):
            return None
        return _forbidden()
    if may_watch_wall(current_user.role):
        return None
    path = (request.path.rstrip("/")) or "/"
    if path in WALL_PAGES and request.method == "GET":
        home = HOME.get(current_user.role)
        return redirect(home) if home else _forbidden()  # type: ignore[return-value]
    if request.path.startswith(WALL_PREFIX):
        return _forbidden()
    if request.path == DASH_UPDATE and _wall_callback(request.get_json(silent=True)):
        return _forbidden()
    if request.path == DASH_LAYOUT and _referer_path() in WALL_PAGES:
        return _forbidden()
    return None


def init_wall_gate(server: Flask) -> None:
    """Install the gate on ``server`` (after Flask-Login, so ``current_user`` is known)."""
    server.before_request(_gate)
