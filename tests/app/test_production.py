"""Production serving (issue #10): ``ember serve --production`` runs gunicorn with 3 workers on a
throwaway PostGIS holding a small demo town; a signed-in commander drives the wall and the OGC
API, a grid officer their task lists, and every request succeeds whichever worker answers it.

Which worker answered is read from the JSON access log (``pid`` of each ``ember.access`` line on
gunicorn's stderr): many requests on fresh connections spread over the workers, all with one
session cookie, so the workers share the secret key and keep no session state of their own.
The in-process tests cover the JSON log format, the gunicorn options and ProxyFix.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable

PASSWORD = "prod-pass-123"
SECRET = "production-test-secret-key-0123456789abcdef"
WORKERS = 3


@pytest.fixture(scope="module")
def pg_town() -> Iterator[dict[str, Any]]:
    """A PostGIS database with the demo town (500 incidents ending now), a commander and the
    grid officer of the cell with the most open incidents."""
    from store.pgtemp import TempPostgres, find_postgis

    bin_dir, why = find_postgis()
    if bin_dir is None:
        unavailable(f"the production test needs a local PostgreSQL with PostGIS: {why}")
    import pandas as pd
    import psycopg

    from app.auth.passwords import hash_password
    from layers.demo import build_demo
    from store import open_store

    server = TempPostgres(bin_dir).start()
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE town")
        with psycopg.connect(server.url("town"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        url = server.url("town")
        frames = build_demo(7, n_incidents=500, end=pd.Timestamp.now(tz="Asia/Shanghai"))
        store = open_store(url)
        store.write_layers(frames)
        incidents = frames["incidents"]
        open_ = incidents.loc[~incidents["state"].isin(["closed", "returned"])]
        grid = str((open_ if len(open_) else incidents)["grid_code"].value_counts().index[0])
        password_hash = hash_password(PASSWORD)
        store.user_add("boss", "commander", (), password_hash, actor="test")
        store.user_add("grid1", "grid", (grid,), password_hash, actor="test")
        store.close()
        yield {"url": url, "grid": grid}
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gunicorn(
    pg_town: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """``ember serve --production --workers 3`` on the demo town; its base URL and log."""
    import requests

    work = tmp_path_factory.mktemp("prod")
    port = _free_port()
    env = {
        **os.environ,
        "EMBER_DB": pg_town["url"],
        "EMBER_SECRET_KEY": SECRET,
        "EMBER_AUTH_REQUIRED": "true",
        "EMBER_CONFIG": os.devnull,
        "EMBER_PHOTO_DIR": str(work / "photos"),
    }
    log_path = work / "gunicorn.log"
    ember = [sys.executable, "-m", "app.cli"]
    argv = [*ember, "serve", "--production", "--workers", str(WORKERS), "--threads", "2"]
    argv += ["--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited: {log_path.read_text(errors='replace')[-3000:]}")
            ready = log_path.read_text(errors="replace").count("app ready")
            try:
                up = requests.get(base + "/healthz", timeout=5).status_code == 200
            except requests.RequestException:  # not listening yet, or busy booting
                up = False
            if up and ready >= WORKERS:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"gunicorn did not start: {log_path.read_text(errors='replace')[-3000:]}")
        yield {"base": base, "log": log_path, "pid": proc.pid, **pg_town}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sign_in(base: str, username: str) -> Any:
    """A ``requests.Session`` signed in as ``username`` (GET /login, POST with csrf_token);
    every request on a fresh connection, so that any worker may answer it."""
    import requests

    session = requests.Session()
    session.headers["Connection"] = "close"
    page = session.get(base + "/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token, page.text[:500]
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    done = session.post(base + "/login", data=form, allow_redirects=False, timeout=30)
    assert done.status_code in (302, 303), done.text[:500]
    assert "ember_session" in session.cookies
    return session


def _access_lines(log_path: Path) -> list[dict[str, Any]]:
    lines = []
    for raw in log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            doc = json.loads(raw)
            if doc["logger"] == "ember.access":
                lines.append(doc)
    return lines


def _router_callback(session: Any, base: str, path: str) -> Any:
    """The page router's Dash callback, as dash-renderer posts it (CSRF header from cookie)."""
    body = {
        "output": "ember-page.children",
        "outputs": {"id": "ember-page", "property": "children"},
        "inputs": [{"id": "ember-url", "property": "pathname", "value": path}],
        "state": [{"id": "ember-url", "property": "search", "value": ""}],
        "changedPropIds": ["ember-url.pathname"],
    }
    token = session.cookies.get("_csrf_token")
    assert token, "no CSRF cookie"
    return session.post(
        base + "/_dash-update-component", json=body, headers={"X-CSRFToken": token}, timeout=60
    )


