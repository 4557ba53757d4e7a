"""Text for the demo incidents: subcategories, descriptions, callers and messy addresses.

Everything here is vectorised over numpy object arrays and driven by a caller's
:class:`numpy.random.Generator`; nothing keeps state between calls.
"""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd

#: category -> [(subcategory, weight, templates)]. ``{slot}`` names are filled by
#: :func:`fill_templates` from the slot arrays made in :func:`describe`.
SUBCATEGORIES: dict[str, list[tuple[str, float, tuple[str, ...]]]] = {
    "wage": [
        (
            "拖欠工资",
            0.55,
            (
                "拖欠工资{months}个月约{amount}元",
                "老板拖欠{months}个月工资共{amount}元未付",
                "辞职后工资{amount}元迟迟未结",
                "包工头拖欠工钱{amount}元联系不上",
            ),
        ),
        (
            "群体讨薪",
            0.06,
            ("{people}名工人讨要工资约{total}元", "工地{people}名工人聚集讨薪，涉及{total}元"),
        ),
        (
            "工伤赔偿",
            0.12,
            ("上班时{injury}受伤，与厂方协商赔偿未果", "工伤后老板不肯付医药费约{amount}元"),
        ),
        (
            "解除劳动关系",
            0.17,
            ("被辞退要求经济补偿{amount}元", "离职被扣押金{deposit}元", "试用期被辞退不给工资"),
        ),
        ("社保争议", 0.10, ("厂里未缴社保要求补缴", "工伤保险未缴纳引发争执")),
    ],
    "neighbour": [
        ("漏水", 0.25, ("楼上漏水与邻居争执", "卫生间渗水到楼下，双方协商不成")),
        ("宅基地界址", 0.20, ("宅基地界址与邻居争执", "邻居建房越界约{metres}米")),
        (
            "公共区域占用",
            0.25,
            ("邻居在楼道堆放杂物", "邻居占用公共通道停车", "邻居在门口晾晒占道"),
        ),
        ("饲养宠物", 0.15, ("邻居家狗夜里叫扰人", "邻居养狗咬伤小孩")),
        ("口角纠纷", 0.15, ("与邻居因琐事发生口角", "邻居间因倒垃圾吵架")),
    ],
    "family": [
        ("夫妻矛盾", 0.45, ("夫妻吵架{relation}离家", "夫妻因家务琐事争吵", "{relation}酒后吵闹")),
        ("赡养纠纷", 0.20, ("子女不赡养{age}岁老人", "兄弟间因赡养老人发生争执")),
        ("婚恋纠纷", 0.20, ("男女朋友分手索要彩礼{amount}元", "恋人分手后纠缠不休")),
        ("家庭暴力", 0.15, ("{relation}酒后动手，要求调解", "家中发生打骂，邻居报警")),
    ],
    "rental": [
        ("押金纠纷", 0.40, ("房东不退押金{deposit}元", "退租时押金{deposit}元被扣")),
        ("租金拖欠", 0.25, ("租户拖欠房租{months}个月", "租客欠租{deposit}元后失联")),
        ("设施维修", 0.15, ("出租房热水器坏了房东不修", "出租房漏水房东不管")),
        ("违约退租", 0.20, ("房东提前收回房子不给补偿", "租客提前退租双方争执")),
    ],
    "consumer": [
        ("商品质量", 0.40, ("买的{item}有质量问题商家不退", "网购{item}{price}元与店家协商不成")),
        ("服务纠纷", 0.35, ("理发店办卡{price}元后关门", "维修{item}收费{price}元不合理")),
        ("价格纠纷", 0.25, ("饭店结账多收{price}元", "菜场缺斤短两")),
    ],
    "noise": [
        ("装修噪音", 0.35, ("邻居装修{hour}点还在施工", "楼上装修噪音大")),
        ("生产噪音", 0.25, ("附近厂里机器夜里{hour}点还在响", "加工作坊噪音扰民")),
        ("娱乐噪音", 0.40, ("广场舞音响太响", "KTV唱歌到{hour}点", "烧烤摊深夜喧哗")),
    ],
    "help": [
        ("走失寻人", 0.20, ("{age}岁老人走失", "小孩放学未回家")),
        ("困难救助", 0.30, ("外地务工人员生病无钱就医", "流浪人员需要救助")),
        ("开锁求助", 0.25, ("钥匙锁在屋里", "老人被反锁在家中")),
        ("其他求助", 0.25, ("电动车被困需要帮助", "家中漏气求助")),
    ],
    "other": [
        ("环境卫生", 0.40, ("路边垃圾长期堆放", "污水排到路上")),
        ("占道经营", 0.35, ("路边摊占道经营", "门店货物堆在人行道上")),
        ("其他", 0.25, ("反映村里路灯不亮", "咨询居住证办理")),
    ],
}

