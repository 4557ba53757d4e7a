"""Geocoder on messy variants of the demo gazetteer (seed 7), each with the level it must reach.

The variant table is built here, independently of the geocoder's own normalisation: Chinese
numerals come from ``cn2an.an2cn``, traditional characters from OpenCC ``s2t`` (the opposite
direction to the geocoder's ``t2s``), typos from a hand-made homophone table and a pool of
unrelated characters.
"""

from __future__ import annotations

import re
from typing import Any

import cn2an
import geopandas as gpd
import numpy as np
import opencc
import pandas as pd
import pytest

from geo.geocode import LEVELS, REVIEW_THRESHOLD, Geocoder, geocode_series

TOWN = "演示镇"
SEED = 20240603
PER_KIND = 16
HINTS = ("附近", "对面", "门口", "旁边", "隔壁", "东侧")
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
_S2T = opencc.OpenCC("s2t.json")

#: Homophones (same toneless pinyin) of the characters demo names are made of.
HOMOPHONES = dict(
    zip(
        "东西南北上下前后新青桃金石柳杨梅枫竹松龙凤白高云双横芝花杏兰银湖"
        "岭溪源塘山坑岙桥田口垟畈坞里头岩坪园埠林川湾"
        "永兴华九峰丽州城心业宏恒鑫天佳腾顺立博群嘉瑞和宝伟联凯晶锦富盛精铭汇巨通康泰万德"
        "幸安阳怡丰悦温福玉春明同惠聚鸿祥翠家",
        "冬希男贝尚夏钱厚心清陶今时刘阳煤风住宋隆奉百糕运霜恒之华幸蓝吟胡"
        "领西元堂衫吭奥乔甜扣洋饭务李投言平圆步琳穿弯"
        "勇星花酒风力洲成新叶红横新添家疼舜利伯裙家锐河保维连楷京紧付胜京明会聚同抗太晚得"
        "兴庵羊宜风越文付于纯名童会巨红详脆加",
        strict=True,
    )
)
#: Characters found in no demo name: one-character typos that are not homophones.
OTHER_CHARS = "甲乙丙丁戊庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
GARBAGE = (
    "不知道",
    "喂喂喂听得到吗",
    "asdfgh",
    "12345",
    "？？？",
    "你好请问是110吗",
    "附近",
    "门口对面",
    "某某某",
    "嗯嗯",
    "我也不清楚在哪里",
    "xyz",
    "!!!",
    "那个那个",
    "电话断了",
    "请尽快派人",
)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dy = (lat2 - lat1) * 111_320.0
    dx = (lon2 - lon1) * 111_320.0 * np.cos(np.radians(lat1))
    return float(np.hypot(dx, dy))


def _typo(rng: np.random.Generator, name: str, homophone: bool, taken: set[str]) -> str | None:
    """``name`` with one character replaced (a homophone, or an unrelated character)."""
    spots = [i for i, ch in enumerate(name) if ch in HOMOPHONES]
    for i in rng.permutation(spots):
        new = HOMOPHONES[name[i]] if homophone else OTHER_CHARS[rng.integers(len(OTHER_CHARS))]
        out = name[:i] + new + name[i + 1 :]
        if out not in taken:
            return out
    return None


