"""Vectorised normalisation of feed fields: times, phones, coordinates, categories.

Every function takes pandas Series of text (as read) and returns typed values plus a mask of
what could not be understood; none of them echoes a personal value in a message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.crs import CRS_NAMES, to_wgs84
from incidents._time import LOCAL_TZ
from incidents.masking import normalise_phone
from incidents.taxonomy import Taxonomy

#: A trailing zone: ``Z``, ``+08:00``, ``+0800``, or ``+08`` / ``+8`` after a time of day
#: (ISO 8601 parsing takes each as an offset: one the naive times held failed the whole file).
_AWARE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|:\d{2}(?:\.\d+)?\s*[+-]\d{1,2}(?::?\d{2})?)$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$")
_PLAIN = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_CN_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?\s*")
#: A whole calendar date (year, month and day) in a tidied value: a time of day alone, a year
#: alone or a word ("now") is not a time a call was received, whatever a parser would make of
#: it (today's date, 1 January).
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{4}(?!\d)")
_DAY_MONTH = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.]\d{4}")
#: ``UTC`` / ``GMT`` with or without an offset, as people write it: ``UTC+8`` is eight hours
#: east (dateutil would read the POSIX sign, eight hours west).
_ZONE_WORD = re.compile(r"\s*(?:UTC|GMT)\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$", re.IGNORECASE)


def _zone_word(m: re.Match[str]) -> str:
    sign, hours, minutes = m.groups()
    return "Z" if sign is None else f"{sign}{int(hours):02d}:{minutes or '00'}"


def _tidy_time(text: str) -> str:
    t = text.strip()
    m = _COMPACT.match(t)
    if m:
        y, mo, d, h, mi, s = m.groups()
        return f"{y}-{mo}-{d} {h}:{mi}:{s or '00'}"
    t = _CN_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} ", t)
    # the date's separators only: a fraction of a second is no separator (2025/01/02 03:04:05.5)
    t = re.sub(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})", r"\1-\2-\3", t)
    t = t.replace("时", ":").replace("分", ":").rstrip(":").replace("秒", "")
    # zero-pad one-digit month, day and hour so that ISO 8601 parsing takes them
    t = re.sub(
        r"^(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", t
    )
    t = re.sub(r"[ T](\d):", lambda m: f" 0{m[1]}:", t)
    return _ZONE_WORD.sub(_zone_word, t.strip())


def _guess(text: str) -> pd.Timestamp:
    """A naive local time from a form ISO 8601 parsing refused (``3:04 PM``, ``25/01/2025``),
    or NaT: dateutil's guess is taken only when it is naive and in range (it makes a zone of
    any trailing word, and year 0 of a bare time), and not for a day-month order that could be
    either (``02/01/2025``: 2 January or 1 February)."""
    m = _DAY_MONTH.match(text)
    if m and m[1] != m[2] and int(m[1]) <= 12 and int(m[2]) <= 12:
        return pd.NaT
    try:
        t = pd.to_datetime(text, format="mixed")
    except (ValueError, TypeError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        return pd.NaT
    return t if t.tzinfo is None and 1900 <= t.year <= 2200 else pd.NaT


def parse_times(values: pd.Series) -> pd.Series:
    """Aware UTC times of text values; NaT where empty, unparseable or without a whole date.

    Accepts ISO 8601 (``T`` or space), ``/`` or ``.`` separated dates, ``2026年5月1日 9时12分``,
    compact ``20260501091233`` and a trailing offset, ``Z``, ``UTC`` or ``UTC+8``; a time
    without a zone is Asia/Shanghai. A value needs a year, month and day: ``3:04``, ``2025``
    or ``now`` are NaT (the row is quarantined), never a date made up from the clock.
    """
    text = values.fillna("").astype(str).str.strip()
    plain = text.str.fullmatch(_PLAIN) | (text == "")  # "" needs no tidying either
    dated = plain.copy()  # a plain value has its date
    if not plain.all():  # only the unusual forms go through the slow tidy-up
        text = text.where(plain, text[~plain].map(_tidy_time))
        dated[~plain] = text[~plain].str.contains(_FULL_DATE)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    filled = dated & (text != "")
    # a plain value has no zone (_PLAIN ends at the seconds): only the others are searched
    aware = pd.Series(False, index=values.index)
    if not plain.all():
        aware[~plain] = text[~plain].str.contains(_AWARE)
    aware &= filled
    naive = filled & ~aware
    if naive.any():
        t = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        bad = t.isna()
        if bad.any():
            t[bad] = pd.to_datetime(text[naive][bad].map(_guess))
        out[naive] = t.dt.tz_localize(LOCAL_TZ).dt.tz_convert("UTC")
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
    return out


def normalise_phones(values: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """Digits of each phone (+86 of a mobile dropped), None when empty; and a mask of values
    that are not a plausible number (7–12 digits), which are kept as given."""
    out = np.full(len(values), None, dtype=object)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values.fillna("").astype(str).to_numpy()):
        v = v.strip()
        if not v:
            continue
        d = normalise_phone(v)
        if 7 <= len(d) <= 12:
            out[i] = d
        else:
            out[i], bad[i] = v, True
    return pd.Series(out, index=values.index, dtype=object), bad


#: Names a feed uses for a coordinate system -> :data:`geo.crs.CRS_NAMES`.
CRS_ALIASES = {
    "wgs84": "wgs84", "wgs": "wgs84", "4326": "wgs84", "epsg4326": "wgs84", "gps": "wgs84",
    "cgcs2000": "cgcs2000", "4490": "cgcs2000", "epsg4490": "cgcs2000", "国家2000": "cgcs2000",
    "2000": "cgcs2000",
    "gcj02": "gcj02", "gcj": "gcj02", "火星": "gcj02", "国测局": "gcj02", "高德": "gcj02",
    "腾讯": "gcj02", "amap": "gcj02",
    "bd09": "bd09", "bd09ll": "bd09", "百度": "bd09", "baidu": "bd09",
}  # fmt: skip


def crs_codes(values: pd.Series, default: str) -> pd.Series:
    """Canonical coordinate system per row (``default`` where empty); ``None`` where unknown."""
    codes, distinct = pd.factorize(values.fillna("").astype(str))  # a feed has a few forms
    key = pd.Series(distinct, dtype=object).str.strip().str.lower()
    key = key.str.replace(r"[\s\-_:]", "", regex=True).str.replace("坐标系", "", regex=False)
    mapped = key.map(CRS_ALIASES)
    mapped = mapped.where(key != "", default)
    table = np.append(mapped.astype(object).where(mapped.notna(), None).to_numpy(object), [None])
    return pd.Series(table[codes], index=values.index, dtype=object)


def to_wgs84_by_crs(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], crs: npt.NDArray[np.object_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS84 of each point from its own coordinate system (NaN where the system is unknown)."""
    x = np.full(len(lon), np.nan)
    y = np.full(len(lat), np.nan)
    for name in CRS_NAMES:
        m = crs == name
        if m.any():
            x[m], y[m] = to_wgs84(lon[m], lat[m], name)
    return x, y


