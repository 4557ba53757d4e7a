"""Lookup tables of a gazetteer for :mod:`geo.geocode`: exact keys, structured keys, fuzzy names.

Everything is built once from the gazetteer frame; lookups are dict probes. Fuzzy matching uses
rapidfuzz on two spellings of each name: its characters, and its pinyin (``pypinyin``) so that a
homophone typed by a pinyin input method (龙言村 for 龙岩村) scores as a near-exact match.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process

from geo.address import Vocabulary, clean, parse, stem

#: Weight of a pinyin match relative to a character match (a homophone is nearly as good).
PINYIN_WEIGHT = 0.95
#: Weight of a stem match (枫川 or 枫川村 for 枫川社区).
STEM_WEIGHT = 0.9

# Sounds that southern speakers and the "模糊音" settings of pinyin input methods do not tell
# apart; folded before comparing syllables. No library offers this folding on its own.
_FUZZY_SOUNDS = ((re.compile(r"^(z|c|s)h"), r"\1"), (re.compile(r"(i|e)ng$"), r"\1n"))
_SYLLABLE_CODE: dict[str, str] = {}


_SYLLABLE_LOCK = threading.Lock()


def _syllable_char(syllable: str) -> str:
    """One private-use character per (folded) syllable, so that fuzz.ratio compares syllables."""
    for pattern, repl in _FUZZY_SOUNDS:
        syllable = pattern.sub(repl, syllable)
    code = _SYLLABLE_CODE.get(syllable)
    if code is None:
        with _SYLLABLE_LOCK:  # app workers may geocode from several threads
            code = _SYLLABLE_CODE.setdefault(syllable, chr(0xF0000 + len(_SYLLABLE_CODE)))
    return code


@lru_cache(maxsize=16384)
def pinyin_key(text: str) -> str:
    """``text`` as one character per toneless syllable, so homophones give equal keys."""
    return "".join(_syllable_char(s) for s in lazy_pinyin(text, style=Style.NORMAL))


class NameMatcher:
    """Fuzzy lookup of one kind of name (villages, roads, POIs) by characters and by pinyin."""

    def __init__(self, names: Iterable[str], *, stems: bool = False):
        self.names = sorted(set(names))
        self.pinyin = [pinyin_key(n) for n in self.names]
        self.stems = [stem(n) for n in self.names] if stems else None

    def __len__(self) -> int:
        return len(self.names)

    def match(self, token: str, cutoff: float = 60.0, limit: int = 5) -> list[tuple[str, float]]:
        """Names scoring at least ``cutoff`` (0-100) against ``token``, best first."""
        if not self.names or not token:
            return []
        best: dict[str, float] = {}

        def add(choices: list[str], query: str, weight: float) -> None:
            if cutoff > 100.0 * weight:
                return  # no score of this spelling can reach the cutoff
            hits = process.extract(
                query, choices, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff / weight
            )
            for _, score, i in hits:
                name = self.names[i]
                best[name] = max(best.get(name, 0.0), score * weight)

        add(self.names, token, 1.0)
        add(self.pinyin, pinyin_key(token), PINYIN_WEIGHT)
        if self.stems is not None:
            add(self.stems, stem(token), STEM_WEIGHT)
        return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def _text(values: pd.Series) -> list[str | None]:
    return [clean(str(v)) if pd.notna(v) and str(v).strip() else None for v in values]


def _house_no(values: pd.Series) -> list[str | None]:
    out: list[str | None] = []
    for v in _text(values):
        m = re.fullmatch(r"(\d+)号?", v) if v else None
        out.append(str(int(m.group(1))) if m else v)
    return out


@dataclass
class GazetteerIndex:
    """Rows of the gazetteer (positions 0..n-1) under every key the geocoder looks up."""

    ids: list[str]
    address: list[str]
    level: list[str]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    town: list[str | None]
    village: list[str | None]
    grid_code: list[str | None]
    vocab: Vocabulary
    exact: dict[str, list[int]] = field(default_factory=dict)
    house: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)
    village_house: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    group: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    villages: dict[str, list[int]] = field(default_factory=dict)
    road_house: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    roads: dict[str, list[int]] = field(default_factory=dict)
    pois: dict[str, list[int]] = field(default_factory=dict)
    towns: dict[str, list[int]] = field(default_factory=dict)
    village_pois: dict[str, list[int]] = field(default_factory=dict)
    village_names: NameMatcher = field(default_factory=lambda: NameMatcher(()))
    road_names: NameMatcher = field(default_factory=lambda: NameMatcher(()))
    poi_names: NameMatcher = field(default_factory=lambda: NameMatcher(()))
    poi_names_in: dict[str, NameMatcher] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def _put(table: dict, key: Hashable, row: int) -> None:  # type: ignore[type-arg]
    table.setdefault(key, []).append(row)


def grid_codes(
    points: gpd.GeoSeries, cells: gpd.GeoDataFrame, column: str = "code"
) -> list[str | None]:
    """Code of the grid cell holding each point (the first one on a shared edge), else None."""
    cells = cells.to_crs(points.crs) if cells.crs and points.crs else cells
    tree = shapely.STRtree(cells.geometry.to_numpy())
    pt_idx, cell_idx = tree.query(points.to_numpy(), predicate="intersects")
    out: list[str | None] = [None] * len(points)
    codes = cells[column].astype(str).to_numpy()
    for p, c in zip(pt_idx[::-1], cell_idx[::-1], strict=True):  # reversed: the first hit wins
        out[int(p)] = str(codes[c])
    return out


def build_index(
    gazetteer: gpd.GeoDataFrame,
    grid_cells: gpd.GeoDataFrame | None = None,
    grid_column: str = "code",
) -> GazetteerIndex:
    """Index a gazetteer frame (the ``layers.gazetteer`` columns, Point geometry)."""
    missing = {"address", "level", "geometry"} - set(gazetteer.columns)
    if missing:
        raise ValueError(
            f"标准地址图层缺少字段 / gazetteer lacks columns: {', '.join(sorted(missing))}"
        )
    gaz = gazetteer[gazetteer.geometry.notna() & ~gazetteer.geometry.is_empty]
    gaz = gaz.to_crs(4326) if gaz.crs is not None else gaz.set_crs(4326)
    n = len(gaz)
    cols = {c: gaz[c] if c in gaz else pd.Series([None] * n, index=gaz.index) for c in (
        "id", "village", "road", "poi", "group_no", "house_no")}  # fmt: skip
    address = _text(gaz["address"])
    level = [str(v) for v in gaz["level"]]
    village, road, poi = _text(cols["village"]), _text(cols["road"]), _text(cols["poi"])
    house_no = _house_no(cols["house_no"])
    group_no = [int(v) if pd.notna(v) else None for v in pd.to_numeric(cols["group_no"])]
    ids = [str(v) if pd.notna(v) else str(i) for i, v in enumerate(cols["id"])]
    towns = sorted({a for a, lv in zip(address, level, strict=True) if lv == "town" and a})
    town_of = [next((t for t in towns if a and a.startswith(t)), None) for a in address]
    grid: list[str | None] = [None] * n
    if grid_cells is not None and len(grid_cells):
        grid = grid_codes(gaz.geometry, grid_cells, grid_column)
    idx = GazetteerIndex(
        ids=ids,
        address=[str(a) for a in gaz["address"]],
        level=level,
        lon=gaz.geometry.x.to_numpy(dtype=np.float64),
        lat=gaz.geometry.y.to_numpy(dtype=np.float64),
        town=town_of,
        village=village,
        grid_code=grid,
        vocab=Vocabulary.build(
            towns=towns,
            villages=(v for v in village if v),
            roads=(r for r in road if r),
            pois=(p for p in poi if p),
        ),
    )
    by_village: dict[str, set[str]] = defaultdict(set)
    for i in range(n):
        lv, v, g, h, r, p = level[i], village[i], group_no[i], house_no[i], road[i], poi[i]
        text = address[i]
        if text:
            core = parse(text, idx.vocab).core
            if core:
                _put(idx.exact, core, i)
        if lv == "house" and v and g is not None and h:
            _put(idx.house, (v, g, h), i)
            _put(idx.village_house, (v, h), i)
        elif lv == "house" and r and h:
            _put(idx.road_house, (r, h), i)
        elif lv == "group" and v and g is not None:
            _put(idx.group, (v, g), i)
        elif lv == "village" and v:
            _put(idx.villages, v, i)
        elif lv == "road" and r:
            _put(idx.roads, r, i)
        elif lv == "town" and address[i]:
            _put(idx.towns, address[i], i)
        elif lv == "poi" and p:
            _put(idx.pois, p, i)
            short = p[len(v) :] if v and p.startswith(v) and len(p) > len(v) else p
            if short != p:
                _put(idx.pois, short, i)
            if v:
                by_village[v].update({p, short})
                _put(idx.village_pois, v, i)
    idx.village_names = NameMatcher(idx.villages, stems=True)
    idx.road_names = NameMatcher(idx.roads)
    idx.poi_names = NameMatcher(idx.pois)
    idx.poi_names_in = {v: NameMatcher(names) for v, names in by_village.items()}
    return idx


__all__ = ["GazetteerIndex", "NameMatcher", "build_index", "grid_codes", "pinyin_key"]
