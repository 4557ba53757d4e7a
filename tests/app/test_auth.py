"""Sign-in, sessions, rate limiting, idle timeout and CSRF on a small Dash app (issue #7)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dash import Dash, Input, Output, dcc, html
from flask import jsonify
from flask.testing import FlaskClient

from app.auth import LoginLimits, current_scope, init_auth, require_login
from app.auth.passwords import hash_password
from app.auth.session import CSRF_COOKIE, SESSION_COOKIE
from app.config import Settings
from store import GeoPackageStore, IncidentStore
from tests._signin import WALL_USER, sign_in_client, with_account

PASSWORD = "correct horse 42"
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def _app(store: IncidentStore, settings: Settings, clock: Clock) -> Dash:
    app = Dash(__name__, serve_locally=True)
    app.layout = html.Div([dcc.Input(id="inp", value="a"), html.Div(id="out")])

    @app.callback(Output("out", "children"), Input("inp", "value"))
    def echo(value: str) -> str:
        return f"echo {value}"

    @app.server.route("/me")
    @require_login
    def me() -> Any:
        scope = current_scope()
        return jsonify(actor=scope.actor, grid_codes=list(scope.grid_codes), all=scope.all)

    @app.server.route("/wall/whoami")  # the one kind of path a wall account may reach
    @require_login
    def wall_whoami() -> Any:
        return jsonify(actor=current_scope().actor)

    @app.server.route("/admin-only")
    @require_login(roles=("admin",))
    def admin_only() -> str:
        return "ok"

    init_auth(app.server, store, settings, clock=clock, limits=LoginLimits(3, 5))
    return app


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    s = GeoPackageStore(tmp_path / "ember.gpkg")
    s.user_add("wang", "grid", ["G1"], hash_password(PASSWORD), actor="test")
    s.user_add("boss", "admin", [], hash_password(PASSWORD), actor="test")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Pages open to anonymous users, so each test sees one mechanism at a time (the gate, on by
    default, has its own test)."""
    return Settings(db=str(tmp_path / "ember.gpkg"), auth_required=False).validate()


@pytest.fixture
def client(store: IncidentStore, settings: Settings, clock: Clock) -> FlaskClient:
    return _app(store, settings, clock).server.test_client()


def _token(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _login(client: FlaskClient, username: str = "wang", password: str = PASSWORD, **kw: Any) -> Any:
    data = {"username": username, "password": password, "csrf_token": _token(client), **kw}
    return client.post("/login", data=data)


def _set_cookies(response: Any) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_login_page_is_chinese_first(client: FlaskClient) -> None:
    page = client.get("/login")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.index("用户名") < text.index("Username")
    assert 'name="username"' in text and 'name="password"' in text
    assert page.headers["Cache-Control"] == "no-store"


def test_login_success_sets_a_safe_session_cookie(client: FlaskClient, store: Any) -> None:
    response = _login(client, next="/me")
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    cookie = _set_cookies(response)[SESSION_COOKIE]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    me = client.get("/me").get_json()
    assert me == {"actor": "wang", "grid_codes": ["G1"], "all": False}
    assert store.user_get("wang").last_login_at is not None
    assert [e.action for e in store.audit_log()][-1] == "login"


def test_secure_cookies_when_configured(store: Any, settings: Settings, clock: Clock) -> None:
    secure = Settings(db=settings.db, cookie_secure=True).validate()
    client = _app(store, secure, clock).server.test_client()
    page = client.get("/login")
    assert "Secure" in _set_cookies(page)[CSRF_COOKIE]
    response = _login(client)
    assert "Secure" in _set_cookies(response)[SESSION_COOKIE]


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient) -> None:
    wrong = _login(client, password="nope-nope-nope")
    unknown = _login(client, username="ghost")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        text = response.get_data(as_text=True)
        assert "用户名或密码错误" in text and "Wrong username or password" in text
        assert "不存在" not in text and "not found" not in text.lower()
    assert client.get("/me").status_code == 401


