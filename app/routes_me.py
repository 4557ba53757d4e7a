"""``GET /api/me/tasks``: the signed-in officer's three task lists as JSON.

What ``/me`` shows (:func:`app.officer_actions.my_tasks`, the same call), for a phone app or a
script that polls: ``to_arrive``, ``to_handle`` and ``callbacks``, each a list of tasks (masked;
no personal data), scoped by the session's account. 401 without a session, 403 for a role the
officer page is not for.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from dash import Dash
from flask import Response, jsonify

from app import officer_actions as actions
from app._json_error import json_error
from app.auth import current_account, current_scope
from app.pages.officer import ROLES
from store import IncidentStore

PATH = "/api/me/tasks"
_NO_STORE = {"Cache-Control": "no-store"}


def _task(task: actions.Task) -> dict[str, Any]:
    doc = asdict(task)
    for key, value in doc.items():
        if isinstance(value, datetime | date):
            doc[key] = value.isoformat()
    return doc


def tasks_doc(tasks: actions.Tasks) -> dict[str, Any]:
    """The JSON document of an officer's task lists."""
    lists = {
        "to_arrive": tasks.to_arrive,
        "to_handle": tasks.to_handle,
        "callbacks": tasks.callbacks,
    }
    doc: dict[str, Any] = {k: [_task(t) for t in v] for k, v in lists.items()}
    doc["count"] = len(tasks.all)
    return doc


def register(app: Dash, store: IncidentStore) -> None:
    """Add ``GET /api/me/tasks`` to ``app.server``."""

    def my_tasks() -> Response:
        account = current_account()
        if account is None:
            return json_error(401, "请先登录", "please sign in")
        if account.disabled or account.role not in ROLES:
            return json_error(403, "此角色没有任务清单", f"no task lists for role {account.role!r}")
        doc = tasks_doc(actions.my_tasks(store, current_scope()))
        doc["user"] = account.username
        response = jsonify(doc)
        response.headers.update(_NO_STORE)
        return response

    app.server.add_url_rule(PATH, "api_me_tasks", my_tasks)