@pytest.mark.postgis
@pytest.mark.slow
def test_three_workers_serve_the_wall_officers_and_apis(gunicorn: dict[str, Any]) -> None:
    import requests

    base = gunicorn["base"]
    boss = sign_in(base, "boss")
    officer = sign_in(base, "grid1")

    # The wall, as a browser loads it.
    page = boss.get(base + "/", timeout=30)
    assert page.status_code == 200 and "_dash-config" in page.text
    layout = boss.get(base + "/_dash-layout", timeout=30)
    assert layout.status_code == 200 and "ember-url" in layout.text
    assert boss.get(base + "/_dash-dependencies", timeout=30).status_code == 200
    wall = _router_callback(boss, base, "/")
    assert wall.status_code == 200, wall.text[:500]
    history = boss.get(base + "/wall/history.geojson", timeout=60)
    assert history.status_code == 200
    assert history.headers["Content-Encoding"] == "gzip"
    assert history.json()["type"] == "FeatureCollection"
    tag = history.headers["ETag"]

    # The officer's page, task lists and incidents: only their grid cell.
    me = officer.get(base + "/me", timeout=30)
    assert me.status_code == 200 and "_dash-config" in me.text
    assert _router_callback(officer, base, "/me").status_code == 200
    tasks = officer.get(base + "/api/me/tasks", timeout=30)
    assert tasks.status_code == 200 and tasks.json()["user"] == "grid1"
    assert set(tasks.json()) >= {"to_arrive", "to_handle", "callbacks", "count"}
    listed = officer.get(base + "/api/incidents?limit=500", timeout=30)
    assert listed.status_code == 200
    shown = {t["id"] for key in ("to_arrive", "to_handle") for t in tasks.json()[key]}
    assert shown <= {i["id"] for i in listed.json()["items"]}
    assert boss.get(base + "/api/me/tasks", timeout=30).status_code == 403  # no task lists
    anonymous = requests.get(
        base + "/api/me/tasks", headers={"Accept": "application/json"}, timeout=30
    )
    assert anonymous.status_code == 401
    assert officer.get(base + "/wall/history.geojson", timeout=30).status_code == 403
    mine = officer.get(base + "/ogc/collections/incidents/items?limit=1000", timeout=30)
    assert mine.status_code == 200
    grids = {f["properties"].get("grid_code") for f in mine.json()["features"]}
    assert grids <= {gunicorn["grid"]}

    # Health and the OGC API.
    health = boss.get(base + "/healthz", timeout=30)
    assert health.status_code == 200 and health.json()["store"]["reachable"] is True
    collections = boss.get(base + "/ogc/collections", timeout=30)
    assert collections.status_code == 200
    ids = {c["id"] for c in collections.json()["collections"]}
    assert {"grid_cells", "incidents"} <= ids
    cells = boss.get(base + "/ogc/collections/grid_cells/items?limit=5", timeout=30)
    assert cells.status_code == 200 and len(cells.json()["features"]) == 5

    # Many requests at once, each on a new connection, one cookie per user: all succeed.
    def get(job: tuple[Any, str]) -> tuple[int, str]:
        who, path = job
        response = who.get(base + path, timeout=60)
        return response.status_code, path

    jobs: list[tuple[Any, str]] = []
    for _ in range(12):
        jobs += [(boss, "/_dash-layout"), (boss, "/wall/history.geojson"), (boss, "/healthz")]
        jobs += [(boss, "/ogc/collections/grid_cells/items?limit=2"), (officer, "/api/me/tasks")]
        jobs += [(officer, "/api/incidents?limit=20"), (officer, "/me")]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(get, jobs))
    assert [a for a in answers if a[0] != 200] == []
    # Every worker agrees on the history layer's version (its ETag).
    again = [boss.get(base + "/wall/history.geojson", timeout=60) for _ in range(6)]
    assert all(r.status_code == 200 for r in again)
    assert {r.headers["ETag"] for r in again} <= {tag}, "workers disagree on the history ETag"

    lines = _access_lines(gunicorn["log"])
    pids = {line["pid"] for line in lines}
    assert gunicorn["pid"] not in pids  # the master serves nothing
    assert len(pids) >= 2, f"all requests went to one worker: {pids}"
    for line in lines:
        assert {"time", "level", "logger", "message", "method", "path", "status", "ms"} <= set(line)
        assert "?" not in line["path"]  # never the query string
    unauth = [line for line in lines if line["status"] >= 500]
    assert unauth == [], unauth


