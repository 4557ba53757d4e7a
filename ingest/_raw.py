"""What a feed file is once read: its rows as text with their lines, and the checks every
reader makes of a row (undecodable bytes, characters no store can keep, a wrong width)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from store._quarantine import UNSTORABLE

#: Non-empty rows a file may have above its header: a title ("2025年12月警情流转表", merged
#: across the columns in a workbook), who exported it and when. Read past when a row below
#: them is the header (:func:`find_header`), and said in the run's summary.
TITLE_ROWS = 5
#: Whether a row (its cells stripped) is the header of the format being read.
HeaderTest = Callable[[Sequence[str]], bool]

_BAD = re.compile("[\udc80-\udcff]")


@dataclass
class RawRow:
    """One data row: its 1-based line in the file, its cells as text, and what went wrong in
    reading it (``bad_encoding``: the columns with undecodable bytes; ``error``: the row could
    not be read at all, e.g. invalid JSON or a wrong number of fields)."""

    line: int
    values: list[str]
    bad_encoding: list[int] = field(default_factory=list)
    error: tuple[str, str, str] | None = None  # (code, zh, en)
    raw_text: str | None = None  # the line itself, when it could not be split into cells
    error_column: str | None = None  # the column ``error`` is about, when it is about one


@dataclass
class RawTable:
    """A whole file as read: header, rows, and the encoding used (``xlsx`` / ``json`` for those)."""

    path: str
    header: list[str]
    rows: list[RawRow]
    encoding: str
    detected: bool = True
    #: ``(line, text)`` of the rows above the header that were read past (:func:`find_header`).
    above_header: list[tuple[int, str]] = field(default_factory=list)
    #: ``(name, non-empty rows)`` of a workbook's other sheets, which were not read.
    unread_sheets: list[tuple[str, int]] = field(default_factory=list)

    def raw_dict(self, row: RawRow) -> dict[str, str]:
        """The row as ``{column: text}`` (extra cells under ``_extra_N``, a column named again
        under ``name#N``, N its position), for the quarantine."""
        if row.raw_text is not None:
            return {"_raw": row.raw_text}
        out: dict[str, str] = {}
        for i, h in enumerate(self.header):
            out[h if h not in out else f"{h}#{i + 1}"] = (
                row.values[i] if i < len(row.values) else ""
            )
        for j in range(len(self.header), len(row.values)):
            out[f"_extra_{j + 1}"] = row.values[j]
        return out


def has_bad_bytes(text: str) -> bool:
    return _BAD.search(text) is not None


def mark_unstorable(header: Sequence[str], row: RawRow) -> None:
    """Quarantine ``row`` (``bad_char``, naming the first such column) when a cell holds a
    character no store can keep (a NUL, a lone surrogate: the whole file failed on PostgreSQL,
    or on either store), each shown as U+FFFD (as the quarantine keeps it, and so that the
    rest of the batch can go through pandas' strings). A row with an error already is left."""
    if row.error is not None or not UNSTORABLE.search("\x1f".join(row.values)):
        return
    at = next(i for i, v in enumerate(row.values) if UNSTORABLE.search(v))
    col = header[at] if at < len(header) else f"_extra_{at + 1}"
    row.values = [UNSTORABLE.sub("\ufffd", v) for v in row.values]
    row.error_column = col
    row.error = (
        "bad_char",
        f"{col}含有无法保存的字符（NUL 控制字符或孤立的代理项），请改正后重试",
        f"{col} holds a character no store can keep (a NUL or a lone surrogate): fix the "
        "value and retry",
    )


def bad_shape(fields: int, width: int) -> tuple[str, str, str]:
    """The error of a row of ``fields`` fields under a header of ``width``."""
    return (
        "bad_shape",
        f"该行有 {fields} 个字段，表头有 {width} 个",
        f"the row has {fields} fields, the header {width}",
    )


def find_header(first: Sequence[Sequence[str]], is_header: HeaderTest | None) -> int | None:
    """Which of a file's first non-empty rows is its header: the first of up to
    :data:`TITLE_ROWS` + 1 that ``is_header`` takes; None when none is (or no test is given:
    the caller takes the first row, whose missing columns are then said)."""
    if is_header is not None:
        for k, values in enumerate(first[: TITLE_ROWS + 1]):
            if is_header([v.strip() for v in values]):
                return k
    return None


def row_text(values: Sequence[str]) -> str:
    """A row above the header as one line of text (its non-empty cells), to be said."""
    return " ".join(v.strip() for v in values if v.strip())
