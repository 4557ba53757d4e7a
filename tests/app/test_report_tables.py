"""The review's HTML: every text escaped, on one line (a Markdown HTML block), ids kept."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pandas as pd

from app import reports
from app.components import report_tables as tables
from store import Scope, open_store

AS_OF = pd.Timestamp("2026-11-28T12:00", tz="Asia/Shanghai")


def test_body_is_escaped_html_on_one_line(town_gpkg: Path) -> None:
    store = open_store(str(town_gpkg))
    report = reports.build_report(
        store, "monthly", date(2026, 11, 1), scope=Scope.everything("t"), as_of=AS_OF
    )
    row = report.levels["town"][0]
    hostile = dataclasses.replace(row, code="x", name='<img src=x onerror="alert(1)">&\n\n# 标题')
    report = dataclasses.replace(report, levels={**report.levels, "grid": [hostile]})
    body = tables.body_html(report, "zh")
    assert "\n" not in body
    assert "<img" not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp; # 标题" in body
    for level, *_ in reports.LEVELS:
        assert f'id="report-level-{level}"' in body
    assert 'id="report-overdue"' in body and 'id="report-unsatisfied"' in body
    component = tables.report_body(report, "en")
    assert component.dangerously_allow_html and "Overdue" in component.children
