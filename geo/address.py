"""Chinese address normalisation and parsing for the geocoder.

Callers say addresses the way they speak them: ``东岭村三组12号附近``, ``金城路１２３号对面``,
``浙江省金华市永康市某镇…``, traditional characters, full-width digits. :func:`normalise` turns such
text into one canonical spelling (half-width, simplified, Arabic group and house numbers, no
punctuation) and splits off the precision hint (附近, 对面, 门口 …); :func:`parse` cuts the result
into province / city / county / town / village / 组 / road / 号 / POI parts, using the names of a
:class:`Vocabulary` (built from a gazetteer) to find the place names.

Libraries: width folding is Unicode NFKC (stdlib ``unicodedata``); traditional -> simplified
is OpenCC (``opencc``, its ``t2s`` dictionary); Chinese numerals -> digits is ``cn2an``, which
reads every spoken form (``十二``, ``一百零三``, ``一二三``, ``两``, ``廿``, ``壹拾贰``) that a
small table would have to re-implement. Written here: only the address grammar (hint words,
administrative suffixes, 组/号 patterns), which no maintained library covers for village
addresses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import cn2an
import opencc

#: Precision hints a caller appends ("near", "opposite", "at the gate" …), longest first so that
#: ``斜对面`` wins over ``对面``. They are stripped from the text and reported as the hint.
HINTS: tuple[str, ...] = tuple(
    sorted(
        (
            "斜对面", "正对面", "交叉口", "对面", "附近", "门口", "旁边", "隔壁", "边上", "周边",
            "一带", "后面", "背后", "前面", "里面", "东侧", "西侧", "南侧", "北侧", "东边", "西边",
            "南边", "北边", "东面", "西面", "南面", "北面", "路口", "旁",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip

#: Words with no locating content around an address (``在…``, ``…这边``).
_LEADING_NOISE = re.compile(r"^(?:地址是|地址为|地址|位于|在)")
_TRAILING_NOISE = ("这里", "这边", "那里", "那边", "的")

#: A road's mouth (``华溪大道口``): the hint 路口, the road kept.
_ROAD_MOUTH = re.compile(r"(?:路|街|大道|巷|弄)口$")
#: A number said without its 号 after a 组 or a road (``3组12``, ``九龙路12``).
_BARE_HOUSE = re.compile(r"(组|路|街|大道|巷|弄)(\d{1,5})$")
#: Hint words cut out of the middle only after a house number: ``12号对面的小店`` -> ``12号``.
_MID_HINT = re.compile(r"(\d+号)(对面|旁边|附近|隔壁|门口|斜对面)")

_CN_NUMERAL = "零〇一二两三四五六七八九十百千廿幺壹贰叁肆伍陆柒捌玖拾佰仟"
#: A run of Chinese numerals directly before a unit of a group or house number.
_NUMERAL_BEFORE_UNIT = re.compile(
    rf"[{_CN_NUMERAL}]+(?=组|队|号|栋|幢|单元|室|楼|层|村民小组|小组)"
)
_PUNCT = re.compile(
    r"[\s,.;:!?'\"()\[\]{}<>/\\|~`@$%^&*+=_，。、；：！？“”‘’（）【】《》〈〉「」『』·…]+"
)
_DASH = re.compile(r"(?<!\d)-+|-+(?!\d)")
_HASH = re.compile(r"(\d+)#")
_ORDINAL = re.compile(r"第(\d+)(?=组|号)")
_GROUP_WORD = re.compile(r"(\d+)(?:村民小组|小组|队)")

_HAN = r"\u4e00-\u9fff"
#: Province, prefecture-level city and county prefixes (``浙江省金华市永康市``). ``市场``, ``社区``,
#: ``小区`` … are not administrative, hence the look-arounds.
_ADMIN = re.compile(
    rf"^(?P<province>[{_HAN}]{{2,7}}?(?:省|自治区))?"
    rf"(?P<city>[{_HAN}]{{2,4}}?市(?!场))?"
    rf"(?P<county>[{_HAN}]{{2,4}}?(?:县|市(?!场)|(?<![社小园景])区))?"
)
_TOWN = re.compile(rf"^[{_HAN}]{{1,5}}?(?:镇|乡|街道)")
_GROUP = re.compile(r"(\d{1,3})组")
_HOUSE = re.compile(r"(\d{1,5})号")
#: Place-name shapes when the name itself is not in the vocabulary (a typo, an unknown place).
_VILLAGE_LIKE = re.compile(rf"[{_HAN}]{{1,4}}?(?:社区|村)(?!委|民)")
_ROAD_LIKE = re.compile(rf"[{_HAN}]{{1,5}}?(?:大道|路|街|巷|弄)")
_STEM_BEFORE_GROUP = re.compile(rf"([{_HAN}]{{2,4}})\|?$")

#: Suffixes of village and community names; ``stem("青溪村") == "青溪"``.
VILLAGE_SUFFIXES = ("社区", "村")
#: Longest input read; 110/12345 address fields are short, free text is cut here.
MAX_CHARS = 200

_T2S = opencc.OpenCC("t2s.json")


def stem(name: str) -> str:
    """A village or community name without its 村 / 社区 suffix."""
    for suffix in VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _numeral(m: re.Match[str]) -> str:
    return _digits(m.group(0))


@lru_cache(maxsize=4096)  # a town's addresses say the same few numbers (三组, 十二号) over and over
def _digits(numeral: str) -> str:
    try:
        return str(int(cn2an.cn2an(numeral, "normal")))
    except (ValueError, KeyError, TypeError):
        return numeral  # not a number after all (``零零``): leave it for the fuzzy match


@lru_cache(maxsize=65536)
def clean(text: str) -> str:
    """Canonical spelling: half-width, simplified, no punctuation, Arabic group/house numbers.

    Hint words are kept; use :func:`normalise` to split them off.
    """
    s = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    s = _T2S.convert(s)
    s = _PUNCT.sub("", s)
    s = _DASH.sub("", s)
    s = _HASH.sub(r"\1号", s)
    s = _NUMERAL_BEFORE_UNIT.sub(_numeral, s)
    s = _GROUP_WORD.sub(r"\1组", s)
    return _ORDINAL.sub(r"\1", s)


def split_hint(text: str) -> tuple[str, str | None]:
    """Strip trailing hint and noise words; return the text and the hint (first said, or None)."""
    s = _LEADING_NOISE.sub("", text)
    found: list[str] = []
    changed = True
    while changed and s:
        changed = False
        for word in _TRAILING_NOISE if s.endswith(_TRAILING_NOISE) else ():
            if s.endswith(word) and len(s) > len(word):
                s, changed = s[: -len(word)], True
        if _ROAD_MOUTH.search(s):  # ``九龙路口``: the road keeps its 路, only the 口 goes
            s, changed = s[:-1], True
            found.append("路口")
            continue
        if not s.endswith(HINTS):  # one C-level test for the common case: no hint
            continue
        for word in HINTS:
            if s.endswith(word) and len(s) > len(word):
                s, changed = s[: -len(word)], True
                found.append(word)
                break
    m = _MID_HINT.search(s)
    if m:
        found.append(m.group(2))
        s = s[: m.end(1)]
    return _BARE_HOUSE.sub(r"\1\2号", s), (found[-1] if found else None)


def normalise(text: str) -> tuple[str, str | None]:
    """Clean ``text`` and split off its precision hint: ``("东岭村3组12号", "附近")``."""
    return split_hint(clean(text))


@dataclass(frozen=True)
class Vocabulary:
    """Known place names by kind (``town``, ``village``, ``road``, ``poi``), cleaned.

    Parsing looks the substrings of the address up in one dict, longest first, at each position
    only for the lengths of the names that begin with the two characters there (every name has
    at least two): the cost grows with the address length, not with the number of names (a
    regex alternation of thousands of POI names would test each one at each position).
    """

    terms: Mapping[str, str] = field(default_factory=dict)
    #: First two characters -> the lengths of the names beginning with them, longest first.
    starts: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        towns: Iterable[str] = (),
        villages: Iterable[str] = (),
        roads: Iterable[str] = (),
        pois: Iterable[str] = (),
    ) -> Vocabulary:
        """Vocabulary of the given names; on a clash the more specific kind (POI first) wins."""
        terms: dict[str, str] = {}
        for kind, names in (("poi", pois), ("road", roads), ("village", villages), ("town", towns)):
            for name in names:
                key = clean(str(name))
                if len(key) >= 2:
                    terms.setdefault(key, kind)
        lengths: dict[str, set[int]] = {}
        for t in terms:
            lengths.setdefault(t[:2], set()).add(len(t))
        starts = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}
        return cls(terms, starts)

    def scan(self, text: str) -> list[tuple[int, int, str]]:
        """Leftmost-longest, non-overlapping vocabulary hits as ``(start, end, kind)``."""
        hits: list[tuple[int, int, str]] = []
        i, n = 0, len(text)
        terms, starts = self.terms, self.starts
        while i < n:
            for length in starts.get(text[i : i + 2], ()):
                if i + length <= n:
                    kind = terms.get(text[i : i + length])
                    if kind is not None:
                        hits.append((i, i + length, kind))
                        i += length
                        break
            else:
                i += 1
        return hits


@dataclass(frozen=True)
class AddressParts:
    """An address cut into parts. Names are cleaned text; ``known`` lists the parts found verbatim
    in the vocabulary (the others are guesses from the shape of the text, for fuzzy matching).
    ``core`` is the text without hint, administrative and town prefixes: the exact-match key.
    """

    normalised: str = ""
    core: str = ""
    hint: str | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    town: str | None = None
    village: str | None = None
    group_no: int | None = None
    road: str | None = None
    house_no: str | None = None
    poi: str | None = None
    detail: str | None = None
    rest: str | None = None
    known: frozenset[str] = frozenset()

    def as_dict(self) -> dict[str, object]:
        """The non-empty parts (``known`` as a sorted list)."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "known":
                out[name] = sorted(value)
            elif value not in (None, ""):
                out[name] = value
        return out


