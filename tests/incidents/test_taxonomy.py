"""The two-level taxonomy: default data, configuration, and mapping of feed category text."""

from __future__ import annotations

import pytest

from incidents.taxonomy import DEFAULT_DATA, DEFAULT_TAXONOMY, Taxonomy, TaxonomyError
from layers.incidents_layer import CATEGORIES


def test_default_matches_the_demo_layer_codes_and_names() -> None:
    assert DEFAULT_TAXONOMY.names_zh() == CATEGORIES
    assert DEFAULT_TAXONOMY.codes == tuple(CATEGORIES)
    assert len(DEFAULT_TAXONOMY) == 8 and "wage" in DEFAULT_TAXONOMY
    assert DEFAULT_TAXONOMY.zh("wage", "arrears") == "劳资纠纷/拖欠工资"
    assert DEFAULT_TAXONOMY.get("noise", "renovation").en == "Renovation noise"
    assert DEFAULT_TAXONOMY.get("wage", "group").path == "wage.group"
    assert [c.code for c in DEFAULT_TAXONOMY.subcategories("family")] == [
        "marital", "support", "courtship", "violence",
    ]  # fmt: skip
    assert Taxonomy(DEFAULT_TAXONOMY.to_data()).to_data() == DEFAULT_TAXONOMY.to_data()
    with pytest.raises(TaxonomyError):
        DEFAULT_TAXONOMY.get("wage", "nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("劳资纠纷", ("wage", None)),
        ("劳资纠纷/拖欠工资", ("wage", "arrears")),
        ("纠纷 > 劳资纠纷 > 群体讨薪", ("wage", "group")),
        ("wage.injury", ("wage", "injury")),
        ("Noise nuisance", ("noise", None)),
        ("楼上装修噪音大", ("noise", "renovation")),
        ("房东不退押金2000元", ("rental", "deposit")),
        ("家暴", ("family", "violence")),
        ("噪音", ("noise", None)),
        ("咨询居住证办理", ("other", None)),
        ("", ("other", None)),
        (None, ("other", None)),
    ],
)
def test_classify(text: str | None, expected: tuple[str, str | None]) -> None:
    assert DEFAULT_TAXONOMY.classify(text) == expected


def test_classify_many_and_a_custom_taxonomy() -> None:
    texts = ["欠薪", "欠薪", None, "广场舞"]
    assert DEFAULT_TAXONOMY.classify_many(texts) == [
        ("wage", None), ("wage", None), ("other", None), ("noise", "entertainment"),
    ]  # fmt: skip
    custom = Taxonomy(
        {
            "traffic": {"zh": "交通纠纷", "en": "Traffic dispute", "aliases": ["剐蹭"],
                        "sub": {"parking": {"zh": "停车纠纷", "en": "Parking"}}},
            "misc": {"zh": "其他", "en": "Other"},
        },
        fallback="misc",
    )  # fmt: skip
    assert custom.classify("小区停车纠纷") == ("traffic", "parking")
    assert custom.classify("电动车剐蹭") == ("traffic", None)
    assert custom.classify("劳资纠纷") == ("misc", None)


@pytest.mark.parametrize(
    "data",
    [
        {"a": {"zh": "甲"}},  # no English name
        {"a.b": {"zh": "甲", "en": "A"}},  # dot in a code
        {"a": {"zh": "甲", "en": "A", "aliases": "x"}},  # aliases not a list
        {"a": {"zh": "甲", "en": "A", "sub": ["x"]}},  # sub not a mapping
        {"a": {"zh": "甲", "en": "A"}},  # no fallback "other"
    ],
)
def test_bad_taxonomy_data_is_refused(data: dict) -> None:
    with pytest.raises(TaxonomyError):
        Taxonomy(data)
    assert DEFAULT_DATA["wage"]["zh"] == "劳资纠纷"


@pytest.mark.parametrize(
    ("code", "sub", "expected"),
    [
        ("family", "violence", "violence"),
        ("family", "家庭暴力", "violence"),
        ("family", "婚恋家庭纠纷/家庭暴力", "violence"),  # as ingest stores it
        ("family", "family.violence", "violence"),
        ("family", "家暴", "violence"),
        ("wage", " 劳资纠纷 / 群体讨薪 ", "group"),
        ("wage", "Wage dispute/Group wage claim", "group"),
        ("help", "其他求助", "other"),
        ("wage", "家庭暴力", None),  # another category's subcategory
        ("nope", "家庭暴力", None),
        ("family", "", None),
        ("family", None, None),
    ],
)
def test_sub_code_of_a_stored_name(code: str, sub: str | None, expected: str | None) -> None:
    assert DEFAULT_TAXONOMY.sub_code(code, sub) == expected


def test_every_demo_subcategory_name_has_a_code() -> None:
    from layers.demo._incident_text import SUBCATEGORIES

    for code, subs in SUBCATEGORIES.items():
        for name, *_ in subs:
            assert DEFAULT_TAXONOMY.sub_code(code, name), (code, name)
