"""Fictional names and phone numbers for the demo town.

Every function draws from the ``numpy.random.Generator`` it is given and walks its word lists in a
fixed order, so the same generator state gives the same names.
"""

from __future__ import annotations

from itertools import product

import numpy as np

# Village / community name stems: first character + second character ("青" + "溪" -> 青溪).
_STEM_FIRST = "东西南北上下前后新青桃金石柳杨梅枫竹松龙凤白高云双横芝花杏兰银湖"
_STEM_SECOND = "岭溪源塘山坑岙桥田口垟畈坞里头岩坪园埠林川湾"

# Surnames common around Yongkang first (repeated = more frequent), then others.
_SURNAMES = (
    "胡胡胡应应应吕吕吕李李陈陈陈徐徐王王朱朱周楼楼施章黄程杜俞金吴"
    "张刘潘叶林郑丁蒋赵孙何方卢傅马颜童舒池项倪"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红海燕"
    "玲斌鹏辉浩宇晨婷雪琳晓文立新春峰俊慧云龙成欣佳瑞飞兵萍波亮宁凯坤琴梅君旭"
)

# Trade-name stems for firms and residential buildings (invented, generic words).
# fmt: off
_FIRM_STEMS = (
    "宏达", "恒盛", "金鼎", "永固", "华力", "鑫源", "天工", "佳美", "腾飞", "顺发",
    "立新", "博远", "群英", "嘉禾", "银河", "东升", "瑞丰", "和兴", "长青", "宝利",
    "伟业", "金帆", "联创", "凯达", "晶工", "锦程", "富鑫", "盛邦", "精锐", "华丰",
    "铭扬", "汇力", "新亚", "巨能", "通泰", "康顺", "华固", "泰隆", "万成", "德胜",
)
_FIRM_TRADES = (
    "五金厂", "工贸有限公司", "门业有限公司", "杯业有限公司", "电器有限公司",
    "机械厂", "工具有限公司", "车业有限公司", "不锈钢制品厂", "铝制品厂",
    "塑料制品厂", "汽配有限公司",
)
_HOME_STEMS = (
    "幸福", "安居", "和谐", "阳光", "康乐", "锦绣", "怡和", "丰泽", "华庭", "嘉园",
    "悦居", "温馨", "顺安", "乐业", "兴旺", "福星", "金桂", "玉兰", "春晖", "明珠",
    "同心", "新苑", "惠民", "聚贤", "鸿运", "安泰", "祥和", "东篱", "翠苑", "家和",
)
# fmt: on
_HOME_KINDS = ("公寓", "出租楼", "人才公寓", "员工宿舍")

_MOBILE_SECOND = "3456789"


def village_stems(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` unique two-character place-name stems such as ``"青溪"``."""
    pool = [a + b for a, b in product(_STEM_FIRST, _STEM_SECOND) if a != b]
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]


def person_names(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """Return ``n`` unique synthetic Chinese personal names, none of them in ``taken``."""
    seen = set(taken or ())
    out: list[str] = []
    while len(out) < n:
        surname = _SURNAMES[rng.integers(len(_SURNAMES))]
        size = 1 if rng.random() < 0.3 else 2
        given = "".join(_GIVEN[i] for i in rng.integers(len(_GIVEN), size=size))
        name = surname + given
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def mobile_numbers(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """Return ``n`` unique 11-digit mainland mobile numbers (``1[3-9]`` + 9 digits)."""
    seen = set(taken or ())
    out: list[str] = []
    while len(out) < n:
        second = _MOBILE_SECOND[rng.integers(len(_MOBILE_SECOND))]
        number = "1" + second + "".join(str(d) for d in rng.integers(10, size=9))
        if number not in seen:
            seen.add(number)
            out.append(number)
    return out


def firm_names(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` unique fictional factory names (``"宏达五金厂"``, ``"恒盛工贸有限公司"``)."""
    pool = [s + t for s, t in product(_FIRM_STEMS, _FIRM_TRADES)]
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]


def rental_names(rng: np.random.Generator, n: int) -> list[str]:
    """Return ``n`` unique names of rental-housing blocks (``"幸福公寓"``, ``"安居出租楼"``)."""
    pool = [s + k for s, k in product(_HOME_STEMS, _HOME_KINDS)]
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]
