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


def test_incident_lists_are_in_the_page_language_and_the_xlsx_stays_chinese() -> None:
    from app import report_output

    frame = pd.DataFrame(
        {
            "id": ["I1"],
            "category_zh": ["邻里纠纷"],
            "state_zh": ["到场"],
            "received_at": [AS_OF],
            "deadline": [AS_OF],
            "village_code": ["V1"],
            "grid_code": ["G1"],
            "team_code": ["T01"],
            "address": ["东山村1号"],
            "satisfaction": ["不满意"],
        }
    )
    en = tables.incident_list("Overdue", frame, "en", "x")
    for word in ("Category", "State", "Received", "Address", "Neighbours", "On scene"):
        assert word in en
    assert "dissatisfied" in en and "东山村1号" in en  # data is never translated
    for zh in ("类别", "状态", "受理时间", "邻里纠纷", "到场", "不满意"):
        assert zh not in en
    zh_html = tables.incident_list("超期", frame, "zh", "x")
    assert "类别" in zh_html and "邻里纠纷" in zh_html and "到场" in zh_html
    assert list(report_output.list_table(frame).columns) == list(reports.LIST_COLUMNS.values())
