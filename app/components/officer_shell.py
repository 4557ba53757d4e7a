"""The frame of the signed-in views (我的网格, 回访, 报表): who is signed in, language, sign-out,
and the guard that keeps each view to its roles.

A view is guarded twice: its URL is a Flask route behind :func:`app.auth.require_login` (so a
browser that is not signed in is sent to ``/login`` and a wrong role gets 403), and its Dash
layout and callbacks ask :func:`allowed` again (a forged callback gets nothing). What the account
may see is decided by the store through :func:`app.auth.current_scope`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Dash, dcc, html
from flask import has_request_context

from app.auth import ROLES, current_account, require_login
from app.i18n import Lang, t
from store import User


def protect(app: Dash, path: str, roles: Sequence[str]) -> None:
    """Serve the Dash page at ``path`` to signed-in accounts of ``roles`` only."""

    def page() -> Any:
        return app.index()

    endpoint = "ember_page_" + path.strip("/").replace("/", "_")
    view = require_login(roles=tuple(roles))(page)
    app.server.add_url_rule(path, endpoint, view)


def allowed(roles: Sequence[str]) -> User | None:
    """The signed-in account if its role is one of ``roles``, else None."""
    if not has_request_context():
        return None
    account = current_account()
    if account is None or account.disabled or account.role not in roles:
        return None
    return account


def role_label(account: User, lang: Lang) -> str:
    spec = ROLES.get(account.role)
    if spec is None:
        return account.role
    return spec.en if lang == "en" else spec.zh


def header(title_key: str, account: User, lang: Lang, path: str, prefix: str) -> html.Header:
    """Title, the account and its role, the language switch and sign-out."""
    other: Lang = "zh" if lang == "en" else "en"
    return html.Header(
        [
            html.H1(t(title_key, lang), className=f"{prefix}-title"),
            html.Div(
                [
                    html.Span(f"{account.username} · {role_label(account, lang)}"),
                    dcc.Link(
                        t(f"lang.{other}", lang),
                        href=f"{path}?lang={other}",
                        refresh=True,
                        className=f"{prefix}-link",
                        id=f"{prefix}-lang",
                    ),
                    html.A(t("me.logout", lang), href="/logout", className=f"{prefix}-link"),
                ],
                className=f"{prefix}-who",
            ),
        ],
        className=f"{prefix}-header",
    )


def denied(lang: Lang, path: str, prefix: str) -> html.Div:
    """What a page shows to someone who may not open it (normally the route redirects first)."""
    return html.Div(
        [
            html.P(t("me.denied", lang)),
            html.A(t("me.login", lang), href=f"/login?next={path}", className=f"{prefix}-link"),
        ],
        className=f"{prefix}-page {prefix}-denied",
        role="alert",
    )


def message(text: str, kind: str = "ok", prefix: str = "officer") -> html.Div:
    """A result line: ``ok`` (green), ``warn`` (amber) or ``error`` (red)."""
    return html.Div(text, className=f"{prefix}-msg {prefix}-msg-{kind}", role="status")
