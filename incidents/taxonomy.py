"""A configurable two-level category taxonomy (类别 / 细类) with Chinese and English names.

The default (:data:`DEFAULT_TAXONOMY`) is built from :data:`DEFAULT_DATA`, a plain dict that a
town can replace (e.g. loaded from its own JSON by the caller: this package does no I/O). First
level codes are those of the demo layer: wage, neighbour, family, rental, consumer, noise, help,
other. :meth:`Taxonomy.classify` maps the category text of a feed (110 警情类别, 12345 工单分类,
free text) to a (category, subcategory) pair by exact name, alias, then keyword.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: The default taxonomy as data: code -> {zh, en, aliases, sub: {code: {zh, en, aliases}}}.
DEFAULT_DATA: dict[str, dict[str, Any]] = {
    "wage": {
        "zh": "劳资纠纷", "en": "Wage dispute", "aliases": ["劳资", "欠薪", "讨薪", "劳动争议"],
        "sub": {
            "arrears": {"zh": "拖欠工资", "en": "Unpaid wages", "aliases": ["欠工资", "工钱"]},
            "group": {"zh": "群体讨薪", "en": "Group wage claim", "aliases": ["集体讨薪"]},
            "injury": {"zh": "工伤赔偿", "en": "Work injury compensation", "aliases": ["工伤"]},
            "dismissal": {"zh": "解除劳动关系", "en": "Dismissal", "aliases": ["辞退", "经济补偿"]},
            "insurance": {"zh": "社保争议", "en": "Social insurance", "aliases": ["社保"]},
        },
    },
    "neighbour": {
        "zh": "邻里纠纷", "en": "Neighbour dispute", "aliases": ["邻里", "邻居"],
        "sub": {
            "leak": {"zh": "漏水", "en": "Water leak", "aliases": ["渗水"]},
            "boundary": {"zh": "宅基地界址", "en": "Plot boundary", "aliases": ["宅基地", "越界"]},
            "common_area": {"zh": "公共区域占用", "en": "Common area use", "aliases": ["楼道"]},
            "pets": {"zh": "饲养宠物", "en": "Pets", "aliases": ["养狗", "宠物"]},
            "quarrel": {"zh": "口角纠纷", "en": "Quarrel", "aliases": ["口角", "吵架"]},
        },
    },
    "family": {
        "zh": "婚恋家庭纠纷", "en": "Family or relationship dispute",
        "aliases": ["家庭纠纷", "婚姻家庭", "婚恋", "家务事"],
        "sub": {
            "marital": {"zh": "夫妻矛盾", "en": "Marital conflict", "aliases": ["夫妻"]},
            "support": {"zh": "赡养纠纷", "en": "Elder support", "aliases": ["赡养"]},
            "courtship": {"zh": "婚恋纠纷", "en": "Courtship dispute", "aliases": ["彩礼", "分手"]},
            "violence": {"zh": "家庭暴力", "en": "Domestic violence", "aliases": ["家暴"]},
        },
    },
    "rental": {
        "zh": "房屋租赁纠纷", "en": "Rental dispute", "aliases": ["租赁纠纷", "房东", "租房"],
        "sub": {
            "deposit": {"zh": "押金纠纷", "en": "Deposit", "aliases": ["押金"]},
            "arrears": {"zh": "租金拖欠", "en": "Rent arrears", "aliases": ["欠租", "房租"]},
            "repairs": {"zh": "设施维修", "en": "Repairs", "aliases": ["维修"]},
            "termination": {"zh": "违约退租", "en": "Early termination", "aliases": ["退租"]},
        },
    },
    "consumer": {
        "zh": "消费纠纷", "en": "Consumer dispute", "aliases": ["消费", "购物纠纷", "消费者权益"],
        "sub": {
            "quality": {"zh": "商品质量", "en": "Product quality", "aliases": ["质量问题"]},
            "service": {"zh": "服务纠纷", "en": "Service dispute", "aliases": ["办卡"]},
            "price": {"zh": "价格纠纷", "en": "Price dispute", "aliases": ["缺斤短两", "多收"]},
        },
    },
    "noise": {
        "zh": "噪音扰民", "en": "Noise nuisance", "aliases": ["噪音", "噪声", "扰民"],
        "sub": {
            "renovation": {"zh": "装修噪音", "en": "Renovation noise", "aliases": ["装修"]},
            "industrial": {"zh": "生产噪音", "en": "Industrial noise", "aliases": ["机器"]},
            "entertainment": {"zh": "娱乐噪音", "en": "Entertainment noise",
                              "aliases": ["广场舞", "KTV", "喧哗"]},
        },
    },
    "help": {
        "zh": "求助", "en": "Request for help", "aliases": ["群众求助", "救助"],
        "sub": {
            "missing": {"zh": "走失寻人", "en": "Missing person", "aliases": ["走失", "寻人"]},
            "hardship": {"zh": "困难救助", "en": "Hardship relief", "aliases": ["困难"]},
            "lockout": {"zh": "开锁求助", "en": "Locked out", "aliases": ["开锁", "反锁"]},
            "other": {"zh": "其他求助", "en": "Other help", "aliases": []},
        },
    },
    "other": {
        "zh": "其他", "en": "Other", "aliases": [],
        "sub": {
            "sanitation": {"zh": "环境卫生", "en": "Sanitation", "aliases": ["垃圾", "污水"]},
            "street_trading": {"zh": "占道经营", "en": "Street trading", "aliases": ["占道"]},
            "other": {"zh": "其他", "en": "Other", "aliases": []},
        },
    },
}  # fmt: skip


class TaxonomyError(ValueError):
    """The taxonomy data is malformed, or a code is not in it (message bilingual)."""


@dataclass(frozen=True)
class Category:
    """One node of the taxonomy; first-level nodes have ``parent`` None."""

    code: str
    zh: str
    en: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """``"wage"`` or ``"wage.arrears"``."""
        return self.code if self.parent is None else f"{self.parent}.{self.code}"


class Taxonomy:
    """A two-level taxonomy: first-level categories, each with its subcategories.

    Parameters
    ----------
    data : Mapping
        ``{code: {"zh", "en", "aliases"?, "sub"?: {code: {"zh", "en", "aliases"?}}}}``.
    fallback : str
        First-level code given to what :meth:`classify` cannot place (must be in ``data``).
    """

    def __init__(self, data: Mapping[str, Mapping[str, Any]], fallback: str = "other") -> None:
        self._top: dict[str, Category] = {}
        self._sub: dict[str, dict[str, Category]] = {}
        for code, node in data.items():
            top = _node(code, node, None)
            self._top[code] = top
            subs = node.get("sub") or {}
            if not isinstance(subs, Mapping):
                raise TaxonomyError(f"细类须为字典 / 'sub' of {code!r} must be a mapping")
            self._sub[code] = {c: _node(c, n, code) for c, n in subs.items()}
        if fallback not in self._top:
            raise TaxonomyError(f"缺少兜底类别 / fallback category {fallback!r} is not defined")
        self.fallback = fallback
        self._names: dict[str, tuple[str, str | None]] = {}
        self._keywords: list[tuple[str, str, str | None]] = []
        for top in self._top.values():
            self._index(top, top.code, None)
            for sub in self._sub[top.code].values():
                self._index(sub, top.code, sub.code)
        # the longest keyword wins; on a tie a subcategory (more specific) beats a category
        self._keywords.sort(key=lambda k: (-len(k[0]), k[2] is None))
        # per category: a subcategory's code, then names and paths, then aliases -> its code
        self._sub_names: dict[str, dict[str, str]] = {}
        for top in self._top.values():
            names: dict[str, str] = {}
            subs = self._sub[top.code].values()
            for sub in subs:
                names.setdefault(_key(sub.code), sub.code)
            for sub in subs:
                for name in (sub.zh, sub.en, sub.path, f"{top.zh}/{sub.zh}", f"{top.en}/{sub.en}"):
                    names.setdefault(_key(name), sub.code)
            for sub in subs:
                for name in sub.aliases:
                    names.setdefault(_key(name), sub.code)
            self._sub_names[top.code] = names

    def _index(self, node: Category, top: str, sub: str | None) -> None:
        for name in (node.zh, node.en, node.path, *node.aliases):
            key = _key(name)
            if sub is None or key not in self._names:  # a first-level name beats a sub name
                self._names[key] = (top, sub)
        for word in (node.zh, *node.aliases):
            if len(word) >= 2 and not word.isascii():
                self._keywords.append((word, top, sub))

    def __iter__(self) -> Iterator[Category]:
        return iter(self._top.values())

    def __contains__(self, code: object) -> bool:
        return code in self._top

    def __len__(self) -> int:
        return len(self._top)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._top)

    def get(self, code: str, sub: str | None = None) -> Category:
        """The node ``code`` (or its subcategory ``sub``); raises :class:`TaxonomyError`."""
        try:
            return self._top[code] if sub is None else self._sub[code][sub]
        except KeyError:
            name = code if sub is None else f"{code}.{sub}"
            raise TaxonomyError(f"未知类别 / unknown category {name!r}") from None

    def subcategories(self, code: str) -> tuple[Category, ...]:
        self.get(code)
        return tuple(self._sub[code].values())

    def zh(self, code: str, sub: str | None = None) -> str:
        """Chinese name: ``劳资纠纷`` or ``劳资纠纷/拖欠工资``."""
        top = self.get(code).zh
        return top if sub is None else f"{top}/{self.get(code, sub).zh}"

    def sub_code(self, code: str | None, sub: str | None) -> str | None:
        """The code of the subcategory ``sub`` of category ``code``, ``sub`` given as its code,
        Chinese or English name, alias or path (``group``, ``群体讨薪``, ``劳资纠纷/群体讨薪`` as
        ingest stores it, ``wage.group``); ``None`` when it names none of ``code``'s
        subcategories (or ``code`` is not a category, or ``sub`` is not text)."""
        names = self._sub_names.get(code) if isinstance(code, str) else None
        if not names or not isinstance(sub, str) or not sub.strip():
            return None
        hit = names.get(_key(sub))
        if hit is None:
            parts = [p for p in _split(sub) if p]
            hit = names.get(_key(parts[-1])) if parts else None
        return hit

    def names_zh(self) -> dict[str, str]:
        """First-level code -> Chinese name (the shape of the demo layer's ``CATEGORIES``)."""
        return {c.code: c.zh for c in self}

    def classify(self, text: str | None) -> tuple[str, str | None]:
        """Map a feed's category text to ``(category, subcategory)``.

        Exact names, codes and aliases first (a ``/``, ``-`` or ``>`` separated path is tried
        from its most specific part), then the longest keyword contained in the text (a
        subcategory's on a tie); what matches nothing goes to the fallback category.
        """
        if not text or not text.strip():
            return self.fallback, None
        parts = [p for p in _split(text) if p]
        for part in reversed(parts):
            hit = self._names.get(_key(part))
            if hit:
                return hit
        for word, top, sub in self._keywords:
            if word in text:
                return top, sub
        return self.fallback, None

    def classify_many(self, texts: Iterable[str | None]) -> list[tuple[str, str | None]]:
        """:meth:`classify` for many texts (each distinct text is classified once)."""
        cache: dict[str | None, tuple[str, str | None]] = {}
        out = []
        for t in texts:
            if t not in cache:
                cache[t] = self.classify(t)
            out.append(cache[t])
        return out

    def to_data(self) -> dict[str, dict[str, Any]]:
        """The taxonomy back as a plain dict (the shape of :data:`DEFAULT_DATA`)."""
        return {
            top.code: {
                "zh": top.zh,
                "en": top.en,
                "aliases": list(top.aliases),
                "sub": {
                    s.code: {"zh": s.zh, "en": s.en, "aliases": list(s.aliases)}
                    for s in self._sub[top.code].values()
                },
            }
            for top in self
        }


def _node(code: object, node: object, parent: str | None) -> Category:
    if not isinstance(code, str) or not code or "." in code:
        raise TaxonomyError(f"类别代码无效 / invalid category code {code!r}")
    if not isinstance(node, Mapping) or not node.get("zh") or not node.get("en"):
        raise TaxonomyError(f"类别 {code!r} 须有中英文名称 / category {code!r} needs zh and en")
    aliases = node.get("aliases") or ()
    if isinstance(aliases, str):
        raise TaxonomyError(f"别名须为列表 / aliases of {code!r} must be a list")
    return Category(code, str(node["zh"]), str(node["en"]), parent, tuple(map(str, aliases)))


def _key(name: str) -> str:
    return "".join(name.split()).lower()


def _split(text: str) -> list[str]:
    for sep in ("->", ">", "/", "-", "—", "|", "／"):
        text = text.replace(sep, "/")
    return [p.strip() for p in text.split("/")]


DEFAULT_TAXONOMY = Taxonomy(DEFAULT_DATA)
