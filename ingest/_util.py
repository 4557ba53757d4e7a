"""Small helpers shared by the ingest pipeline's steps: problem records, quoting values in
reasons, turning pandas columns into plain values, and a file's name as the store keeps it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from incidents.masking import mask_text

#: How far past the clock a receive time may be (feed systems' clocks drift by minutes); a
#: later one is a wrong time (a zone mistaken, a mistyped year), quarantined.
FUTURE_SLACK = timedelta(hours=1)


def _finite(value: Any) -> float | None:
    """A float, or None for a missing (NaN) value."""
    return None if value is None or value != value else float(value)


def _problem(code: str, column: str | None, zh: str, en: str) -> dict[str, Any]:
    return {"code": code, "column": column, "zh": zh, "en": en}


#: The earliest receive time taken (Asia/Shanghai): before it, a time is an export's blank
#: written as a date — Excel's day zero (1899-12-30 / 1900-01-00), the Unix epoch of a system
#: that wrote 0 — not a call; quarantined rather than stored a century back, in no window.
PAST_LIMIT = pd.Timestamp("2000-01-01", tz="Asia/Shanghai")


def past_problem(column: str, raw: str) -> dict[str, Any]:
    """The problem of a receive time before :data:`PAST_LIMIT`."""
    return _problem(
        "early_time",
        column,
        f"{column}“{_echo(raw)}”早于 2000 年，多为导出时的空值（如 Excel 的零日期），请核对后重试",
        f"{column} “{_echo(raw)}” is before 2000: most likely an empty value written as a date "
        "by the export (Excel's day zero): check it and retry",
    )


def future_problem(column: str, raw: str) -> dict[str, Any]:
    """The problem of a receive time later than now (plus :data:`FUTURE_SLACK`)."""
    return _problem(
        "future_time",
        column,
        f"{column}“{_echo(raw)}”晚于当前时间，请核对后重试",
        f"{column} “{_echo(raw)}” is in the future: check it and retry",
    )


def out_of_range(received: pd.Series) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which receive times are later than the clock (plus :data:`FUTURE_SLACK`), and which are
    before :data:`PAST_LIMIT` (:func:`future_problem`, :func:`past_problem`)."""
    late = received > pd.Timestamp.now(tz="UTC") + FUTURE_SLACK
    return late.to_numpy(bool), (received < PAST_LIMIT).to_numpy(bool)


def _echo(value: str, limit: int = 40) -> str:
    """A value fit to quote in a reason: personal numbers masked, length bounded."""
    text = mask_text(value.strip()) or ""
    return text if len(text) <= limit else text[:limit] + "…"


def _text(values: Sequence[Any]) -> list[str | None]:
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def _categorical(col: pd.Series) -> npt.NDArray[np.object_]:
    out: npt.NDArray[np.object_] = np.array(col.astype(object).to_numpy(), dtype=object)
    out[pd.isna(out)] = None
    return out


def label_of(path: str) -> str:
    """A file's name as the store keeps it with its rows. A name in GBK bytes (a Windows zip
    unpacked here, a share mounted with another charset) is no UTF-8: Python keeps its bytes
    as surrogates, which no store can hold. It is read as GB18030, else shown with U+FFFD."""
    name = os.path.basename(path)
    if not any("\udc80" <= ch <= "\udcff" for ch in name):
        return name
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