# --- in process -------------------------------------------------------------------------------


def test_json_log_lines_mask_personal_data() -> None:
    import io

    from app.logging_setup import JsonFormatter, json_handler

    out = io.StringIO()
    handler = json_handler(out)
    logger = logging.getLogger("ember.test_production")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("caller %s rang", "13812345678")
        try:
            raise ValueError("id 330784199001011234")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(first) >= {"time", "level", "logger", "message", "pid"}
    assert first["level"] == "INFO" and first["logger"] == "ember.test_production"
    assert "13812345678" not in first["message"] and "138" in first["message"]
    assert "330784199001011234" not in second["exc"] and "ValueError" in second["exc"]
    datetime.fromisoformat(first["time"])

    access = logging.makeLogRecord(
        {
            "name": "ember.access",
            "levelname": "INFO",
            "msg": json.dumps({"method": "GET", "path": "/me", "status": 200, "ms": 1.5}),
        }
    )
    doc = json.loads(JsonFormatter().format(access))
    assert doc["message"] == "GET /me 200" and doc["status"] == 200 and doc["ms"] == 1.5


def test_gunicorn_options_and_settings(tmp_path: Path) -> None:
    from app.config import ConfigError, load_settings
    from app.wsgi import gunicorn_options

    env = {"EMBER_CONFIG": os.devnull, "EMBER_WORKERS": "3"}
    settings = load_settings({**env, "EMBER_BEHIND_PROXY": "true"}, port=9000)
    assert (settings.workers, settings.threads, settings.behind_proxy) == (3, 4, True)
    options = gunicorn_options(settings)
    assert options["workers"] == 3 and options["bind"] == "127.0.0.1:9000"
    assert options["worker_class"] == "gthread" and options["preload_app"] is False
    auto = gunicorn_options(load_settings({"EMBER_CONFIG": env["EMBER_CONFIG"]}))
    assert 1 <= auto["workers"] <= 8
    with pytest.raises(ConfigError, match="workers"):
        load_settings({**env, "EMBER_THREADS": "0"})


def test_behind_proxy_keys_the_limiter_on_the_forwarded_address(tmp_path: Path) -> None:
    """ProxyFix trusts exactly one proxy: the sign-in limiter records the client's address
    from ``X-Forwarded-For`` (the last hop's), and without the setting the socket's."""
    from app.config import Settings
    from app.wsgi import create
    from layers.demo.town import build_town
    from store import open_store

    db = tmp_path / "ember.gpkg"
    store = open_store(str(db))
    store.write_layers({k: v for k, v in build_town(7).items() if k in ("town", "grid_cells")})
    since = datetime.now(UTC) - timedelta(minutes=5)
    for behind, expected in ((True, "203.0.113.9"), (False, "127.0.0.1")):
        settings = Settings(db=str(db), secret_key="s" * 40, behind_proxy=behind)
        client = create(settings).test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        form = {"username": f"nobody{behind}", "password": "wrong-pass", "csrf_token": token[1]}
        headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        assert client.post("/login", data=form, headers=headers).status_code == 401
        assert store.login_failures(f"nobody{behind}", expected, since) == (1, 1)
    store.close()


def test_deploy_samples() -> None:
    """The systemd unit runs ``ember serve --production`` as its own user with an
    EnvironmentFile; the nginx site gzips JSON/GeoJSON/JS/CSS, caches static files for long,
    passes the client's address as one hop, and the unit trusts exactly that proxy."""
    deploy = Path(__file__).resolve().parents[2] / "deploy"
    unit = (deploy / "ember.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)
    assert exec_start and "ember serve --production" in exec_start[1]
    assert re.search(r"^User=ember$", unit, re.M)
    assert re.search(r"^EnvironmentFile=/etc/ember/ember\.env$", unit, re.M)
    assert "EMBER_BEHIND_PROXY=true" in unit
    env = (deploy / "ember.env.example").read_text(encoding="utf-8")
    assert "EMBER_DB=postgresql://" in env and "EMBER_SECRET_KEY=" in env
    site = (deploy / "nginx-ember.conf").read_text(encoding="utf-8")
    assert re.search(r"^\s*gzip on;", site, re.M)
    types = re.search(r"gzip_types([^;]+);", site)
    assert types
    for media in ("application/json", "application/geo+json", "application/javascript", "text/css"):
        assert media in types[1].split()
    for prefix in ("/assets/", "/_dash-component-suites/"):
        block = re.search(rf"location {re.escape(prefix)} \{{([^}}]+)\}}", site)
        assert block and "max-age=31536000" in block[1], prefix
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_pass http://ember;" in site
