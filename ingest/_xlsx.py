"""Reading .xlsx workbooks (the first sheet), each row as text with its row number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ingest._raw import RawRow, RawTable, bad_shape, mark_unstorable
from ingest.formats import FormatError


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # ids and phones typed as numbers in Excel
    return str(value)


def read_xlsx(path: Path) -> RawTable:
    """The first sheet of a workbook; the first non-empty row is the header."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise FormatError("读取 .xlsx 需要 openpyxl / reading .xlsx needs openpyxl") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, … from a broken workbook
        raise FormatError(f"无法读取工作簿 / cannot read the workbook {path.name}: {exc}") from None
    try:
        sheet = book.worksheets[0]
        header: list[str] | None = None
        rows: list[RawRow] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                while header and not header[-1]:
                    header.pop()
                continue
            cells = cells[: max(len(header), _last_filled(cells))]
            cells += [""] * (len(header) - len(cells))  # Excel leaves out trailing empty cells
            row = RawRow(number, cells)
            if len(cells) > len(header):  # a filled cell under no column: kept, not dropped
                row.error = bad_shape(len(cells), len(header))
            mark_unstorable(header, row)  # openpyxl reads _x0000_ as a NUL
            rows.append(row)
    finally:
        book.close()
    if header is None:
        raise FormatError(f"工作簿为空 / the workbook is empty: {path.name}")
    return RawTable(str(path), header, rows, "xlsx")


def _last_filled(cells: Sequence[str]) -> int:
    for i in range(len(cells), 0, -1):
        if cells[i - 1].strip():
            return i
    return 0
