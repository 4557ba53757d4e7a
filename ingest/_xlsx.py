"""Reading .xlsx workbooks (the first sheet), each row as text with its row number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ingest._raw import (
    TITLE_ROWS,
    HeaderTest,
    RawRow,
    RawTable,
    bad_shape,
    find_header,
    mark_unstorable,
    row_text,
)
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


def read_xlsx(path: Path, is_header: HeaderTest | None = None) -> RawTable:
    """The first sheet of a workbook whose header ``is_header`` finds within its first rows
    (see :func:`ingest._raw.find_header`; rows above it are read past), else the first sheet
    from its first non-empty row; the other sheets that hold anything are named in
    :attr:`RawTable.unread_sheets`, not read."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise FormatError("读取 .xlsx 需要 openpyxl / reading .xlsx needs openpyxl") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, … from a broken workbook
        raise FormatError(f"无法读取工作簿 / cannot read the workbook {path.name}: {exc}") from None
    try:
        sheets = [(ws.title, _filled_rows(ws)) for ws in book.worksheets]
    finally:
        book.close()
    chosen, at = 0, 0
    for i, (_, filled) in enumerate(sheets):
        k = find_header([cells for _, cells in filled[: TITLE_ROWS + 1]], is_header)
        if k is not None:
            chosen, at = i, k
            break
    filled = sheets[chosen][1] if sheets else []
    if len(filled) <= at:
        raise FormatError(f"工作簿为空 / the workbook is empty: {path.name}")
    header = [c.strip() for c in filled[at][1]]
    while header and not header[-1]:
        header.pop()
    rows: list[RawRow] = []
    for number, cells in filled[at + 1 :]:
        cells = cells[: max(len(header), _last_filled(cells))]
        cells += [""] * (len(header) - len(cells))  # Excel leaves out trailing empty cells
        row = RawRow(number, cells)
        if len(cells) > len(header):  # a filled cell under no column: kept, not dropped
            row.error = bad_shape(len(cells), len(header))
        mark_unstorable(header, row)  # openpyxl reads _x0000_ as a NUL
        rows.append(row)
    above = [(number, row_text(cells)) for number, cells in filled[:at]]
    unread = [(name, len(f)) for j, (name, f) in enumerate(sheets) if j != chosen and f]
    return RawTable(str(path), header, rows, "xlsx", above_header=above, unread_sheets=unread)


def _filled_rows(sheet: Any) -> list[tuple[int, list[str]]]:
    """``(row number, cells as text)`` of a worksheet's rows with something in them."""
    out = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell(v) for v in values]
        if any(c.strip() for c in cells):
            out.append((number, cells))
    return out


def _last_filled(cells: Sequence[str]) -> int:
    for i in range(len(cells), 0, -1):
        if cells[i - 1].strip():
            return i
    return 0
