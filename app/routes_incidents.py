"""Flask routes of the incident views: the page gates and a small JSON API.

- ``GET /incidents/<id>``: the incident page. Signed-in users only; an incident outside the
  caller's scope is a real HTTP 404 (not a page saying so), then Dash's index is served and the
  router renders :mod:`app.pages.incident`.
- ``GET /console``: the dispatcher console, for :data:`CONSOLE_ROLES` (others: 403).
- ``GET /api/incidents/<id>[?unmask=1]``: the incident as JSON (:mod:`app.components
  .incident_detail`), masked unless the role may unmask and asks (the store audits it).
- ``GET /api/incidents?state=…&category=…&source=…&limit=…``: incidents within the scope,
  masked, newest first (at most :data:`MAX_LIST`).

Every answer goes through the store with the caller's :class:`~store.Scope`: 404 outside it,
whichever way in. Nobody signed in: a redirect to ``/login`` for the pages, 401 for the API.
"""

from __future__ import annotations

from typing import Any

from dash import Dash
from flask import Response, jsonify, request

from app._json_error import json_error
from app.auth import Forbidden, current_account, current_scope, require_login
from app.components.console_directory import directory_of, store_of
from app.components.incident_detail import STATUS_ONLY_ROLES, detail, iso
from incidents.masking import mask_text
from store import IncidentNotFound, IncidentQuery

#: Roles that may open the dispatcher console.
CONSOLE_ROLES = ("dispatcher", "commander", "admin")
MAX_LIST = 500
_NO_STORE = {"Cache-Control": "no-store"}


def _not_found(incident_id: str) -> Response:
    return json_error(
        404,
        f"事项不存在或不在您的权限范围内：{incident_id}",
        f"no incident {incident_id!r} within your scope",
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def register(app: Dash, url: str) -> None:
    """Add the page gates and the API to ``app.server`` for the store at ``url``."""
    server = app.server

    @require_login
    def incident_page(incident_id: str) -> Any:
        try:
            store_of(url).get_incident(incident_id, current_scope())
        except IncidentNotFound:
            return Response(
                f"事项不存在或不在您的权限范围内 / no incident {incident_id} within your scope",
                404,
                {"Content-Type": "text/plain; charset=utf-8", **_NO_STORE},
            )
        return Response(app.index(), headers=_NO_STORE, mimetype="text/html")

    @require_login(roles=CONSOLE_ROLES)
    def console_page() -> Any:
        return Response(app.index(), headers=_NO_STORE, mimetype="text/html")

    def api_incident(incident_id: str) -> Response:
        account = current_account()
        if account is None:
            return json_error(401, "请先登录", "please sign in")
        try:
            scope = current_scope(unmask=_truthy(request.args.get("unmask")))
        except Forbidden as exc:
            return json_error(403, "您的角色无权查看个人信息", str(exc))
        try:
            body = detail(store_of(url), scope, directory_of(url), incident_id, account.role)
        except IncidentNotFound:
            return _not_found(incident_id)
        response = jsonify(body)
        response.headers.update(_NO_STORE)
        return response

    def api_incidents() -> Response:
        account = current_account()
        if account is None:
            return json_error(401, "请先登录", "please sign in")
        args = request.args
        try:
            limit = int(args.get("limit", "100"))
        except ValueError:
            limit = -1
        if limit < 0:
            return json_error(400, "limit 须为非负整数", "limit must be a whole number, 0 or more")
        limit = min(MAX_LIST, limit)
        query = IncidentQuery(
            states=tuple(args.getlist("state")),
            categories=tuple(args.getlist("category")),
            sources=tuple(args.getlist("source")),
            newest_first=True,
            limit=limit,
        )
        found = store_of(url).query_incidents(query, current_scope())
        status_only = account.role in STATUS_ONLY_ROLES
        items = []
        for r in found.itertuples():
            item: dict[str, Any] = {
                "id": r.id,
                "source": r.source,
                "state": r.state,
                "category": r.category,
                "received_at": iso(r.received_at),
                "version": int(r.version),
                "team_code": r.team_code if isinstance(r.team_code, str) else None,
            }
            if not status_only:
                point = r.geometry
                located = point is not None and not point.is_empty
                item.update(
                    address=mask_text(str(r.address or "")) or "",
                    grid_code=r.grid_code if isinstance(r.grid_code, str) else None,
                    lon=float(point.x) if located else None,
                    lat=float(point.y) if located else None,
                )
            items.append(item)
        response = jsonify(count=len(items), items=items, masked=True)
        response.headers.update(_NO_STORE)
        return response

    server.add_url_rule("/incidents/<incident_id>", "incident_page", incident_page)
    # With a trailing slash too: otherwise Dash's catch-all would serve it without the gate.
    server.add_url_rule("/incidents/<incident_id>/", "incident_page_slash", incident_page)
    server.add_url_rule("/console", "console_page", console_page)
    server.add_url_rule("/api/incidents/<incident_id>", "api_incident", api_incident)
    server.add_url_rule("/api/incidents", "api_incidents", api_incidents)
