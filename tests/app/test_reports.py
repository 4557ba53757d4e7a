"""Reports: the numbers are incidents.kpi's on the same data; .xlsx sheets; the page's routes."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from app import report_output, reports
from app.components import report_tables as tables
from app.config import Settings
from app.server import create_app
from incidents import kpi
from store import IncidentQuery, Scope, open_store
from tests.app._officer_fixtures import build_store, login, render

AS_OF = pd.Timestamp("2026-11-28T12:00", tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(demo_gpkg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rep") / "ember.gpkg"
    shutil.copy(demo_gpkg, path)
    return path


@pytest.mark.parametrize(
    ("kind", "day"),
    [("monthly", date(2026, 10, 9)), ("weekly", date(2026, 9, 2)), ("monthly", date(2026, 11, 3))],
)
def test_numbers_are_those_of_incidents_kpi(demo: Path, kind: str, day: date) -> None:
    store = open_store(str(demo))
    scope = Scope.everything("test")
    frame = reports.load_frame(store, scope)
    report = reports.build_report(store, kind, day, scope=scope, as_of=AS_OF, frame=frame)
    window = reports.window_of(kind, day)
    # a period not over (November at AS_OF) is counted so far and compared with the same
    # stretch before: 1–28 October until 12:00
    so_far = window.to_date(AS_OF)
    expected = kpi.compare(frame, so_far, as_of=AS_OF)
    town = report.levels["town"][0].kpis
    for name in kpi.KPIS:
        assert town[name].current == expected[name].current, name
        assert town[name].mom_change == expected[name].mom_change, name
    village = report.levels["village"][0]
    one = kpi.compute(frame, so_far, as_of=AS_OF, area=kpi.Area.of("village", village.code))
    assert {k: c.current.value for k, c in village.kpis.items()} == pytest.approx(
        {k: v.value for k, v in one.items()}, nan_ok=True
    )
    assert len(report.overdue) == town["overdue"].current.value
    # the period's incidents, not the store's
    at = frame["received_at"]
    assert report.received == ((at >= window.start) & (at < min(window.end, AS_OF))).sum()
    assert 0 < report.received < report.frame_size == len(frame)
    assert (report.unsatisfied["satisfaction"] == "不满意").all()
    assert "caller_phone" not in report.overdue.columns
    assert report.levels["grid"] and report.levels["team"]
    # a period not over says so, on the page, in the JSON and in the terminal's summary
    note = "本期尚未结束"
    assert report.so_far == (day == date(2026, 11, 3))
    assert (note in tables.body_html(report, "zh")) == report.so_far
    assert report_output.to_json(report)["so_far"] == report.so_far
    assert any(note in line for line in report_output.summary_lines(report)) == report.so_far


def test_xlsx_has_a_sheet_per_level(demo: Path, tmp_path: Path) -> None:
    store = open_store(str(demo))
    report = reports.build_report(
        store, "daily", date(2026, 10, 9), scope=Scope.everything(), as_of=AS_OF
    )
    out = tmp_path / "r.xlsx"
    report_output.to_xlsx(report, out)
    book = openpyxl.load_workbook(out)
    assert (
        book.sheetnames
        == report_output.sheet_names()
        == ["概览", "村社区", "网格", "处置队伍", "超期事项", "不满意事项"]
    )
    assert book["村社区"]["A1"].value == "代码" and book["村社区"]["C1"].value == "十分钟到场率"
    assert book["概览"]["A2"].value.startswith("天天推进")


def test_report_routes_by_role(town_gpkg: Path, tmp_path: Path) -> None:
    store = build_store(town_gpkg, tmp_path)
    client = create_app(Settings(db=store.url).validate()).server.test_client()
    assert client.get("/reports/daily.xlsx").status_code == 401
    login(client, "wang")
    assert client.get("/reports").status_code == 403
    login(client, "ana")
    assert client.get("/reports").status_code == 200
    got = client.get("/reports/weekly.xlsx?date=2026-11-20")
    assert got.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(got.data)).sheetnames[0] == "概览"
    assert client.get("/reports/yearly.xlsx").status_code == 404
    assert client.get("/reports/daily.xlsx?date=bad").status_code == 400
    assert store.audit_log()[-1].action == "report"


def test_period_export_links_give_the_period_s_incidents(town_gpkg: Path, tmp_path: Path) -> None:
    """The review's export links: the period's incidents of the account's scope, masked."""
    import json

    from app.components import report_tables as tables

    store = build_store(town_gpkg, tmp_path)
    client = create_app(Settings(db=store.url).validate()).server.test_client()
    login(client, "ana")
    received = pd.Timestamp.now(tz="Asia/Shanghai") - pd.Timedelta(hours=2)  # build_store's
    window = kpi.Window.month(received.year, received.month)
    links = {a.id: a.href for a in tables.exports(window, "zh").children[1:]}
    assert set(links) == {f"report-export-{f}" for f in ("gpkg", "geojson", "shp", "xlsx")}
    got = client.get(links["report-export-geojson"])
    assert got.status_code == 200
    features = json.loads(got.data)["features"]
    frame = store.query_incidents(
        IncidentQuery(received_from=window.start.to_pydatetime(),
                      received_to=window.end.to_pydatetime()),
        Scope.everything("test"),
    )  # fmt: skip
    assert len(features) == len(frame) > 0
    assert client.get(links["report-export-xlsx"]).status_code == 200


@pytest.mark.parametrize("date_", ["abc", "2026-13-45"])
def test_a_bad_date_shows_the_page_with_the_error(
    town_gpkg: Path, tmp_path: Path, date_: str
) -> None:
    """A date that is none: the error above the usual header and form (language switch,
    sign-out, kind and date to correct), not a page of the error alone."""
    store = build_store(town_gpkg, tmp_path)
    client = create_app(Settings(db=store.url).validate()).server.test_client()
    login(client, "ana")
    answer = render(client, "/reports", f"?kind=monthly&date={date_}")
    page = json.dumps(json.loads(answer), ensure_ascii=False)  # "/" as is, not \u002f
    assert '"role": "alert"' in page and "YYYY-MM-DD" in page
    for part in ("report-lang", "/logout", "report-kind", "report-date", "report-print"):
        assert part in page, part
    assert page.index('"alert"') < page.index("report-kind")
