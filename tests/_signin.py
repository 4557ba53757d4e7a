"""Sign tests and benchmarks in the way a browser does: an account in the app's store, then the
``/login`` form (GET it for the ``csrf_token``, POST ``username``, ``password``, ``csrf_token``).

One helper for every client a test or benchmark uses::

    app = with_account(create_app(settings))          # the wall account "wall" (role wall)
    sign_in_client(app.server.test_client(), "wall")  # Flask test client (or requests.Session)
    sign_in_page(page, url, "wall", next="/")         # a Playwright page, through the form
    sign_in_context(context, url, "wall")             # a Playwright context, no page needed

Accounts share :data:`PASSWORD` (never used outside tests). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from app.auth.passwords import hash_password
from app.auth.session import STATE_KEY
from store import DuplicateUser, IncidentStore, UserNotFound

PASSWORD = "ember test password 42"
#: The wall PC's account in tests and benchmarks.
WALL_USER = "wall"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def store_of(app: Any) -> IncidentStore:
    """The store an app created by ``create_app`` keeps its accounts in (a Dash app, its Flask
    server, or a store itself)."""
    if hasattr(app, "user_add"):
        return app  # type: ignore[no-any-return]
    server = getattr(app, "server", app)
    return server.extensions[STATE_KEY].store  # type: ignore[no-any-return]


def ensure_account(
    app: Any, username: str, role: str, areas: Sequence[str] = (), password: str = PASSWORD
) -> str:
    """Create the account ``username`` of ``role`` in the app's store unless it exists; return
    the username. An existing account is kept as it is (made earlier by this helper)."""
    store = store_of(app)
    try:
        store.user_get(username)
    except UserNotFound:
        with contextlib.suppress(DuplicateUser):  # made meanwhile by another worker
            store.user_add(username, role, tuple(areas), hash_password(password), actor="test")
    return username


def with_account(app: Any, username: str = WALL_USER, role: str = "wall") -> Any:
    """``app``, after :func:`ensure_account` (default: the wall account); for fixtures."""
    ensure_account(app, username, role)
    return app


def csrf_token(html: str) -> str:
    """The ``csrf_token`` of the sign-in form in ``html``."""
    found = _TOKEN.search(html)
    assert found, html[:500]
    return found.group(1)


def sign_in_client(
    client: Any, username: str = WALL_USER, password: str = PASSWORD, base_url: str = ""
) -> Any:
    """Sign a Flask test client or a ``requests.Session`` (with ``base_url``) in; return it.

    Asserts the form answers with the redirect of a successful sign-in (302)."""
    is_requests = hasattr(client, "mount")
    page = client.get(base_url + "/login")
    html = page.text if is_requests else page.get_data(as_text=True)
    form = {"username": username, "password": password, "csrf_token": csrf_token(html)}
    if is_requests:
        response = client.post(base_url + "/login", data=form, allow_redirects=False)
    else:
        response = client.post("/login", data=form)
    assert response.status_code == 302, (response.status_code, username)
    return client


def sign_in_page(
    page: Any, base_url: str, username: str = WALL_USER, password: str = PASSWORD, next: str = "/"
) -> Any:
    """Sign a Playwright page in through the ``/login`` form; it then shows ``next``."""
    page.goto(f"{base_url}/login?next={quote(next, safe='/')}")  # its ?…&… kept whole
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
    return page


def sign_in_context(
    context: Any, base_url: str, username: str = WALL_USER, password: str = PASSWORD
) -> Any:
    """Sign a Playwright browser context in (its ``request`` shares the context's cookies), so
    pages opened afterwards are signed in without a page load of the form; return it."""
    form_page = context.request.get(base_url + "/login")
    form = {"username": username, "password": password, "csrf_token": csrf_token(form_page.text())}
    response = context.request.post(base_url + "/login", form=form, max_redirects=0)
    assert response.status == 302, (response.status, username)
    return context
