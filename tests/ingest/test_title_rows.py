"""Exports with rows above their header (a title, who exported them) and workbooks with more
than one sheet: the header is found, the rows above it are said, not imported, and a sheet not
read is named: nothing read past without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.formats import FormatError
from ingest.pipeline import IngestContext, ingest_file
from store import IncidentStore
from tests.ingest.conftest import balanced

HEADER = "警情编号,报警时间,报警人,联系电话,报警地址,警情类别,简要警情,流转时间,管辖单位"


def _row(sid: str, time: str = "2025-01-02 03:04:05") -> list[str]:
    return [
        sid,
        time,
        "张三",
        "13800138000",
        "演示镇枫川社区",
        "纠纷",
        f"描述{sid}",
        "",
        "城东派出所",
    ]


def test_rows_above_a_csv_header_are_read_past_and_said(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A title line and an "exported by" line above the header: before, the title was taken
    for the header and the whole file refused (missing required columns)."""
    lines = [
        "2025年1月警情流转表,,,,,,,,",
        "导出人：李四 13900139000",
        "",
        HEADER,
        ",".join(_row("T1")),
        ",".join(_row("T2", time="不是时间")),
        ",".join(_row("T3")),
    ]
    path = tmp_path / "titled.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    s = balanced(ingest_file(path, "110", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (3, 2, 1)
    (q,) = store.quarantine_list()
    assert (q.line, q.code) == (6, "bad_time")  # lines are the file's own
    assert s.above_header == [(1, "2025年1月警情流转表"), (2, "导出人：李四 139****9000")]
    assert "row above the header" in s.table() and "139****9000" in s.table()
    assert "13900139000" not in s.table() + str(s.as_dict())
    assert s.as_dict()["above_header"][0] == {"line": 1, "text": "2025年1月警情流转表"}


def test_a_header_further_down_than_a_title_is_not_looked_for(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """Past the few rows a title takes, the first row is the header, as before: the file is
    refused naming the columns it lacks (data rows are never read past)."""
    path = tmp_path / "late.csv"
    path.write_text("\n".join([*(f"说明{i}" for i in range(6)), HEADER, ",".join(_row("L1"))]))
    with pytest.raises(FormatError, match="missing required columns"):
        ingest_file(path, "110", store, ctx)
    assert store.quarantine_list() == []


def test_a_workbook_is_read_from_the_sheet_with_the_header(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A notes sheet first, the export on the second under a merged title, a tally on the
    third: the export is read (row numbers the sheet's own), the other two are named."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "说明"
    notes.append(["本表由 110 接处警系统导出"])
    notes.append(["如有疑问请联系指挥中心"])
    data = book.create_sheet("警情")
    data.append(["2025年1月警情流转表"])
    data.merge_cells("A1:I1")
    data.append(HEADER.split(","))
    for sid in ("X1", "X2"):
        data.append(_row(sid))
    data.append(_row("", time="2025-01-02 03:04:05"))  # no id: quarantined, line 5
    tally = book.create_sheet("统计")
    tally.append(["合计", 3])
    book.save(tmp_path / "export.xlsx")
    s = balanced(ingest_file(tmp_path / "export.xlsx", "110", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (3, 2, 1)
    assert [(q.line, q.code) for q in store.quarantine_list()] == [(5, "missing_id")]
    assert s.above_header == [(1, "2025年1月警情流转表")]
    assert s.unread_sheets == [("说明", 2), ("统计", 1)]
    assert "“说明”" in s.table() and "sheet not read" in s.table()