def variant_table(
    gaz: gpd.GeoDataFrame, seed: int = SEED, per_kind: int = PER_KIND
) -> pd.DataFrame:
    """Messy variants of gazetteer entries: text, kind, expected level and review, truth point.

    ``review`` is True / False when the result must (not) need review, None when either is
    fine. ``typo`` rows may instead go to review with the truth among the candidates.
    """
    rng = np.random.default_rng(seed)
    gaz = gaz.reset_index(drop=True)
    vh = gaz[(gaz["level"] == "house") & gaz["group_no"].notna()]
    rh = gaz[(gaz["level"] == "house") & gaz["road"].notna()]
    by_level = {lv: gaz[gaz["level"] == lv] for lv in LEVELS}
    taken = {str(n) for c in ("village", "road", "poi") for n in gaz[c].dropna().unique()}
    rows: list[dict[str, Any]] = []

    def pick(frame: pd.DataFrame, k: int) -> list[pd.Series]:
        return [
            frame.iloc[i] for i in rng.choice(len(frame), size=min(k, len(frame)), replace=False)
        ]

    def add(kind: str, text: str, e: pd.Series, **kw: Any) -> None:
        rows.append(
            {
                "kind": kind,
                "text": text,
                "level": kw.get("level", e["level"]),
                "review": kw.get("review", False),
                "typo": kw.get("typo", False),
                "hint": kw.get("hint"),
                "truth": e["address"],
                "lon": e.geometry.x,
                "lat": e.geometry.y,
            }
        )

    def mixed_entries(k: int) -> list[pd.Series]:
        frames = (vh, rh, by_level["group"], by_level["poi"])
        return [e for f in frames for e in pick(f, k // 4)]

    def core(e: pd.Series) -> str:
        return str(e["address"]).removeprefix(TOWN)

    for e in mixed_entries(per_kind):
        add("exact", str(e["address"]), e)
    for e in mixed_entries(per_kind):
        add("no_town", core(e), e)
    for e in mixed_entries(per_kind):
        add("county_prefix", "永康市" + str(e["address"]), e)
    for e in mixed_entries(per_kind):
        add(
            "full_prefix",
            "浙江省金华市永康市" + (str(e["address"]) if rng.random() < 0.5 else core(e)),
            e,
        )
    for e in mixed_entries(per_kind):
        add("other_town", "新城镇" + core(e), e)
    for i, e in enumerate(pick(vh, per_kind // 2)):
        g, no = int(e["group_no"]), int(e["house_no"])
        house = (
            cn2an.an2cn(no) if i % 2 else "".join("零一二三四五六七八九"[int(d)] for d in str(no))
        )
        add("cn_numerals", f"{e['village']}{cn2an.an2cn(g)}组{house}号", e)
    for e in pick(rh, per_kind // 4):
        add("cn_numerals", f"{e['road']}{cn2an.an2cn(int(e['house_no']))}号", e)
    for e in pick(by_level["group"], per_kind // 4):
        add("cn_numerals", f"{TOWN}{e['village']}{cn2an.an2cn(int(e['group_no']))}组", e)
    for e in [*pick(vh, per_kind // 2), *pick(rh, per_kind // 2)]:
        add("full_width", core(e).translate(_FULL), e)
    with_trad = gaz[
        gaz["address"].map(
            lambda a: _S2T.convert(str(a).removeprefix(TOWN)) != str(a).removeprefix(TOWN)
        )
    ]
    for e in pick(with_trad[with_trad["level"] != "town"], per_kind):
        add("traditional", _S2T.convert(str(e["address"])), e)
    for e in mixed_entries(per_kind):
        hint = HINTS[rng.integers(len(HINTS))]
        add("hint", core(e) + hint, e, hint=hint)
    for e in pick(by_level["poi"], per_kind):
        add("poi_gate", str(e["poi"]) + "门口", e, hint="门口")
    for kind, homophone in (("typo_homophone", True), ("typo_other", False)):
        for e in [
            *pick(vh, per_kind // 4),
            *pick(by_level["group"], per_kind // 4),
            *pick(rh, per_kind // 4),
            *pick(by_level["poi"], per_kind // 4),
        ]:
            col = "village" if pd.notna(e["group_no"]) else "road" if pd.notna(e["road"]) else "poi"
            name = str(e[col])
            bad = _typo(rng, name, homophone, taken)
            if bad is not None:
                add(kind, core(e).replace(name, bad, 1), e, typo=True, review=None)
    for e in pick(by_level["village"], per_kind):
        add("village_alone", core(e) if rng.random() < 0.5 else str(e["address"]), e, review=True)
    for e in by_level["road"].itertuples():
        add("road_alone", str(e.road), gaz.loc[e.Index], review=True)
        add("road_alone", str(e.address) + "附近", gaz.loc[e.Index], review=True, hint="附近")
    groups = by_level["group"].set_index(["village", "group_no"])
    for e in pick(vh, per_kind // 2):
        used = set(
            vh.loc[(vh["village"] == e["village"]) & (vh["group_no"] == e["group_no"]), "house_no"]
        )
        no = next(n for n in range(999, 0, -1) if str(n) not in used)
        g_entry = groups.loc[(e["village"], e["group_no"])]
        truth = pd.Series(
            {"address": g_entry["address"], "level": "group", "geometry": g_entry.geometry}
        )
        add("missing_house", f"{e['village']}{int(e['group_no'])}组{no}号", truth)
    roads = by_level["road"].set_index("road")
    for e in pick(rh, per_kind // 2):
        used = set(rh.loc[rh["road"] == e["road"], "house_no"])
        no = next(n for n in range(99_999, 0, -1) if str(n) not in used)
        r_entry = roads.loc[e["road"]]
        truth = pd.Series(
            {"address": r_entry["address"], "level": "road", "geometry": r_entry.geometry}
        )
        add("missing_house", f"{e['road']}{no}号", truth, review=True)
    for text in GARBAGE[:per_kind]:
        rows.append({"kind": "garbage", "text": text, "level": None, "review": True, "typo": False,
                     "hint": None, "truth": None, "lon": np.nan, "lat": np.nan})  # fmt: skip
    for e in mixed_entries(per_kind):
        text = core(e)
        text = re.sub(r"(\d+)组", lambda m: cn2an.an2cn(m.group(1)) + "组", text)
        hint = HINTS[rng.integers(len(HINTS))]
        add("mixed", "永康市" + _S2T.convert(text + hint).translate(_FULL), e, hint=hint)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def geocoder(demo_town: dict[str, Any]) -> Geocoder:
    return Geocoder(demo_town["gazetteer"], demo_town["grid_cells"])


@pytest.fixture(scope="module")
def variants(demo_town: dict[str, Any]) -> pd.DataFrame:
    return variant_table(demo_town["gazetteer"])


@pytest.fixture(scope="module")
def outcomes(geocoder: Geocoder, variants: pd.DataFrame) -> pd.DataFrame:
    return evaluate(geocoder, variants)


def evaluate(geocoder: Geocoder, variants: pd.DataFrame) -> pd.DataFrame:
    """Each variant with its result and whether it is right (``ok``) or fairly sent to review."""
    out = []
    for v in variants.itertuples():
        r = geocoder.geocode(v.text)
        if pd.isna(v.level):
            right = r.level is None and r.lon is None and r.needs_review
        else:
            near = r.lon is not None and _metres(v.lon, v.lat, r.lon, r.lat) <= 30.0
            review_ok = v.review is None or r.needs_review == v.review
            hint = v.hint if isinstance(v.hint, str) else None
            right = r.level == v.level and near and review_ok and r.hint == hint
        truth_offered = any(c.address == v.truth for c in r.candidates)
        fair_review = bool(v.typo and r.needs_review and truth_offered)
        out.append({"ok": right, "fair_review": fair_review, "got": r.level, "conf": r.confidence,
                    "review_got": r.needs_review, "matched": r.matched})  # fmt: skip
    return pd.concat([variants, pd.DataFrame(out)], axis=1)


def test_variant_table_covers_every_kind(variants: pd.DataFrame) -> None:
    assert len(variants) >= 200
    kinds = variants["kind"].value_counts()
    assert set(kinds.index) >= {
        "exact", "no_town", "county_prefix", "full_prefix", "other_town", "cn_numerals",
        "full_width", "traditional", "hint", "poi_gate", "typo_homophone", "typo_other",
        "village_alone", "road_alone", "missing_house", "garbage", "mixed",
    }  # fmt: skip
    assert kinds.min() >= 10
    trad = variants[variants["kind"] == "traditional"]
    assert trad["text"].str.contains("號|組|鎮|區|龍|楓|銀|華|麗|興|廠|業").all()
    assert variants.loc[variants["kind"] == "full_width", "text"].str.contains("[０-９]").all()
    assert (
        variants.loc[variants["kind"] == "cn_numerals", "text"]
        .str.contains("[一二三四五六七八九十]组|[零一二三四五六七八九十百千]号")
        .all()
    )


#: Share of variants of each kind that must come out right (typos: right, or sent to review
#: with the truth among the candidates).
REQUIRED = {
    "typo_homophone": 1.0,
    "typo_other": 0.9,
}


def test_every_kind_reaches_its_level(outcomes: pd.DataFrame) -> None:
    acceptable = outcomes["ok"] | outcomes["fair_review"]
    rate = acceptable.groupby(outcomes["kind"]).mean()
    failures = {
        k: outcomes.loc[
            (outcomes["kind"] == k) & ~acceptable, ["text", "level", "got", "conf", "matched"]
        ].to_dict("records")
        for k in rate.index
        if rate[k] < REQUIRED.get(k, 1.0)
    }
    assert not failures, failures


def test_overall_accuracy(outcomes: pd.DataFrame) -> None:
    # Right level and point (not just "sent to review") for nearly all rows, typos included.
    assert outcomes["ok"].mean() >= 0.95
    # Never a confident wrong answer: what is not right was sent to review.
    placed = outcomes["got"].notna() & ~outcomes["review_got"]
    assert not (placed & ~outcomes["ok"]).any(), outcomes[placed & ~outcomes["ok"]]
    homophones = outcomes[outcomes["kind"] == "typo_homophone"]
    assert homophones["ok"].all()
    # Pinyin matching makes a homophone nearly as good as the right name (0.77 without it).
    assert homophones["conf"].mean() >= 0.85


def test_the_name_decides_before_the_numbers(geocoder: Geocoder, demo_town: dict[str, Any]) -> None:
    """A homophone of village V with a 组+号 that exists only in a look-alike village W is V's
    组 (the number is missing from V), not W's house."""
    gaz = demo_town["gazetteer"]
    houses = gaz[(gaz["level"] == "house") & gaz["group_no"].notna()]
    groups = set(zip(gaz["village"], gaz["group_no"], strict=True))
    have = {
        v: set(zip(f["group_no"], f["house_no"], strict=True)) for v, f in houses.groupby("village")
    }
    cases = []
    for v in have:
        for w in have:
            same = [i for i in range(2) if v[i] == w[i]]
            if v == w or len(same) != 1 or (i := 1 - same[0]) >= len(v) or v[i] not in HOMOPHONES:
                continue
            for g, h in sorted(have[w] - have[v]):
                if (v, g) in groups:
                    cases.append((v[:i] + HOMOPHONES[v[i]] + v[i + 1 :], v, int(g), h))
                    break
    assert cases, "the demo town has look-alike villages"
    for typo, v, g, h in cases:
        r = geocoder.geocode(f"{typo}{g}组{h}号")
        assert (r.level, r.matched) == ("group", f"{TOWN}{v}{g}组"), (typo, r.matched)


def test_review_follows_threshold(outcomes: pd.DataFrame) -> None:
    placed = outcomes[~outcomes["review_got"] & outcomes["got"].notna()]
    assert (placed["conf"] >= REVIEW_THRESHOLD).all()
    assert (outcomes.loc[outcomes["got"].isin(["village", "road", "town"]), "review_got"]).all()


def test_precise_levels_beat_coarse_ones(geocoder: Geocoder, demo_town: dict[str, Any]) -> None:
    gaz = demo_town["gazetteer"]
    house = gaz[(gaz["level"] == "house") & gaz["group_no"].notna()].iloc[0]
    r_house = geocoder.geocode(house["address"])
    r_group = geocoder.geocode(f"{house['village']}{int(house['group_no'])}组")
    r_village = geocoder.geocode(house["village"])
    assert r_house.confidence > r_group.confidence > r_village.confidence
    assert r_house.level == "house" and not r_house.needs_review and r_house.confidence == 1.0
    assert r_village.needs_review and r_village.lon is not None
    assert r_house.grid_code and r_house.grid_code.startswith(str(house["village_code"]))
    # A hint keeps the match but says the place is only near it.
    near = geocoder.geocode(str(house["address"]) + "附近")
    assert near.matched == r_house.matched and near.hint == "附近"
    assert near.confidence < r_house.confidence


def test_never_placed_at_the_town_centre(geocoder: Geocoder) -> None:
    for text in (TOWN, "浙江省金华市永康市演示镇", TOWN + "附近"):
        r = geocoder.geocode(text)
        assert r.level == "town" and r.needs_review
        assert r.lon is None and r.lat is None and r.grid_code is None
        assert r.candidates and r.candidates[0].level == "town"  # the map can still show it
    for text in ("", "   ", None, float("nan"), "永康市", "asdf"):
        r = geocoder.geocode(text)
        assert r.level is None and r.lon is None and r.needs_review and r.confidence == 0.0
        assert r.reason and "/" in r.reason  # bilingual


def test_ambiguous_names_go_to_review(geocoder: Geocoder, demo_town: dict[str, Any]) -> None:
    gaz = demo_town["gazetteer"]
    offices = gaz[(gaz["level"] == "poi") & gaz["poi"].str.endswith("村委会", na=False)]
    r = geocoder.geocode("村委会门口")  # which village's office?
    assert r.needs_review and r.reason and "候选" in r.reason
    assert {c.address for c in r.candidates} <= set(offices["address"])
    assert len(r.candidates) > 1
    village = str(offices.iloc[0]["village"])
    r = geocoder.geocode(village + "村委会")
    assert r.level == "poi" and not r.needs_review and r.matched == offices.iloc[0]["address"]


def test_office_words_mean_the_village_office(
    geocoder: Geocoder, demo_town: dict[str, Any]
) -> None:
    gaz = demo_town["gazetteer"]
    offices = gaz[(gaz["level"] == "poi") & gaz["poi"].str.endswith(("村委会", "居委会"), na=False)]
    community = offices[offices["village"].str.endswith("社区")].iloc[0]
    village = offices[offices["village"].str.endswith("村")].iloc[0]
    for text, office in (
        (f"{community['village']}村委对面", community),  # 村委 said of a community: its 居委会
        (f"{community['village']}居委", community),
        (f"{village['village']}村部", village),
        (f"{village['village']}村民委员会门口", village),
    ):
        r = geocoder.geocode(text)
        assert (r.level, r.matched, r.needs_review) == ("poi", office["address"], False), text


def test_geocode_series_order_index_and_memo(geocoder: Geocoder, demo_town: dict[str, Any]) -> None:
    gaz = demo_town["gazetteer"]
    texts = [str(a) for a in gaz["address"].iloc[[5, 40, 900]]]
    s = pd.Series([texts[0], None, texts[1], texts[0], "", texts[2], np.nan], index=list("abcdefg"))
    out = geocoder.geocode_series(s)
    assert list(out.index) == list("abcdefg")
    assert out.loc["a", "matched"] == texts[0] and out.loc["d", "matched"] == texts[0]
    assert out.loc["c", "matched"] == texts[1] and out.loc["f", "matched"] == texts[2]
    for k in "beg":
        assert pd.isna(out.loc[k, "level"]) and out.loc[k, "needs_review"]
        assert np.isnan(out.loc[k, "lon"])
    single = geocoder.geocode(texts[1])
    assert out.loc["c", "lon"] == single.lon and out.loc["c", "grid_code"] == single.grid_code
    assert {"address", "lon", "lat", "level", "confidence", "grid_code"} <= set(out.columns)
    # The module-level helper gives the same answer.
    again = geocode_series(s, gaz, demo_town["grid_cells"])
    pd.testing.assert_frame_equal(out, again)


def test_demo_incident_addresses(geocoder: Geocoder, demo_town: dict[str, Any]) -> None:
    """The messy addresses the demo incidents use (layers.demo) reach their anchor's level."""
    from layers.demo._incident_text import messy_addresses

    gaz = demo_town["gazetteer"]
    rng = np.random.default_rng(5)
    sample = gaz[gaz["level"].isin(["house", "poi", "group"])].sample(400, random_state=5)
    messy = messy_addresses(rng, sample["address"].to_numpy(object), np.ones(400, bool), TOWN)
    out = geocoder.geocode_series(pd.Series(messy))
    assert (out["level"].to_numpy() == sample["level"].to_numpy()).mean() == 1.0
    assert (out["matched"].to_numpy() == sample["address"].to_numpy()).all()
    assert not out["needs_review"].any()


def test_gazetteer_errors_are_bilingual(demo_town: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"标准地址.*gazetteer"):
        Geocoder(demo_town["gazetteer"].drop(columns=["level"]))