_SLOT_CHOICES: dict[str, tuple[str, ...]] = {
    "injury": ("手指", "手臂", "腰部", "脚", "眼睛"),
    "relation": ("丈夫", "妻子", "儿子", "女婿", "公公"),
    "item": ("电动车", "手机", "空调", "家具", "冰箱", "热水器"),
    "hour": ("22", "23", "24", "凌晨1", "凌晨2"),
}

SURNAMES = (
    "胡应吕陈李徐王朱周楼张刘杨黄赵吴孙马施章程杜俞金潘叶林郑丁蒋何方卢傅罗高郭谢韩唐冯曹彭"
    "曾邓许沈余苏魏薛范"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌辉玲梅丹林晨浩宇婷雪飞鹏"
    "俊峰海燕波亮春兰云凤琴慧佳欣家豪子轩思雨晓东小兵永康金根"
)
_SURNAME_W = np.r_[np.linspace(6.0, 1.0, 20), np.full(len(SURNAMES) - 20, 0.6)]

#: Synthetic origins of migrant callers: county codes of common migrant-sending counties.
MIGRANT_REGIONS = (
    522422,
    522424,
    522425,
    522426,
    522427,
    511621,
    511623,
    510722,
    511321,
    360731,
    360732,
    360733,
    341221,
    341222,
    341225,
    340826,
    411522,
    411524,
    411623,
    431321,
    430524,
    532128,
    500235,
    500236,
)
LOCAL_REGION = 330784
ZHEJIANG_REGIONS = (330723, 330782, 330727, 330703, 330681)
_PHONE_PREFIXES = np.array(
    [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 173, 177, 180, 181,
     182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199]
)  # fmt: skip
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"), dtype=object)

_CN_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_SUFFIXES = np.array(["附近", "对面", "门口", "旁边"], dtype=object)


