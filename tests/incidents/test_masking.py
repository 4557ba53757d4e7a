"""Masking of names, phones, ID numbers and numbers inside free text."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from incidents.masking import (
    mask_frame,
    mask_id_number,
    mask_name,
    mask_party,
    mask_phone,
    mask_series,
    mask_text,
    normalise_phone,
    phone_key,
)
from incidents.model import Party


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("罗小明", "罗某"),
        ("罗明", "罗某"),
        (" 罗明 ", "罗某"),
        ("欧阳娜娜", "欧阳某"),
        ("司马光", "司马某"),
        ("欧阳", "欧某"),  # two characters: surname 欧, given name 阳
        ("买买提·艾力", "买某"),
        ("罗", "某"),
        ("John Smith", "J***"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_name(raw: str | None, masked: str | None) -> None:
    assert mask_name(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("0579-87654321", "057*****4321"),
        ("87654321", "****4321"),
        ("12345", "*****"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_phone(raw: str | None, masked: str | None) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("330784199001011234", "330784********1234"),
        ("33078419900101123x", "330784********123X"),
        ("330784900101123", "330784*****1123"),
        ("E12345678", "E******78"),
        ("1234", "****"),
        (None, None),
    ],
)
def test_mask_id_number(raw: str | None, masked: str | None) -> None:
    assert mask_id_number(raw) == masked


def test_mask_text_finds_numbers_in_free_text() -> None:
    text = "罗某来电13812345678，身份证330784199001011234，座机0579-87654321，欠薪7000元"
    out = mask_text(text)
    assert out == "罗某来电138****5678，身份证330784********1234，座机0579-****4321，欠薪7000元"
    # a 110 case number is not an ID number and keeps its digits
    assert mask_text("警情J33078420260525001转办") == "警情J33078420260525001转办"
    assert mask_text(None) is None


def test_mask_party_and_repr_never_show_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    p = Party("罗小明", "13812345678", "330784199001011234", residency="migrant")
    m = mask_party(p)
    assert (m.name, m.phone, m.id_number, m.residency) == (
        "罗某", "138****5678", "330784********1234", "migrant",
    )  # fmt: skip
    assert p.name == "罗小明"  # the original is untouched
    with caplog.at_level(logging.INFO):
        logging.getLogger("ember.test").info("party %r", p)
    for secret in ("小明", "12345678", "199001011234"):
        assert secret not in caplog.text and secret not in repr(p)


def test_mask_series_and_frame_keep_nulls() -> None:
    df = pd.DataFrame({
        "caller_name": ["罗小明", None, "欧阳娜娜", "罗小明"],
        "caller_phone": ["13812345678", None, "13900001111", "13812345678"],
        "caller_id_number": [None, None, "330784199001011234", None],
        "description": ["电话13812345678", None, "无", "x"],
        "category": ["wage"] * 4,
    })  # fmt: skip
    out = mask_frame(df)
    assert out["caller_name"].tolist() == ["罗某", None, "欧阳某", "罗某"]
    assert out["caller_phone"].tolist() == ["138****5678", None, "139****1111", "138****5678"]
    assert out["caller_id_number"].tolist() == [None, None, "330784********1234", None]
    assert out["description"].tolist() == ["电话138****5678", None, "无", "x"]
    assert out["category"].tolist() == ["wage"] * 4
    assert df["caller_name"].iloc[0] == "罗小明"
    with pytest.raises(ValueError):
        mask_series(df["caller_name"], "address")


def test_a_committer_is_masked_only_when_a_person() -> None:
    """Who made a commitment: a side (被投诉方, the officer form's default 责任方) or an
    organisation is no personal data (it read 被某, 责某); a person's name is masked."""
    from incidents.masking import mask_committer

    for side in ("被投诉方", "责任方", "某五金厂", "物业公司", "演示镇司法所"):
        assert mask_committer(side) == side
    assert mask_committer("罗大明") == "罗某" and mask_committer("某五金厂负责人") == "某某"
    assert mask_committer(None) is None


def test_phone_key_is_what_the_masked_phone_keeps() -> None:
    phones = ["13812345678", "+86 138-1234-5678", "8613812345678", "０５７１８８８８６６６６",
              "057188886666", "88886666", "123", "", "abc", "1381234567890"]  # fmt: skip
    for p in phones:
        assert phone_key(p) == normalise_phone(mask_phone(p) or ""), p
    assert phone_key("13812345678") == "1385678"
