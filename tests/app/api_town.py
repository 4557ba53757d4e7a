"""A small demo town for the API and export tests (issue #9): a store with incidents, API keys
of several roles, a signed-in client and a live server. Not a test module."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import requests
from dash import Dash
from flask.testing import FlaskClient

from app.api._auth import hash_key
from app.auth.passwords import hash_password
from app.config import Settings
from app.server import create_app
from layers.demo import build_demo
from store import IncidentQuery, Scope, open_store

PASSWORD = "correct-horse-42"


@dataclass
class Town:
    """The demo store, its app and what the tests need to know about it."""

    db: Path
    app: Dash
    keys: dict[str, str]
    grid: str
    phones: set[str] = field(default_factory=set)


def build_town(tmp: Path, n_incidents: int = 300) -> Town:
    end = pd.Timestamp.now(tz="Asia/Shanghai").floor("D") + pd.Timedelta(days=1)
    frames = build_demo(seed=11, n_incidents=n_incidents, end=end)
    db = tmp / "town.gpkg"
    store = open_store(str(db))
    store.write_layers(frames)
    every = store.query_incidents(IncidentQuery(), Scope.everything("test", personal_data=True))
    grid = str(every["grid_code"].dropna().value_counts().index[0])
    keys = {}
    for name, role, areas in (
        ("hub", "dispatcher", []),
        ("gridapp", "grid", [grid]),
        ("analysis", "analyst", []),
        ("old", "dispatcher", []),
    ):
        keys[name] = f"ek_test_{name}_0123456789abcdefghijklmnopqrstuvwxyz"
        store.apikey_add(name, role, areas, hash_key(keys[name]), actor="test")
    store.apikey_set_disabled("old", True, actor="test")
    store.user_add("wang", "grid", [grid], hash_password(PASSWORD), actor="test")
    phones = {str(p) for p in every["caller_phone"].dropna() if len(str(p)) >= 7}
    officers = store.read_layer("grid_cells")["officer_phone"].dropna()
    phones |= {str(p) for p in officers}
    app = create_app(Settings(db=str(db)).validate())
    return Town(db, app, keys, grid, phones)


def sign_in(client: FlaskClient, username: str = "wang", password: str = PASSWORD) -> None:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    data = {"username": username, "password": password, "csrf_token": found.group(1)}
    assert client.post("/login", data=data).status_code == 302


def assert_no_phone(text: str, phones: set[str]) -> None:
    """No unmasked phone number of the town in ``text``."""
    leaked = sorted(p for p in phones if p in text)
    assert not leaked, f"unmasked phone numbers in a response: {leaked[:3]}"


@contextmanager
def serve_in_process(db: Path) -> Iterator[str]:
    """``ember serve`` on a free port of 127.0.0.1 in a child process; yields its base URL.

    GDAL (through pyogrio) keeps the GIL while it reads features, so a server in a thread of
    the test process could not answer it: the GDAL tests use a process. The child binds port 0
    and its log says which port it got (a port picked here and bound there could be taken by
    another test's server in between, and GDAL would then wait on this process forever).
    """
    env = {**os.environ, "EMBER_DB": str(db), "EMBER_SECRET_KEY": "x" * 40}
    cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    found: list[str] = []
    tail: deque[str] = deque(maxlen=20)  # the child's last words, for the error message
    ready = threading.Event()

    def drain() -> None:  # keep reading, so the child never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            tail.append(line.rstrip())
            match = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        # generous: the first start in a fresh CI checkout compiles every import (no .pyc)
        if not ready.wait(timeout=300) or not found:
            raise RuntimeError("ember serve did not start:\n" + "\n".join(tail))
        url = found[0]
        deadline = time.monotonic() + 60
        while not requests.get(f"{url}/ogc/conformance", timeout=5).ok:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ember serve did not answer")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
