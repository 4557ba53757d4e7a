"""Address normalisation and parsing (geo.address) on the forms callers actually use."""

from __future__ import annotations

import pytest

from geo.address import MAX_CHARS, Vocabulary, clean, normalise, parse, split_hint, stem

VOCAB = Vocabulary.build(
    towns=["某镇"],
    villages=["东岭村", "北塘社区", "三里村"],
    roads=["金城路", "九龙路", "永兴大道"],
    pois=["东岭村村委会", "某某五金厂", "中心农贸市场", "五金城"],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１２３号", "123号"),  # full-width digits
        ("金城路　１２３号", "金城路123号"),  # full-width space
        ("東嶺村三組12號", "东岭村3组12号"),  # traditional characters and a Chinese numeral
        ("东岭村三组十二号", "东岭村3组12号"),
        ("东岭村十组一百零三号", "东岭村10组103号"),
        ("东岭村两组一二三号", "东岭村2组123号"),  # digit by digit, 两
        ("东岭村叁组贰拾号", "东岭村3组20号"),  # financial numerals
        ("东岭村第三组", "东岭村3组"),
        ("东岭村三队", "东岭村3组"),  # 生产队, the old word for 组
        ("东岭村第三村民小组", "东岭村3组"),
        ("东岭村 3组，12号", "东岭村3组12号"),  # spaces and punctuation
        ("金城路12#", "金城路12号"),
        ("九龙路十二号", "九龙路12号"),  # the 九 of 九龙路 is a name, not a number
        ("五金城三号", "五金城3号"),
        ("三里村3组", "三里村3组"),
        ("永兴大道一千九百三十四号", "永兴大道1934号"),
    ],
)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "core", "hint"),
    [
        ("东岭村3组12号附近", "东岭村3组12号", "附近"),
        ("金城路123号对面", "金城路123号", "对面"),
        ("金城路123号斜对面", "金城路123号", "斜对面"),
        ("某某五金厂门口", "某某五金厂", "门口"),
        ("东岭村村委会旁边", "东岭村村委会", "旁边"),
        ("五金城东侧", "五金城", "东侧"),
        ("五金城隔壁这边", "五金城", "隔壁"),
        ("在东岭村附近的", "东岭村", "附近"),
        ("九龙路口", "九龙路", "路口"),  # the road keeps its 路
        ("永兴大道口附近", "永兴大道", "路口"),  # the hint said first is kept
        ("东岭村3组12", "东岭村3组12号", None),  # a number without its 号
        ("金城路123对面", "金城路123号", "对面"),
        ("九龙路12号对面的小店", "九龙路12号", "对面"),
        ("东岭村3组12号", "东岭村3组12号", None),
        ("附近", "附近", None),  # nothing but a hint: nothing is stripped
    ],
)
def test_hints_are_stripped_and_recorded(text: str, core: str, hint: str | None) -> None:
    assert normalise(text) == (core, hint)


def test_split_hint_keeps_names_ending_in_hint_characters() -> None:
    assert split_hint("石口社区") == ("石口社区", None)
    assert split_hint("街道办事处") == ("街道办事处", None)


def test_full_address_with_every_prefix() -> None:
    p = parse("浙江省金华市永康市某镇東嶺村三組12號附近", VOCAB)
    assert (p.province, p.city, p.county, p.town) == ("浙江省", "金华市", "永康市", "某镇")
    assert (p.village, p.group_no, p.house_no, p.hint) == ("东岭村", 3, "12", "附近")
    assert p.core == "东岭村3组12号"
    assert p.known == {"town", "village"}


def test_missing_town_and_county_prefix() -> None:
    p = parse("永康市东岭村三组12号", VOCAB)
    assert p.city == "永康市" and p.town is None and p.village == "东岭村"
    assert p.core == parse("东岭村3组12号", VOCAB).core == parse("某镇东岭村3组12号", VOCAB).core


def test_unknown_town_is_a_part_not_a_name() -> None:
    p = parse("另一镇东岭村3组", VOCAB)
    assert p.town == "另一镇" and "town" not in p.known
    assert (p.village, p.group_no) == ("东岭村", 3)


def test_road_house_and_detail() -> None:
    p = parse("金城路１２３号3单元502室对面", VOCAB)
    assert (p.road, p.house_no, p.detail, p.hint) == ("金城路", "123", "3单元502室", "对面")
    assert p.village is None and p.group_no is None


def test_poi_names_containing_a_village_name() -> None:
    p = parse("东岭村村委会门口", VOCAB)
    assert p.poi == "东岭村村委会" and "poi" in p.known
    p = parse("北塘社区中心农贸市场", VOCAB)
    assert (p.village, p.poi) == ("北塘社区", "中心农贸市场")
    assert p.city is None  # 市场 is not a city


def test_administrative_lookalikes_are_not_prefixes() -> None:
    assert parse("农贸市场门口").city is None
    assert parse("农贸市场门口").poi == "农贸市场"
    p = parse("北塘社区3组")
    assert p.county is None and p.village == "北塘社区" and p.group_no == 3


def test_misspelt_names_are_guessed_from_their_shape() -> None:
    p = parse("东玲村三组12号", VOCAB)  # typo: not in the vocabulary
    assert (p.village, p.group_no, p.house_no) == ("东玲村", 3, "12")
    assert "village" not in p.known
    p = parse("金成路88号", VOCAB)
    assert (p.road, p.house_no) == ("金成路", "88") and "road" not in p.known
    p = parse("某某五金场门口", VOCAB)
    assert p.poi == "某某五金场" and "poi" not in p.known
    p = parse("东岭3组5号", VOCAB)  # the stem alone before a group number
    assert (p.village, p.group_no) == ("东岭", 3)


def test_a_place_near_a_known_one_is_not_a_poi() -> None:
    p = parse("东岭村附近的小卖部", VOCAB)
    assert (p.village, p.poi, p.hint) == ("东岭村", None, "附近")


def test_village_alone_and_road_alone() -> None:
    assert parse("东岭村", VOCAB).village == "东岭村"
    p = parse("永兴大道附近", VOCAB)
    assert (p.road, p.hint, p.house_no) == ("永兴大道", "附近", None)


def test_vocabulary_scan_is_leftmost_longest() -> None:
    v = Vocabulary.build(villages=["东岭村"], pois=["东岭村村委会", "村委会"])
    text = "东岭村村委会旁"
    assert v.scan(text) == [(0, 6, "poi")]
    assert v.scan("东岭村3组") == [(0, 3, "village")]
    # Names are cleaned when the vocabulary is built: a traditional name still matches.
    assert Vocabulary.build(villages=["東嶺村"]).scan("东岭村") == [(0, 3, "village")]


def test_empty_garbage_and_long_input() -> None:
    assert parse("").core == "" and parse("").known == frozenset()
    p = parse("不知道", VOCAB)
    assert p.village is None and p.road is None and p.known == frozenset()
    long = "东岭村3组12号" + "很" * 1000
    assert len(clean(long)) == MAX_CHARS
    assert parse(long, VOCAB).village == "东岭村"


def test_stem() -> None:
    assert stem("青溪村") == "青溪" and stem("北塘社区") == "北塘" and stem("村") == "村"


def test_as_dict_lists_what_was_found() -> None:
    d = parse("东岭村3组12号附近", VOCAB).as_dict()
    assert d["village"] == "东岭村" and d["group_no"] == 3 and d["hint"] == "附近"
    assert d["known"] == ["village"] and "road" not in d
