"""HTTP APIs for other systems (issue #9): OGC API – Features under ``/ogc/``, Open311
GeoReport v2 under ``/open311/v2/``, their OpenAPI document at ``/openapi.json`` and
``/export/incidents.<fmt>``.

:func:`register_api` adds them to the Dash app's Flask server. The OGC and Open311 views are
authenticated by API key or session and exempt from CSRF: the only state-changing call, the
Open311 POST, needs an API key, which is not a cookie, so a forged cross-site request cannot
carry it (the app's session-only POSTs keep their CSRF check).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app._json_error import json_error
from app.api import export, ogc, open311, openapi
from app.api._common import STATE_KEY, ApiState
from store import IncidentStore


def register_api(server: Flask, store: IncidentStore, csrf: CSRFProtect) -> None:
    """Add the APIs to ``server`` (after :func:`app.auth.init_auth`, which made ``csrf``)."""
    server.extensions[STATE_KEY] = ApiState(store)
    for api in (ogc.bp, open311.bp, openapi.bp):
        csrf.exempt(api)
    for bp in (ogc.bp, open311.bp, openapi.bp, export.bp):
        server.register_blueprint(bp)
    _api_not_found(server)
    _api_errors(server)


#: Paths under the API prefixes that the Dash app's catch-all would answer with its page.
_BARE = ("/open311", "/open311/", "/open311/v2", "/open311/v2/", "/api", "/api/")


def _api_errors(server: Flask) -> None:
    """The API prefixes answer in their own error format, in Chinese and English: a path that
    names nothing (the Dash page answered 200 before), and a method a route does not take
    (Werkzeug's English HTML page before; its ``Allow`` header is kept)."""

    def nothing(rest: str = "") -> Response:
        raise NotFound()

    for rule in _BARE:
        server.add_url_rule(rule, f"api_bare_{rule}", nothing, strict_slashes=False)
    server.add_url_rule("/api/<path:rest>", "api_unknown", nothing)
    previous = server.error_handler_spec.get(None, {}).get(405, {}).get(MethodNotAllowed)

    def not_allowed(exc: MethodNotAllowed) -> Any:
        method = request.method
        if request.path.startswith(("/open311", "/ogc", "/api")):
            zh, en = f"此接口不接受 {method}", f"{method} is not allowed here"
            if request.path.startswith("/open311"):
                response = open311.error_response(405, f"{zh} / {en}")
            elif request.path.startswith("/ogc"):
                response = ogc.error(405, "MethodNotAllowed", f"{zh} / {en}")
            else:
                response = json_error(405, zh, en)
            response.headers["Allow"] = ", ".join(exc.valid_methods or ())
            return response
        return previous(exc) if previous is not None else exc

    server.register_error_handler(MethodNotAllowed, not_allowed)


def _api_not_found(server: Flask) -> None:
    """Paths under the API prefixes that match no route at all (the catch-all routes miss a few,
    e.g. with a newline) get the API's error format; other paths keep the app's handling."""
    previous = server.error_handler_spec.get(None, {}).get(404, {}).get(NotFound)

    def not_found(exc: NotFound) -> Any:
        if request.path.startswith("/open311/"):
            return open311.error_response(404, f"没有此接口 / no such resource: {request.path!r}")
        if request.path.startswith("/ogc"):
            return ogc.unknown(request.path)
        if request.path == "/api" or request.path.startswith("/api/"):
            return json_error(404, "没有此接口", f"no such resource: {request.path!r}")
        return previous(exc) if previous is not None else exc

    server.register_error_handler(NotFound, not_found)


__all__ = ["register_api"]