def _strs(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(str).astype(object)


def fill_templates(
    template: np.ndarray, texts: list[str], slots: dict[str, np.ndarray]
) -> np.ndarray:
    """Fill ``texts[template[i]]`` with ``slots[name][i]`` for every row, one template at a time."""
    out = np.empty(len(template), dtype=object)
    for t, text in enumerate(texts):
        idx = np.flatnonzero(template == t)
        if idx.size == 0:
            continue
        acc = np.full(idx.size, "", dtype=object)
        for literal, name, _spec, _conv in string.Formatter().parse(text):
            acc = acc + literal
            if name:
                acc = acc + slots[name][idx]
        out[idx] = acc
    return out


def chinese_number(k: int) -> str:
    """Write 0 < k < 100 in Chinese numerals (3 -> 三, 12 -> 十二, 25 -> 二十五)."""
    tens, ones = divmod(k, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones or not head else "")


def describe(
    rng: np.random.Generator, category: np.ndarray, codes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pick subcategories and descriptions for rows whose category is ``codes[category[i]]``.

    Returns
    -------
    subcategory, description : object arrays
    money : float array, the amount at stake (yuan) where one is plausible, else NaN
    group : bool array, many people involved (群体)
    sub_index : int array, index of the subcategory within its category
    """
    n = len(category)
    months = rng.integers(1, 7, n)
    wage = np.round(rng.lognormal(np.log(6000), 0.7, n) * months / 2.5, -2).clip(800, 200_000)
    people = rng.integers(3, 25, n)
    total = np.round(wage * people * 0.6, -3).clip(10_000, 2_000_000)
    deposit = np.round(rng.uniform(500, 3500, n), -2)
    price = np.round(rng.lognormal(np.log(600), 1.0, n)).clip(30, 30_000)
    slots = {
        "months": _strs(months),
        "amount": _strs(wage.astype(np.int64)),
        "total": _strs(total.astype(np.int64)),
        "people": _strs(people),
        "deposit": _strs(deposit.astype(np.int64)),
        "price": _strs(price.astype(np.int64)),
        "metres": _strs(rng.integers(1, 4, n)),
        "age": _strs(rng.integers(68, 90, n)),
    }
    for name, choices in _SLOT_CHOICES.items():
        slots[name] = np.array(choices, dtype=object)[rng.integers(0, len(choices), n)]
    sub = np.empty(n, dtype=object)
    desc = np.empty(n, dtype=object)
    sub_index = np.zeros(n, dtype=np.int64)
    money = np.full(n, np.nan)
    group = np.zeros(n, dtype=bool)
    for c, code in enumerate(codes):
        rows = np.flatnonzero(category == c)
        if rows.size == 0:
            continue
        entries = SUBCATEGORIES[code]
        w = np.array([e[1] for e in entries])
        k = rng.choice(len(entries), size=rows.size, p=w / w.sum())
        sub_index[rows] = k
        sub[rows] = np.array([e[0] for e in entries], dtype=object)[k]
        texts = [t for e in entries for t in e[2]]
        first = np.cumsum([0] + [len(e[2]) for e in entries])
        n_t = np.array([len(e[2]) for e in entries])
        template = first[k] + (rng.random(rows.size) * n_t[k]).astype(np.int64)
        row_slots = {name: values[rows] for name, values in slots.items()}
        desc[rows] = fill_templates(template, texts, row_slots)
        if code == "wage":
            is_group = k == 1
            money[rows] = np.where(is_group, total[rows], wage[rows])
            group[rows] = is_group
        elif code == "rental":
            money[rows] = deposit[rows]
        elif code == "consumer":
            money[rows] = price[rows]
    return sub, desc, money, group, sub_index


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic Chinese names: a common surname and one or two given-name characters."""
    surname = np.array(list(SURNAMES), dtype=object)[
        rng.choice(len(SURNAMES), size=n, p=_SURNAME_W / _SURNAME_W.sum())
    ]
    given = np.array(list(_GIVEN), dtype=object)
    first = given[rng.integers(0, len(given), n)]
    second = np.where(rng.random(n) < 0.7, given[rng.integers(0, len(given), n)], "")
    return surname + first + second


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic 11-digit mobile numbers."""
    prefix = _PHONE_PREFIXES[rng.integers(0, len(_PHONE_PREFIXES), n)].astype(np.int64)
    return _strs(prefix * 100_000_000 + rng.integers(0, 100_000_000, n))


def id_check_digit(body17: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters for 17-digit integer bodies."""
    digits = np.empty((len(body17), 17), dtype=np.int64)
    rest = np.asarray(body17, dtype=np.int64).copy()
    for pos in range(16, -1, -1):
        rest, digits[:, pos] = np.divmod(rest, 10)
    return _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]


def id_numbers(rng: np.random.Generator, migrant: np.ndarray, at_day: np.ndarray) -> np.ndarray:
    """18-digit resident ID numbers: migrants from other provinces, others mostly local.

    ``at_day`` is the local date (``datetime64[D]``) the age is reckoned at.
    """
    n = len(migrant)
    local = np.where(
        rng.random(n) < 0.85,
        LOCAL_REGION,
        np.array(ZHEJIANG_REGIONS)[rng.integers(0, len(ZHEJIANG_REGIONS), n)],
    )
    away = np.array(MIGRANT_REGIONS)[rng.integers(0, len(MIGRANT_REGIONS), n)]
    region = np.where(migrant, away, local).astype(np.int64)
    age = np.where(migrant, rng.normal(34, 9, n), rng.normal(47, 13, n)).clip(18, 80)
    born = at_day - (age * 365.25).astype("timedelta64[D]")
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    seq = rng.integers(1, 1000, n)
    body = region * 10**11 + (year * 10_000 + month * 100 + day) * 1000 + seq
    return _strs(body) + id_check_digit(body)


def messy_addresses(
    rng: np.random.Generator, address: np.ndarray, messy: np.ndarray, town_name: str | None
) -> np.ndarray:
    """Rewrite the ``messy`` rows of standard addresses as a caller would say them.

    Drops the town prefix, writes group numbers in Chinese (3组 -> 三组), house numbers in
    full-width digits (12号 -> １２号), and appends 附近 / 对面 / 门口 / 旁边.
    """
    out = np.asarray(address, dtype=object).copy()
    idx = np.flatnonzero(messy)
    if idx.size == 0:
        return out
    s = pd.Series(out[idx], dtype=object)
    u = rng.random((idx.size, 4))
    if town_name:
        drop = u[:, 0] < 0.6
        s[drop] = s[drop].str.replace(rf"^.*?{re.escape(town_name)}", "", regex=True)
    cn = u[:, 1] < 0.5
    s[cn] = s[cn].str.replace(
        r"(?<![0-9])([1-9][0-9]?)组", lambda m: chinese_number(int(m.group(1))) + "组", regex=True
    )
    fw = u[:, 2] < 0.3
    s[fw] = s[fw].str.translate(_FULL_WIDTH)
    suffix = (u[:, 3] < 0.45) & ~s.str.endswith("门口").to_numpy()
    s[suffix] = s[suffix] + _SUFFIXES[rng.integers(0, len(_SUFFIXES), int(suffix.sum()))]
    out[idx] = s.to_numpy(dtype=object)
    return out