_EMPTY_VOCAB = Vocabulary()


def _admin(prefix: str) -> tuple[dict[str, str], str]:
    """Administrative parts at the start of ``prefix`` and what is left of it."""
    m = _ADMIN.match(prefix)  # every group is optional: it always matches
    assert m is not None
    return {k: v for k, v in m.groupdict().items() if v}, prefix[m.end() :]


def parse(text: str, vocab: Vocabulary | None = None) -> AddressParts:
    """Normalise ``text`` and cut it into parts, using ``vocab`` for the place names."""
    return _parse_clean(clean(text), vocab or _EMPTY_VOCAB)


def _parse_clean(cleaned: str, vocab: Vocabulary) -> AddressParts:
    s, hint = split_hint(cleaned)
    hits = vocab.scan(s)
    # The administrative prefix ends where the first known name begins.
    first = next((a for a, _, kind in hits if kind != "town"), len(s))
    town_hit = next(((a, b) for a, b, kind in hits if kind == "town" and a < first), None)
    head_end = town_hit[0] if town_hit else first
    admin, leftover = _admin(s[:head_end])
    found: dict[str, str] = dict(admin)
    group_no: int | None = None
    known: set[str] = set()
    core_start = head_end
    if town_hit:
        found["town"] = s[town_hit[0] : town_hit[1]]
        known.add("town")
        core_start = town_hit[1]
    elif leftover:
        m = _TOWN.match(leftover)
        if m and (len(leftover) > m.end() or first < len(s)):
            found["town"] = m.group(0)
            leftover = leftover[m.end() :]
        core_start = head_end - len(leftover)
    core = s[core_start:]

    # Known names, then numbers, then name-shaped guesses in what is left.
    pieces: list[str] = []
    pos = core_start
    for a, b, kind in hits:
        if a < core_start:
            continue
        pieces.append(s[pos:a])
        pos = b
        if kind != "town" and kind not in found:
            found[kind] = s[a:b]
            known.add(kind)
        pieces.append("|")
    pieces.append(s[pos:])
    residue = "".join(pieces)

    m = _GROUP.search(residue)
    if m:
        group_no = int(m.group(1))
        before = residue[: m.start()]
        if "village" not in found:
            stem_m = _STEM_BEFORE_GROUP.search(before)
            if stem_m and not _ROAD_LIKE.fullmatch(stem_m.group(1)):
                found["village"] = stem_m.group(1)
                before = before[: stem_m.start()]
        residue = before + "|" + residue[m.end() :]
    m = _HOUSE.search(residue)
    if m:
        found["house_no"] = str(int(m.group(1)))
        detail = residue[m.end() :].replace("|", "")
        if detail:
            found["detail"] = detail
        residue = residue[: m.start()] + "|"
    if "village" not in found:
        m = _VILLAGE_LIKE.search(residue)
        if m:
            found["village"] = m.group(0)
            residue = residue[: m.start()] + "|" + residue[m.end() :]
    if "road" not in found:
        m = _ROAD_LIKE.search(residue)
        if m:
            found["road"] = m.group(0)
            residue = residue[: m.start()] + "|" + residue[m.end() :]
    rest = max(residue.split("|"), key=len)
    mid_hint = (
        next((w for w in HINTS if rest.startswith(w)), None) if rest.startswith(HINTS) else None
    )
    if mid_hint:  # ``青溪村附近的小卖部``: a place near a known one, not a POI of its own
        hint = hint or mid_hint
        found["rest"] = rest
    elif "poi" not in found and len(rest) >= 2:
        found["poi"] = rest
    elif rest:
        found["rest"] = rest
    return AddressParts(
        normalised=s,
        core=core,
        hint=hint,
        province=found.get("province"),
        city=found.get("city"),
        county=found.get("county"),
        town=found.get("town"),
        village=found.get("village"),
        group_no=group_no,
        road=found.get("road"),
        house_no=found.get("house_no"),
        poi=found.get("poi"),
        detail=found.get("detail"),
        rest=found.get("rest"),
        known=frozenset(known),
    )


__all__ = [
    "HINTS",
    "MAX_CHARS",
    "VILLAGE_SUFFIXES",
    "AddressParts",
    "Vocabulary",
    "clean",
    "normalise",
    "parse",
    "split_hint",
    "stem",
]
