"""``/login`` and ``/logout``: plain HTML forms (Chinese first, English below), no JavaScript.

A failed sign-in never says whether the username or the password was wrong. Failed attempts are
counted in the store per username and per client address (:class:`~app.auth.session.LoginLimits`);
past the limit the form answers 429 without checking the password. Passwords are never logged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template_string, request, session
from flask_login import current_user, login_user, logout_user

from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.session import IDLE_KEY, SEEN_KEY, AuthUser, idle_seconds, state
from store import UserNotFound

bp = Blueprint("ember_auth", __name__)

#: Usernames longer than this are cut before they are looked up or recorded.
MAX_USERNAME = 64

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title_zh }} · Ember</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#0d1117;color:#e6edf3;font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif}
main{width:min(22rem,90vw);padding:2rem;background:#161b22;border:1px solid #30363d;
border-radius:8px}
h1{font-size:1.3rem;margin:0 0 1.2rem}
small{display:block;color:#8b949e;font-weight:normal;font-size:.8rem}
label{display:block;margin:.8rem 0 .3rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;
border-radius:4px;border:1px solid #30363d;background:#0d1117;color:#e6edf3;font-size:1rem}
button{margin-top:1.2rem;width:100%;padding:.6rem;border:0;border-radius:4px;
background:#e8590c;color:#fff;font-size:1rem;cursor:pointer}
.msg{padding:.6rem;border-radius:4px;background:#3d1d1d;color:#ffb4a8;margin-bottom:.8rem}
.ok{background:#1d3d2a;color:#a8ffc4}
</style></head><body><main>
<h1>{{ title_zh }}<small>{{ title_en }}</small></h1>
{% if message %}<div class="msg {{ kind }}" role="alert">{{ message[0] }}<small>{{ message[1] }}
</small></div>{% endif %}
{% if form == "login" %}
<form method="post" action="{{ url_for('ember_auth.login') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input type="hidden" name="next" value="{{ next }}">
<label for="username">用户名<small>Username</small></label>
<input type="text" id="username" name="username" value="{{ username }}" autocomplete="username"
 autocapitalize="none" required autofocus>
<label for="password">密码<small>Password</small></label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">登录 <small>Sign in</small></button>
</form>
{% else %}
<form method="post" action="{{ url_for('ember_auth.logout') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<p>{{ who }}</p>
<button type="submit">退出登录 <small>Sign out</small></button>
</form>
{% endif %}
</main></body></html>
"""

WRONG = ("用户名或密码错误。", "Wrong username or password.")
LIMITED = (
    "登录失败次数过多，请稍后再试。",
    "Too many failed sign-ins; try again later.",
)
SIGNED_OUT = ("您已退出登录。", "You are signed out.")


def _page(status: int = 200, **values: Any) -> Response:
    values.setdefault("form", "login")
    values.setdefault("title_zh", "登录 Ember")
    values.setdefault("title_en", "Sign in to Ember")
    values.setdefault("message", None)
    values.setdefault("kind", "")
    values.setdefault("username", "")
    values.setdefault("next", "")
    response = Response(render_template_string(PAGE, **values), status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    )
    return response


def _safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another host). Control characters are
    refused first: a browser drops a tab or a line break, so ``/\t/evil.com`` became
    ``//evil.com`` in the Location header (and a line break made the redirect fail)."""
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return "/"
    if target.startswith(("//", "/\\")):
        return "/"
    return target


def _client_ip() -> str:
    return request.remote_addr or "-"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """The sign-in form; POST ``username``, ``password`` (and ``csrf_token``, ``next``)."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":  # also when signed in: switching accounts is allowed
        expired = request.args.get("expired") == "1"
        message = ("会话已超时，请重新登录。", "Your session timed out.") if expired else None
        return _page(next=target, message=message)
    st = state()
    username = request.form.get("username", "").strip()[:MAX_USERNAME]
    password = request.form.get("password", "")
    ip = _client_ip()
    now = st.clock()
    by_user, by_ip = st.store.login_failures(username, ip, now - st.limits.window)
    if by_user >= st.limits.per_user or by_ip >= st.limits.per_ip:
        response = _page(429, message=LIMITED, username=username, next=target)
        response.headers["Retry-After"] = str(int(st.limits.window.total_seconds()))
        return response
    try:
        user, stored = st.store.user_credentials(username)
    except UserNotFound:
        user, stored = None, None
    ok = verify_password(stored, password) and user is not None and not user.disabled
    st.store.login_attempt(username, ip, success=ok, at=now)
    if not ok or user is None or stored is None:
        return _page(401, message=WRONG, username=username, next=target)
    if needs_rehash(stored):
        stored = hash_password(password)
        st.store.user_set_password(username, stored, actor=username)
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    login_user(AuthUser(user, stored))
    session.permanent = True
    session[SEEN_KEY] = now.timestamp()
    session[IDLE_KEY] = idle_seconds(user.role, st.settings)  # the wall PC's lasts for days
    st.store.audit(username, "login", detail={"ip": ip})
    return redirect(target)  # type: ignore[return-value]


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    """GET: a confirmation form; POST (with the CSRF token): end the session."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return _page(message=SIGNED_OUT, kind="ok")
        who = f"{current_user.username}（{current_user.role}）"
        return _page(form="logout", title_zh="退出登录", title_en="Sign out", who=who)
    if current_user.is_authenticated:
        state().store.audit(current_user.username, "logout", detail={"ip": _client_ip()})
    logout_user()
    session.clear()
    return _page(message=SIGNED_OUT, kind="ok")
