"""Field normalisation: times (Asia/Shanghai when no zone), phones, coordinate systems."""

from __future__ import annotations

import itertools

import pandas as pd

from incidents.taxonomy import DEFAULT_TAXONOMY
from ingest.normalise import (
    _AWARE,
    _PLAIN,
    crs_codes,
    map_categories,
    normalise_phones,
    parse_times,
)


def test_parse_times() -> None:
    s = pd.Series([
        "2026-05-01 09:12:33", "2026/5/1 9:12:33", "2026-05-01T09:12:33+08:00",
        "20260501091233", "2026年5月1日 9时12分33秒", "2026-05-01T01:12:33Z",
        "2026-02-30 10:00", "明天", "",
    ])  # fmt: skip
    t = parse_times(s)
    want = pd.Timestamp("2026-05-01 01:12:33", tz="UTC")
    assert (t.iloc[:6] == want).all()
    assert t.iloc[6:].isna().all()


def test_a_plain_time_has_no_zone() -> None:
    """parse_times searches only the values that are not plain for a zone: no plain value may
    carry one (digits at every place where a zone could be read)."""
    digits = ["00", "08", "12", "59", "99"]
    for a, b, c in itertools.product(digits, repeat=3):
        for text in (
            f"2026-{a}-{b}", f"2026-{a}-{b} {c}:{a}", f"2026-{a}-{b}T{c}:{a}:{b}",
            f"2026-{a}-{b} {c}:{a}:{b}.{c}08", f"2026-{a}-{b} {c}:{a}:{b}.8",
        ):  # fmt: skip
            assert _PLAIN.fullmatch(text) and not _AWARE.search(text), text
    mixed = pd.Series(["2026-05-01 09:12:33", "2026-05-01 09:12:33+08:00", "2026-05-01 01:12:33Z"])
    assert parse_times(mixed).nunique() == 1


def test_phones() -> None:
    phones, bad = normalise_phones(pd.Series(["+86 138-1234-5678", "0579-8712 3456", "12", ""]))
    assert phones.tolist() == ["13812345678", "057987123456", "12", None]
    assert bad.tolist() == [False, False, True, False]


def test_crs_names() -> None:
    got = crs_codes(
        pd.Series(["", "GCJ-02", "BD09", "百度坐标系", "EPSG:4490", "火星", "x"]), "wgs84"
    )
    assert got.tolist() == ["wgs84", "gcj02", "bd09", "bd09", "cgcs2000", "gcj02", None]


def test_categories_and_unmapped() -> None:
    cats = map_categories(
        pd.Series(["劳资纠纷", "纠纷/噪音", "", "外星人"]),
        pd.Series(["", "", "楼上装修噪音太大", "不明飞行物"]),
        DEFAULT_TAXONOMY,
    )
    assert cats.category == ["wage", "noise", "noise", "other"]
    assert dict(cats.unmapped) == {"外星人": 1}
