"""Checks shared by the open interfaces' parameters: instants and text.

Instants are parsed to the letter of RFC 3339 / W3C datetime (a date, or a date and time with
an optional zone), not by ``pd.Timestamp``, which reads ``now``, ``today`` or ``2025`` as
times; years outside :data:`YEARS` are refused (one past 9999 overflowed the window
arithmetic into a 500). Text is refused when it holds what no store or XML document can:
lone surrogates, and the control characters XML 1.0 forbids (one such description made the
Open311 XML feed unreadable for every client).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

#: Years an interface's instant may fall in.
YEARS = range(1900, 2201)
_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?"
)
#: Characters XML 1.0 does not allow, and lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def instant(text: str) -> datetime | None:
    """``text`` as an aware UTC datetime (no zone: UTC), or None when it is not an RFC 3339 /
    W3C date or date-time in :data:`YEARS`."""
    if not _INSTANT.fullmatch(text.strip()):
        return None
    try:
        t = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:  # 2025-02-30, 25:00
        return None
    if t.year not in YEARS:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a character no store or XML document can keep."""
    return _UNSTORABLE.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (data read from files may hold them)."""
    return _UNSTORABLE.sub("", text)


__all__ = ["YEARS", "instant", "unstorable", "xml_safe"]
