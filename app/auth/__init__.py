"""Sign-in, sessions, roles and scopes for the Dash app (issue #7).

:func:`init_auth` wires everything onto the Dash app's Flask server: the secret key, cookie
flags, Flask-Login, CSRF protection on every state-changing request (see
:mod:`app.auth.session` for how Dash callbacks carry the token), ``/login`` and ``/logout``,
the idle timeout and, with ``auth_required``, a gate in front of every page. What a signed-in
account may see is a :class:`~store.Scope` (:mod:`app.auth.roles`) that the store enforces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from app.auth.roles import ROLES, Forbidden, RoleError, check_areas, scope_for, user_scope
from app.auth.secret import secret_key
from app.auth.session import (
    STATE_KEY,
    AuthState,
    LoginLimits,
    configure,
    current_account,
    current_scope,
    require_login,
    utc_now,
)
from app.auth.views import bp
from app.auth.wall_gate import init_wall_gate
from app.config import Settings
from store import IncidentStore

log = logging.getLogger(__name__)


def init_auth(
    server: Flask,
    store: IncidentStore,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    limits: LoginLimits | None = None,
) -> CSRFProtect:
    """Add sign-in, sessions and CSRF protection to ``server``.

    Parameters
    ----------
    server : flask.Flask
        The Dash app's server (``app.server``).
    store : IncidentStore
        Where accounts and sign-in attempts are kept.
    settings : Settings
        ``secret_key``, ``session_idle_minutes``, ``auth_required``, ``cookie_secure``.
    clock : callable, optional
        Returns the aware current time (tests move it to try the idle timeout).
    limits : LoginLimits, optional
        Failed sign-ins allowed per username and per address.

    Returns
    -------
    flask_wtf.csrf.CSRFProtect
        The CSRF extension (``exempt`` token-authenticated APIs with it).
    """
    server.secret_key = secret_key(settings)
    server.extensions[STATE_KEY] = AuthState(store, settings, clock, limits or LoginLimits())
    csrf = CSRFProtect(server)
    configure(server, settings)
    init_wall_gate(server)  # area roles never reach the whole-town wall (app.auth.wall_gate)
    server.register_blueprint(bp)
    if settings.auth_required and not store.user_list():
        log.warning(
            "还没有任何账号，无法登录：运行 ember users add NAME --role admin"
            "（演示数据：make demo）/ no accounts yet, so nobody can sign in: run "
            "`ember users add NAME --role admin` (demo data: `make demo` makes demo accounts)"
        )
    return csrf


__all__ = [
    "ROLES",
    "Forbidden",
    "LoginLimits",
    "RoleError",
    "check_areas",
    "current_account",
    "current_scope",
    "init_auth",
    "require_login",
    "scope_for",
    "user_scope",
]
