"""The review page of the demo town in a browser: ~7,000 table cells drawn, the page responsive.

Built from ``html.Table``/``html.Td`` components, this page kept the browser busy for ~160 s
after loading (Dash's renderer works per component on every change of its store); it is now
one component of HTML (:func:`app.components.report_tables.report_body`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from app import reports
from app.config import Settings
from app.server import create_app
from store import Scope, open_store
from tests._signin import ensure_account, sign_in_context
from tests.app._fields import clipped_fields

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


def test_demo_town_review_is_drawn_and_the_page_responds(
    browser: Any, demo_gpkg: Path, tmp_path: Path,
    live_server: Callable[[Dash], AbstractContextManager[str]],
) -> None:  # fmt: skip
    db = tmp_path / "ember.gpkg"
    shutil.copy(demo_gpkg, db)
    store = open_store(str(db))
    ensure_account(store, "analyst-t", "analyst")
    now = datetime.now(UTC)
    day = reports.parse_day(None, "monthly", now)
    report = reports.build_report(store, "monthly", day, scope=Scope.everything("t"), as_of=now)
    cells = len(report.levels["grid"])
    assert cells > 100  # the demo town's grid: the size that froze the page
    app = create_app(Settings(db=str(db)).validate())
    with live_server(app) as url:
        context = browser.new_context(viewport={"width": 1600, "height": 900})
        sign_in_context(context, url, "analyst-t")
        page = context.new_page()
        page.goto(f"{url}/reports?kind=monthly&date={day.isoformat()}")
        page.wait_for_selector("#report-level-grid table", timeout=60_000)
        assert clipped_fields(page) == []  # the date field
        started = time.perf_counter()
        rows = page.evaluate("document.querySelectorAll('#report-level-grid tbody tr').length")
        assert time.perf_counter() - started < 5, "the page's main thread stayed busy"
        assert rows == cells
        kpis = page.evaluate(
            "document.querySelectorAll('#report-level-grid tbody tr:first-child td').length"
        )
        assert kpis == len(report.levels["grid"][0].kpis)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report_demo_town.png"), timeout=10_000)
        context.close()