def test_next_never_leaves_the_host(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert _login(client, next=target).headers["Location"] == "/"
    # a tab or line break, dropped by browsers and header writers, made //evil.example (or a 500)
    for target in ("/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/%09/x"):
        response = _login(client, next=target)
        assert response.status_code == 302, target
        assert response.headers["Location"] in ("/", "/%09/x"), target


def test_rate_limit_per_user_and_per_ip(client: FlaskClient) -> None:
    ip1, ip2, ip3 = ({"REMOTE_ADDR": f"10.0.0.{i}"} for i in (1, 2, 3))
    client.environ_base.update(ip1)
    for _ in range(3):
        assert _login(client, password="bad-password").status_code == 401
    limited = _login(client)  # right password, but the account is locked for now
    assert limited.status_code == 429 and "稍后再试" in limited.get_data(as_text=True)
    assert limited.headers["Retry-After"] == "900"
    client.environ_base.update(ip3)
    assert _login(client).status_code == 429  # per account, from any address
    assert _login(client, username="boss").status_code == 302  # another account is fine
    client.post("/logout", data={"csrf_token": _token(client)})
    client.environ_base.update(ip2)
    for name in ("a", "b", "c", "d", "e"):
        assert _login(client, username=name, password="whatever-1").status_code == 401
    assert _login(client, username="boss").status_code == 429  # per address
    client.environ_base.update(ip3)
    assert _login(client, username="boss").status_code == 302


def test_rate_limit_window_passes(client: FlaskClient, clock: Clock) -> None:
    for _ in range(3):
        _login(client, password="bad-password")
    assert _login(client).status_code == 429
    clock.advance(minutes=16)
    assert _login(client).status_code == 302


def test_logout(client: FlaskClient, store: Any) -> None:
    _login(client)
    assert client.get("/me").status_code == 200
    assert "退出登录" in client.get("/logout").get_data(as_text=True)  # GET only asks
    assert client.get("/me").status_code == 200
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.post("/logout", data={"csrf_token": _token(client)}).status_code == 200
    assert client.get("/me").status_code == 401
    assert [e.action for e in store.audit_log()][-1] == "logout"


def test_idle_timeout(client: FlaskClient, clock: Clock) -> None:
    _login(client)
    for _ in range(3):  # activity keeps the session alive
        clock.advance(minutes=20)
        assert client.get("/me").status_code == 200
    assert "Set-Cookie" not in client.get("/me").headers  # seen just now: no new cookie
    clock.advance(minutes=31)
    page = client.get("/me", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/me&expired=1"
    assert "会话已超时" in client.get(page.headers["Location"]).get_data(as_text=True)
    assert client.get("/me").status_code == 401


def test_the_wall_pc_stays_signed_in_for_days(
    client: FlaskClient, store: Any, clock: Clock
) -> None:
    """A wall account's session outlasts the idle minutes (the wall restarts unattended, e.g.
    overnight); it ends after ``wall_session_days`` without a request. Others still idle out."""
    store.user_add("screen", "wall", [], hash_password(PASSWORD), actor="test")
    response = _login(client, "screen")
    cookie = _set_cookies(response)[SESSION_COOKIE]
    expires = datetime.strptime(
        re.search(r"Expires=([^;]+)", cookie)[1], "%a, %d %b %Y %H:%M:%S GMT"
    )
    assert (
        timedelta(days=29) < expires.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(days=30)
    )
    clock.advance(hours=14)  # the PC was off overnight
    assert client.get("/wall/whoami").get_json()["actor"] == "screen"
    clock.advance(days=29, hours=23)
    assert client.get("/wall/whoami").status_code == 200
    clock.advance(days=30, minutes=1)
    assert client.get("/wall/whoami").status_code == 401
    other = client.application.test_client()
    cookie = _set_cookies(_login(other, "wang"))[SESSION_COOKIE]
    expires = datetime.strptime(
        re.search(r"Expires=([^;]+)", cookie)[1], "%a, %d %b %Y %H:%M:%S GMT"
    )
    assert expires.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(minutes=30)
    clock.advance(minutes=31)
    assert other.get("/me").status_code == 401


def test_disabled_user_cannot_sign_in_and_is_signed_out(client: FlaskClient, store: Any) -> None:
    _login(client)
    store.user_set_disabled("wang", True, actor="boss")
    assert client.get("/me").status_code == 401  # the open session ends
    response = _login(client)
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(client: FlaskClient, store: Any) -> None:
    _login(client)
    store.user_set_password("wang", hash_password("another pass 9"), actor="boss")
    assert client.get("/me").status_code == 401
    assert _login(client, password="another pass 9").status_code == 302


def test_roles_required(client: FlaskClient) -> None:
    _login(client)
    assert client.get("/admin-only").status_code == 403
    client.post("/logout", data={"csrf_token": _token(client)})
    _login(client, username="boss")
    assert client.get("/admin-only").get_data(as_text=True) == "ok"


def _callback(client: FlaskClient, headers: dict[str, str]) -> Any:
    body = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [{"id": "inp", "property": "value", "value": "b"}],
        "changedPropIds": ["inp.value"],
    }
    return client.post("/_dash-update-component", json=body, headers=headers)


def test_csrf_on_dash_callbacks_and_forms(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200
    cookie = client.get_cookie(CSRF_COOKIE)
    assert cookie is not None and not cookie.http_only and cookie.same_site == "Lax"
    assert _callback(client, {}).status_code == 400  # no token: refused
    assert _callback(client, {"X-CSRFToken": "forged"}).status_code == 400
    ok = _callback(client, {"X-CSRFToken": cookie.value})  # what dash-renderer sends
    assert ok.status_code == 200 and "echo b" in ok.get_data(as_text=True)
    form = {"username": "wang", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 400  # login form without token
    other = client.application.test_client()  # another browser: its own session
    other.get("/")
    assert _callback(other, {"X-CSRFToken": cookie.value}).status_code == 400


def test_auth_required_gate(store: Any, settings: Settings, clock: Clock) -> None:
    open_client = _app(store, settings, clock).server.test_client()
    assert open_client.get("/").status_code == 200  # auth_required = false: pages stay open
    gated = Settings(db=settings.db).validate()
    assert gated.auth_required  # the default: the wall needs a signed-in user
    client = _app(store, gated, clock).server.test_client()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/"
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/login").status_code == 200
    assert _login(client, "boss").status_code == 302
    assert client.get("/").status_code == 200
    # a grid officer signs in too, and is sent to their own page, not the whole-town wall
    other = _app(store, gated, clock).server.test_client()
    assert _login(other).status_code == 302
    landing = other.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/me")


def test_generated_secret_key_is_private_and_reused(tmp_path: Path, settings: Settings) -> None:
    from app.auth.secret import key_path, secret_key

    first = secret_key(settings)
    path = key_path(settings)
    assert path.parent == tmp_path and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == first
    given = "k" * 40
    assert secret_key(Settings(db=settings.db, secret_key=given)) == given
    assert given not in repr(Settings(secret_key=given))


def test_the_app_is_wired(town_app: Dash) -> None:
    """``create_app`` signs in at ``/login``, gates ``/`` and guards its own callbacks."""
    client = town_app.server.test_client()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/"
    sign_in_client(client, with_account(town_app) and WALL_USER)
    assert client.get("/").status_code == 200
    body = {
        "output": "ember-page.children",
        "outputs": {"id": "ember-page", "property": "children"},
        "inputs": [{"id": "ember-url", "property": "pathname", "value": "/map"}],
        "state": [{"id": "ember-url", "property": "search", "value": ""}],
        "changedPropIds": ["ember-url.pathname"],
    }
    assert client.post("/_dash-update-component", json=body).status_code == 400
    token = client.get_cookie(CSRF_COOKIE)
    assert token is not None
    ok = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    assert ok.status_code == 200


def test_auth_settings(tmp_path: Path) -> None:
    from app.config import ConfigError, load_settings

    env = {
        "EMBER_CONFIG": os.devnull,
        "EMBER_SECRET_KEY": "x" * 32,
        "EMBER_SESSION_IDLE_MINUTES": "15",
        "EMBER_AUTH_REQUIRED": "true",
        "EMBER_COOKIE_SECURE": "1",
    }
    s = load_settings(env)
    assert (s.session_idle_minutes, s.auth_required, s.cookie_secure) == (15, True, True)
    assert "x" * 32 not in repr(s)
    for key, value, message in (
        ("EMBER_SECRET_KEY", "short", "32"),
        ("EMBER_SESSION_IDLE_MINUTES", "0", "1-1440"),
        ("EMBER_WALL_SESSION_DAYS", "0", "1-366"),
        ("EMBER_AUTH_REQUIRED", "maybe", "true or false"),
    ):
        with pytest.raises(ConfigError, match=message) as info:
            load_settings({**env, key: value})
        assert "short" not in str(info.value)  # a bad key is never echoed


def test_a_store_without_accounts_is_reported(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Sign-in is on by default: with no account at all, start-up says how to make one."""
    empty = GeoPackageStore(tmp_path / "empty.gpkg")
    with caplog.at_level("WARNING", logger="app.auth"):
        _app(empty, Settings(db=str(tmp_path / "empty.gpkg")).validate(), clock)
    assert "ember users add" in caplog.text
    empty.close()
