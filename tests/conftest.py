"""Shared test fixtures. Keep this file small and generic; package-specific fixtures live in
``tests/<package>/conftest.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

#: Chromium flags for offline, reproducible headless runs (no background traffic of its own).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def in_ci() -> bool:
    """Whether the tests run in CI (``CI=true``), where a missing tool fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it under ``CI=true``: CI must run every test."""
    if in_ci():
        pytest.fail(f"{reason} (required because CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of a Chromium binary: ``$EMBER_CHROMIUM``, else /usr/bin/chromium or one on PATH."""
    wanted = os.environ.get("EMBER_CHROMIUM")
    if wanted:
        found = wanted if os.access(wanted, os.X_OK) else None
    else:
        found = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
        found = found or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).is_file():
        unavailable(f"Chromium not found ({wanted or '/usr/bin/chromium'})")
    return found


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Playwright Chromium browser for the session (never ``playwright install``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def demo_town() -> dict[str, Any]:
    """The demo town's layers and tables (seed 7), built once per session (~1.5 s)."""
    from layers.demo.town import build_town

    return build_town(7)


@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the full demo (seed 7, 2,000 incidents with their events), as ``make run``
    writes it: the demo year ends now, so that the wall's today / 7 d windows hold incidents
    whatever the date the suite runs on (a fixed end empties them day by day). Built once per
    session. Copy it before writing to it."""
    import pandas as pd

    from layers.demo import build_demo
    from store import open_store

    path = tmp_path_factory.mktemp("demo") / "ember.gpkg"
    store = open_store(str(path))
    end = pd.Timestamp.now(tz="Asia/Shanghai").floor("min")
    store.write_layers(build_demo(7, n_incidents=2000, end=end))
    store.close()
    return path
