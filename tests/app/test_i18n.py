"""The wall's message table and number formats; the wall's labels in English (no browser)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from app import i18n
from app.components import wall_charts as wc
from app.components import wall_panels as wp
from app.config import Settings
from app.server import create_app, page_layout
from app.wall_data import SOURCES, WINDOWS
from app.wall_kpis import TILES
from incidents.model import STATE_ZH
from layers.incidents_layer import CATEGORIES

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def test_every_message_has_both_languages_and_english_has_no_cjk() -> None:
    for key, msg in i18n.MESSAGES.items():
        assert msg.zh and msg.en, key
        if key != "lang.zh":  # the switch names each language in itself
            assert not CJK.search(msg.en), (key, msg.en)


def test_the_chinese_table_matches_the_domain_names() -> None:
    assert i18n.table("cat", "zh", CATEGORIES) == CATEGORIES
    assert i18n.table("src", "zh", SOURCES) == SOURCES
    for state, zh in STATE_ZH.items():
        assert i18n.t(f"state.{state.value}", "zh") == zh
    for key, label, *_ in TILES:
        assert i18n.t(f"tile.{key}", "zh") == label
    for key, (label, _days) in WINDOWS.items():
        assert i18n.t(f"win.{key}", "zh") == label
    # Every code has an English name.
    assert set(i18n.table("cat", "en", CATEGORIES)) == set(CATEGORIES)
    assert not any(CJK.search(v) for v in i18n.table("cat", "en", CATEGORIES).values())


def test_t_fills_fields_and_rejects_unknown_ids() -> None:
    assert i18n.t("stale", "zh", n=3) == "数据延迟 3 分钟"
    assert i18n.t("stale", "en", n=3) == "Data delayed 3 min"
    assert i18n.t("title") == "非警务事项态势"  # Chinese first
    with pytest.raises(KeyError):
        i18n.t("no.such.message", "en")
    assert i18n.t_or("cat.unknown", "en", "未知") == "未知"


def test_lang_of() -> None:
    assert i18n.lang_of(None) == "zh"
    assert i18n.lang_of("EN") == "en" and i18n.lang_of("en-GB") == "en"
    assert i18n.lang_of("fr") == "zh" and i18n.lang_of("fr", "en") == "en"


@pytest.mark.parametrize(
    ("n", "zh", "en"),
    [
        (0, "0", "0"),
        (9_876, "9,876", "9,876"),
        (12_345, "1.2万", "12,345"),
        (100_000, "10万", "100,000"),
        (None, "—", "—"),
        (float("nan"), "—", "—"),
    ],
)
def test_numbers_the_chinese_way_in_chinese_with_separators_in_english(
    n: Any, zh: str, en: str
) -> None:
    assert i18n.num(n, "zh") == zh
    assert i18n.num(n, "en") == en


def test_since() -> None:
    assert i18n.since(3, "zh") == "3分钟前" and i18n.since(3, "en") == "3 min ago"
    assert i18n.since(125, "en") == "2 h ago" and i18n.since(3 * 1440, "zh") == "3天前"


# --- the wall's components --------------------------------------------------------------


def texts(component: Any) -> list[str]:
    """Visible strings of a component tree, leaving out data (``wall-data``) and the switch."""
    out: list[str] = []

    def walk(c: Any) -> None:
        if isinstance(c, str | int | float):
            out.append(str(c))
            return
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
            return
        if c is None or "wall-data" in str(getattr(c, "className", "") or ""):
            return
        if getattr(c, "id", None) == "wall-lang":
            return
        # data-label: a label drawn by CSS before the text (app.components.wall_panels)
        for prop in ("data-label", "title", "placeholder", "start_date_placeholder_text",
                     "end_date_placeholder_text"):  # fmt: skip
            if getattr(c, prop, None):
                out.append(str(getattr(c, prop)))
        for option in getattr(c, "options", None) or []:
            if isinstance(option, dict) and c.id != "wall-village":  # village names are data
                out.append(str(option.get("label")))
        if getattr(c, "name", None) and type(c).__name__ == "Overlay":
            out.append(str(c.name))
        walk(getattr(c, "children", None))

    walk(component)
    return out


@pytest.fixture(scope="module")
def wall_app(demo_gpkg: Path) -> Dash:
    return create_app(Settings(db=str(demo_gpkg)).validate())


def test_layout_is_chinese_by_default_and_english_with_lang_en(wall_app: Dash) -> None:
    zh = " ".join(texts(page_layout(wall_app, "/")))
    assert "非警务事项态势" in zh and "全部类别" in zh and "类别构成" in zh and "网格·在办" in zh
    en = texts(page_layout(wall_app, "/", "?lang=en&window=30d"))
    joined = " ".join(en)
    assert "Non-police affairs" in joined and "Category mix" in en and "Incidents" in en
    assert [s for s in en if CJK.search(s)] == []
    root = page_layout(wall_app, "/", "?lang=en&window=30d")
    links = {
        c.id: c.href for c in root._traverse() if str(getattr(c, "id", "")).startswith("wall-lang-")
    }
    assert links == {"wall-lang-zh": "?window=30d&lang=zh", "wall-lang-en": "?window=30d&lang=en"}


def test_panels_in_english_have_no_cjk_but_data() -> None:
    tile = {
        "key": "received",
        "label": "受理",
        "value": "1.2万",
        "week": "3万",
        "month": "10万",
        "mom": ("up", "新增"),
        "yoy": ("down", "-5%"),
        "bad_up": False,
        "fmt": "count",
        "raw": {"day": 12_345, "week": 30_000, "month": 100_000},
    }
    en = texts(wp.tiles([tile], "en"))
    assert "12,345" in en and "100,000" in en and "new" in " ".join(en)
    assert [s for s in en if CJK.search(s)] == []
    zh = texts(wp.tiles([tile], "zh"))
    assert "1.2万" in zh and "10万" in zh and "受理" in zh
    assert {"环比", "同比", "本周", "本月"} <= set(zh) and {"Week", "YoY"} <= set(en)  # CSS labels
    row = {
        "id": "E1",
        "category": "噪音扰民",
        "category_code": "noise",
        "address": "演示镇幸福路1号",
        "state": "received",
        "since": "3分钟前",
        "minutes": 3,
        "time": "08:00",
        "overdue": True,
    }
    feed = texts(wp.feed({"rows": [row], "callbacks_due": 12_000}, "en"))
    assert "Noise" in feed and "3 min ago" in feed and "12,000" in feed
    assert "Overdue" in feed  # the overdue row's title
    assert [s for s in feed if CJK.search(s)] == []
    legend = texts(wp.legend([("received", "受理", 12_000)], 12_000, "en"))
    assert [s for s in legend if CJK.search(s)] == [] and "12,000" in legend
    assert "1.2万" in texts(wp.legend([("received", "受理", 12_000)], 12_000, "zh"))


def test_chart_notes_and_labels_in_english() -> None:
    data = {
        "categories": [("wage", "劳资纠纷", 12_000), ("noise", "噪音扰民", 3)],
        "hours": [1] * 24,
        "days": [("2026-11-01", 1), ("2026-11-30", 2)],
        "migrant": {"n": 3, "total": 12_003, "share": 3 / 12_003},
    }
    notes = wc.notes(data, "en")
    assert notes[0] == "12,003 in all" and notes[2] == "11-01 to 11-30"
    assert not any(CJK.search(n) for n in notes)
    assert wc.notes(data)[0] == "共 1.2万 件"
    figs = wc.figures(data, 16, "en")
    assert list(figs[0].data[0].y) == ["Noise", "Unpaid wages"]
    assert "0h" in figs[1].layout.xaxis.ticktext
    assert not CJK.search(str(figs[3].to_plotly_json()))


def test_the_server_default_language_is_a_setting(demo_gpkg: Path) -> None:
    app = create_app(Settings(db=str(demo_gpkg), lang="en").validate())
    assert "Category mix" in texts(page_layout(app, "/"))
    assert "类别构成" in texts(page_layout(app, "/", "?lang=zh"))