def numbers(values: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Floats of text values (NaN where empty) and a mask of non-empty values that are not
    numbers."""
    text = values.fillna("").astype(str).str.strip()
    num = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
    return num, (text != "").to_numpy() & np.isnan(num)


@dataclass(frozen=True)
class Categories:
    """Category codes, subcategory names and the texts that mapped to nothing."""

    category: list[str]
    subcategory: list[str | None]
    unmapped: Counter[str]


def map_categories(texts: pd.Series, descriptions: pd.Series, taxonomy: Taxonomy) -> Categories:
    """Ember's (category, subcategory) of each source category text; where the text is empty,
    from the description's keywords. A non-empty source category that lands on the fallback
    category without a subcategory is reported as unmapped (not an error: stored as ``other``)."""
    src = texts.fillna("").astype(str).str.strip()
    use = src.where(src != "", descriptions.fillna("").astype(str))
    pairs = taxonomy.classify_many(use.tolist())
    unmapped: Counter[str] = Counter()
    subs: list[str | None] = []
    for text, (cat, sub) in zip(src.tolist(), pairs, strict=True):
        if text and cat == taxonomy.fallback and sub is None:
            unmapped[text] += 1
        subs.append(taxonomy.zh(cat, sub) if sub else None)
    return Categories([c for c, _ in pairs], subs, unmapped)
