"""Sessions on the Dash app's Flask server: Flask-Login, idle timeout, CSRF, the login gate.

Session state lives in the signed session cookie (Flask's default) and accounts and sign-in
attempts in the store, so any number of gunicorn workers serve the same users; nothing is kept
in process memory.

CSRF
----
Every POST, PUT, PATCH and DELETE is checked by Flask-WTF's :class:`~flask_wtf.csrf.CSRFProtect`,
including Dash's ``/_dash-update-component`` callbacks. HTML forms (``/login``, ``/logout``)
carry the token in a hidden ``csrf_token`` field. For Dash we rely on what dash-renderer already
does (``Dash(csrf_token_name=…, csrf_header_name=…)``, defaults ``_csrf_token`` /
``X-CSRFToken``): it reads the cookie ``_csrf_token`` and sends its value as the
``X-CSRFToken`` header on every callback request. We set that cookie to
:func:`flask_wtf.csrf.generate_csrf` (a token signed with the secret key and bound to this
session), and Flask-WTF validates the header against the session. Another site can neither read
the cookie (same-origin policy) nor set the header on a cross-site form post, and the session
cookie is SameSite=Lax, so a forged request fails twice. This keeps the real synchronizer-token
check on every state-changing request (not only Origin/Referer checks, which proxies and some
browsers strip) with no change to the renderer. Scripts sign in like a browser: GET ``/login``,
then POST with the form's ``csrf_token`` (or the ``X-CSRFToken`` header).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.exceptions import Forbidden, Unauthorized
from wtforms import ValidationError

from app._json_error import json_error
from app.auth.roles import user_scope
from app.config import Settings
from store import IncidentStore, Scope, User, UserNotFound

STATE_KEY = "ember_auth"
#: Cookie dash-renderer reads the CSRF token from (Dash's ``csrf_token_name`` default).
CSRF_COOKIE = "_csrf_token"
SESSION_COOKIE = "ember_session"
#: Session key of the time of the last request (epoch seconds), for the idle timeout.
SEEN_KEY = "ember_seen"
#: Refresh the last-seen time at most this often (fewer Set-Cookie headers).
SEEN_GRANULARITY = 30
#: Session key of the account's idle limit in seconds (the session cookie lives as long).
IDLE_KEY = "ember_idle"
#: Roles whose sessions last ``wall_session_days`` instead of ``session_idle_minutes``: the
#: command room's always-on wall PC, which restarts unattended.
LONG_SESSION_ROLES = frozenset({"wall"})
#: Paths open to everyone when ``auth_required`` is on (besides the login views).
PUBLIC_PREFIXES = (
    "/assets/", "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico", "/healthz",
)  # fmt: skip
#: Paths that authenticate each request themselves (API key or session; app.api), so the
#: gate lets them through and they answer anonymous callers as their docs say.
API_PREFIXES = ("/ogc", "/open311/", "/openapi.json")
#: Paths whose responses may be cached publicly: they never set a cookie.
QUIET_PREFIXES = (*PUBLIC_PREFIXES, "/tiles/")

F = TypeVar("F", bound=Callable[..., Any])


def is_static(path: str) -> bool:
    """Whether ``path`` is static code or a health probe (:data:`PUBLIC_PREFIXES`): open to
    everyone, and served without loading the signed-in user from the store."""
    return path.startswith(PUBLIC_PREFIXES)


@dataclass(frozen=True)
class LoginLimits:
    """Failed sign-ins allowed within ``window`` per username and per client address."""

    per_user: int = 5
    per_ip: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class AuthState:
    """What the auth views need, kept in ``server.extensions[STATE_KEY]``."""

    store: IncidentStore
    settings: Settings
    clock: Callable[[], datetime]
    limits: LoginLimits


def state() -> AuthState:
    """The auth state of the current app."""
    return cast(AuthState, current_app.extensions[STATE_KEY])


def utc_now() -> datetime:
    return datetime.now(UTC)


class AuthUser(UserMixin):  # type: ignore[misc]
    """The signed-in account as Flask-Login sees it.

    ``get_id`` carries a fingerprint of the password hash (an HMAC with the secret key), so a
    password change ends every other session of the account at its next request.
    """

    def __init__(self, user: User, password_hash: str):
        self.user = user
        self._fingerprint = fingerprint(password_hash)

    def get_id(self) -> str:
        return f"{self.user.username}|{self._fingerprint}"

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role


class Anonymous(AnonymousUserMixin):  # type: ignore[misc]
    username = ""
    role = ""


def fingerprint(password_hash: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def _load_user(user_id: str) -> AuthUser | None:
    username, _, mark = user_id.rpartition("|")
    try:
        user, password_hash = state().store.user_credentials(username)
    except UserNotFound:
        return None
    if user.disabled or not hmac.compare_digest(mark, fingerprint(password_hash)):
        return None
    return AuthUser(user, password_hash)


def idle_seconds(role: str, settings: Settings) -> int:
    """Seconds without a request after which a session of ``role`` ends: ``wall_session_days``
    for the wall's role, ``session_idle_minutes`` for everyone else."""
    if role in LONG_SESSION_ROLES:
        return settings.wall_session_days * 24 * 3600
    return settings.session_idle_minutes * 60


class RoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie's lifetime set per session by its role
    (:data:`IDLE_KEY`, written at sign-in). ``PERMANENT_SESSION_LIFETIME`` is the longest limit,
    which bounds the cookie signature's age; each request still checks the role's own idle
    limit on the server (:func:`_idle_timeout`)."""

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if session.permanent and IDLE_KEY in session:
            return datetime.now(UTC) + timedelta(seconds=float(session[IDLE_KEY]))
        return super().get_expiration_time(app, session)


def configure(server: Flask, settings: Settings) -> LoginManager:
    """Cookie flags, Flask-Login and CSRF on ``server`` (``server.secret_key`` is set)."""
    longest = max(settings.session_idle_minutes * 60, settings.wall_session_days * 24 * 3600)
    server.session_interface = RoleSessionInterface()
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: links from other systems (a chat message with /incidents/…) still open signed in,
        # while cross-site POSTs carry no session; the CSRF token covers the rest.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=longest),
        # The cookie is re-sent when the last-seen time moves (every SEEN_GRANULARITY s), not on
        # every response: tiles and polls stay cookie-free.
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        # The token lives as long as the session (which ends on idle); a wall left open for days
        # keeps working while its session does.
        WTF_CSRF_TIME_LIMIT=None,
    )
    manager = LoginManager(server)
    manager.user_loader(_load_user)
    manager.anonymous_user = Anonymous
    manager.login_view = "ember_auth.login"
    manager.session_protection = "basic"
    server.before_request(_idle_timeout)
    server.before_request(_gate)
    server.after_request(_csrf_cookie)
    server.register_error_handler(CSRFError, _csrf_error)
    return manager


def _idle_timeout() -> None:
    """End the session after its role's idle limit without a request (:func:`idle_seconds`).

    Static code (scripts, styles) is left alone: it holds no data, and loading the user from
    the store for each of a page's ~20 script requests cost ~5 ms apiece."""
    if is_static(request.path) or not current_user.is_authenticated:
        return
    st = state()
    now = st.clock().timestamp()
    seen = session.get(SEEN_KEY)
    if seen is not None and now - float(seen) > idle_seconds(current_user.role, st.settings):
        logout_user()
        session.clear()
        g.ember_expired = True
        return
    quiet = request.path.startswith(QUIET_PREFIXES)
    if not quiet and (seen is None or now - float(seen) >= SEEN_GRANULARITY):
        session[SEEN_KEY] = now


def _public(path: str) -> bool:
    return request.endpoint in ("ember_auth.login", "ember_auth.logout", "static") or (
        is_static(path) or path.startswith(API_PREFIXES)
    )


def _gate() -> Response | None:
    """With ``auth_required``, every request but the login views and static files needs a user
    (static files are let through before the user is loaded)."""
    if not state().settings.auth_required or _public(request.path):
        return None
    if current_user.is_authenticated:
        return None
    return _unauthorized()


def _unauthorized() -> Response:
    """A redirect to ``/login`` for a page, 401 for anything else (Dash callbacks, APIs; the
    JSON API's in its JSON error format)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return json_error(401, "请先登录", "please sign in")
    if request.method == "GET" and request.accept_mimetypes.accept_html:
        target = request.full_path.rstrip("?") if request.query_string else request.path
        if g.get("ember_expired"):
            return cast(Response, redirect(url_for("ember_auth.login", next=target, expired="1")))
        return cast(Response, redirect(url_for("ember_auth.login", next=target)))
    raise Unauthorized("请先登录 / please sign in")


def _csrf_cookie(response: Response) -> Response:
    """Hand dash-renderer the session's CSRF token in ``_csrf_token`` (see the module doc)."""
    if request.path.startswith(QUIET_PREFIXES):
        return response
    current = request.cookies.get(CSRF_COOKIE)
    try:
        if current is None:
            raise ValidationError("missing")
        validate_csrf(current)
    except ValidationError:
        settings = state().settings
        response.set_cookie(
            CSRF_COOKIE,
            generate_csrf(),
            httponly=False,  # dash-renderer must read it
            samesite="Lax",
            secure=settings.cookie_secure,
            path="/",
        )
    return response


def _csrf_error(error: CSRFError) -> tuple[str, int, dict[str, str]]:
    text = (
        "请求缺少有效的安全令牌，请刷新页面后重试 / the request has no valid CSRF token; "
        f"reload the page and try again ({error.description})"
    )
    return text, 400, {"Content-Type": "text/plain; charset=utf-8"}


def require_login(view: F | None = None, *, roles: tuple[str, ...] | None = None) -> Any:
    """Decorate a Flask view: signed-in users only (of ``roles``, when given; else 403).

    Works whether or not ``auth_required`` is on. Use as ``@require_login`` or
    ``@require_login(roles=("dispatcher", "commander"))``.
    """

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthorized()
            if roles is not None and current_user.role not in roles:
                raise Forbidden("您的角色无权访问此页 / your role may not open this page")
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate(view) if view is not None else decorate


def current_account() -> User | None:
    """The signed-in account, or ``None``."""
    return current_user.user if current_user.is_authenticated else None


def current_scope(*, unmask: bool = False) -> Scope:
    """The store scope of the signed-in account (see :func:`app.auth.roles.scope_for`).

    Raises
    ------
    werkzeug.exceptions.Unauthorized
        Nobody is signed in.
    app.auth.roles.Forbidden
        ``unmask`` for a role that may not see personal data.
    """
    account = current_account()
    if account is None:
        raise Unauthorized("请先登录 / please sign in")
    return user_scope(account, unmask=unmask)
