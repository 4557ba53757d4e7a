"""Geocode messy Chinese addresses against a gazetteer (标准地址库).

A :class:`Geocoder` is built once from a gazetteer GeoDataFrame (the ``layers.gazetteer``
columns; points) and, optionally, the grid-cells frame for grid codes. :meth:`Geocoder.geocode`
normalises and parses the text (:mod:`geo.address`), tries the exact normalised address, then
the parts level by level — house number, POI, road, 组, village, town — with rapidfuzz for names
that are not spelt as in the gazetteer (restricted to the village's or the road's own entries).

Confidence (0-1) is the level's weight times the quality of the name matches, lowered by a
precision hint (附近, 对面 …), by a fallback to a coarser level than the caller gave, and by
competing candidates. Below :data:`REVIEW_THRESHOLD` a result has ``needs_review``: the incident
goes to the manual-geocoding queue and its point is only a suggestion for the map. An unknown
address has no point and level None; a town-only match has no point either (its candidate is the
town centre), so nothing is ever placed at the town centre without a person choosing it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._geocode_index import GazetteerIndex, NameMatcher, build_index
from geo.address import AddressParts, parse

#: Levels from the most to the least precise.
LEVELS = ("house", "poi", "road", "group", "village", "town")

#: Confidence of an exact match at each level: a 组 centre is within a few hundred metres, a road's
#: midpoint or a village office can be a kilometre or more from the caller.
LEVEL_WEIGHT = {"house": 1.0, "poi": 0.95, "group": 0.8, "road": 0.5, "village": 0.45, "town": 0.15}

#: Results with a lower confidence go to the manual-geocoding queue (``needs_review``). With the
#: weights above: exact house, POI and 组 matches are placed, also with a hint or a one-character
#: typo; road-only, village-only and town-only matches, ambiguous typos and fallbacks below the
#: group level are not.
REVIEW_THRESHOLD = 0.6

HINT_FACTOR = 0.95  #: the caller said 附近 / 对面 / 门口 …: the place is near, not at, the point
FALLBACK_FACTOR = 0.9  #: the caller gave a finer part (a 号, a 组) that the gazetteer lacks
NO_GROUP_FACTOR = 0.85  #: a village house number without its 组, unique in the village
TOWN_MISMATCH = 0.85  #: the text names a town that is not in the gazetteer
OTHER_VILLAGE = 0.9  #: a POI found by name, but in another village than the one said
AMBIGUITY_FACTOR = 0.7  #: another candidate elsewhere scores nearly as well
AMBIGUOUS_WITHIN = 0.9  #: ... "nearly": at least this share of the best confidence
AMBIGUOUS_METRES = 50.0  #: ... "elsewhere": further than this from the best candidate
VILLAGE_CUTOFF = 60.0  #: rapidfuzz score (0-100) below which a village or road name is no match
POI_CUTOFF = 70.0  #: the same for POI names, which are longer
NAME_MARGIN = 10.0  #: fuzzy names more than this below the best-scoring name are dropped
TOP = 5  #: candidates kept in a result
#: Words for a village's or community's office; with a village said, they mean its office POI.
OFFICE_WORDS = frozenset(
    ("村委会", "村委", "居委会", "居委", "村部", "村民委员会", "居民委员会", "社区居委会", "村两委")
)
OFFICE_SUFFIXES = ("村委会", "居委会")

REASONS = {
    "empty": "地址为空 / empty address",
    "none": "未匹配到标准地址 / no gazetteer match",
    "town": "仅匹配到镇，需人工定位 / only the town matched: geocode by hand",
    "ambiguous": "多个候选地址都相近，请在地图上选择 / several candidates fit: pick one on the map",
    "low": "置信度低于阈值，需人工定位 / confidence below threshold: geocode by hand",
}


class Candidate(NamedTuple):
    """One gazetteer entry that could be the address."""

    address: str
    level: str
    score: float
    lon: float
    lat: float


@dataclass(frozen=True)
class GeocodeResult:
    """The match of one address. ``lon``/``lat`` are None when nothing (or only the town)
    matched; with ``needs_review`` they are a suggestion for the dispatcher's map only."""

    address: str
    normalised: str
    parts: AddressParts
    lon: float | None
    lat: float | None
    level: str | None
    confidence: float
    hint: str | None
    candidates: list[Candidate] = field(default_factory=list)
    needs_review: bool = True
    grid_code: str | None = None
    matched: str | None = None
    matched_id: str | None = None
    reason: str | None = None

    def as_record(self, candidates: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (``parts`` as a dict, candidates as dicts)."""
        out: dict[str, Any] = {
            "address": self.address,
            "lon": self.lon,
            "lat": self.lat,
            "level": self.level,
            "confidence": self.confidence,
            "grid_code": self.grid_code,
            "needs_review": self.needs_review,
            "matched": self.matched,
            "matched_id": self.matched_id,
            "hint": self.hint,
            "normalised": self.normalised,
            "reason": self.reason,
        }
        if candidates:
            out["parts"] = self.parts.as_dict()
            out["candidates"] = [c._asdict() for c in self.candidates]
        return out


class _Cands:
    """Candidate rows with the best confidence seen for each."""

    def __init__(self) -> None:
        self.best: dict[int, tuple[float, str]] = {}

    def add(self, rows: Iterable[int], level: str, factor: float) -> None:
        conf = LEVEL_WEIGHT[level] * factor
        for r in rows:
            if conf > self.best.get(r, (-1.0, ""))[0]:
                self.best[r] = (conf, level)

    def ranked(self) -> list[tuple[int, float, str]]:
        order = sorted(self.best.items(), key=lambda kv: (-kv[1][0], LEVELS.index(kv[1][1]), kv[0]))
        return [(r, conf, level) for r, (conf, level) in order]


def _close_to_best(matches: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Fuzzy matches within :data:`NAME_MARGIN` of the best: the name decides before the
    numbers do (a homophone of 龙岩村 is 龙岩村, even if 3组12号 exists only in 云岩村)."""
    return [(n, s) for n, s in matches if s >= matches[0][1] - NAME_MARGIN] if matches else []


def _name_factor(score: float) -> float:
    """Confidence factor of a name matched with rapidfuzz ``score`` (0-100): 1 when exact."""
    return 0.4 + 0.6 * score / 100.0


class Geocoder:
    """Geocoder over one gazetteer; build once, call :meth:`geocode` or :meth:`geocode_series`.

    Parameters
    ----------
    gazetteer : GeoDataFrame
        ``address``, ``level`` and the part columns (``village``, ``group_no``, ``road``,
        ``house_no``, ``poi``) of ``layers.gazetteer``; points, any CRS (results are WGS84).
    grid_cells : GeoDataFrame, optional
        Polygons with a ``grid_column`` code; each result gets the code of its cell.
    review_threshold : float
        Confidence below which a result needs review (default :data:`REVIEW_THRESHOLD`).
    """

    def __init__(
        self,
        gazetteer: gpd.GeoDataFrame,
        grid_cells: gpd.GeoDataFrame | None = None,
        *,
        review_threshold: float = REVIEW_THRESHOLD,
        grid_column: str = "code",
    ):
        self.index: GazetteerIndex = build_index(gazetteer, grid_cells, grid_column)
        self.review_threshold = review_threshold

    def __len__(self) -> int:
        return len(self.index)

    # --- one address ---------------------------------------------------------------------------
    def geocode(self, address: object) -> GeocodeResult:
        """Geocode one address (any object: None, NaN and blanks give an empty result)."""
        if isinstance(address, str):
            text = address
        elif address is None or (pd.api.types.is_scalar(address) and bool(pd.isna(address))):
            text = ""
        else:
            text = str(address)
        if not text.strip():
            return GeocodeResult(
                text, "", AddressParts(), None, None, None, 0.0, None, reason=REASONS["empty"]
            )
        idx = self.index
        parts = parse(text, idx.vocab)
        cands = _Cands()
        exact = self._town_filter(idx.exact.get(parts.core, []), parts) if parts.core else []
        if exact:
            cands.add(exact, idx.level[exact[0]], 1.0)
        else:
            self._structured(parts, cands)
        hint = HINT_FACTOR if parts.hint else 1.0
        ranked = [(r, conf * hint, level) for r, conf, level in cands.ranked()]
        return self._result(text, parts, ranked)

    def _town_filter(self, rows: list[int], parts: AddressParts) -> list[int]:
        """Rows in the town the text names, when it names one of the gazetteer's towns."""
        if parts.town and "town" in parts.known and len(rows) > 1:
            kept = [r for r in rows if self.index.town[r] == parts.town]
            return kept or rows
        return rows

    def _structured(self, parts: AddressParts, cands: _Cands) -> None:
        idx = self.index
        g, h = parts.group_no, parts.house_no
        town_f = TOWN_MISMATCH if parts.town and "town" not in parts.known else 1.0
        villages = self._names(parts.village, "village" in parts.known, idx.village_names)
        finer = g is not None or h is not None or parts.poi is not None
        for v, score in villages:
            f = _name_factor(score) * town_f
            if g is not None:
                found = self._town_filter(idx.house.get((v, g, h), []), parts) if h else []
                cands.add(found, "house", f)
                fall = FALLBACK_FACTOR if h and not found else 1.0
                cands.add(self._town_filter(idx.group.get((v, g), []), parts), "group", f * fall)
            elif h is not None:
                found = self._town_filter(idx.village_house.get((v, h), []), parts)
                if len(found) == 1:
                    cands.add(found, "house", f * NO_GROUP_FACTOR)
            rows = self._town_filter(idx.villages.get(v, []), parts)
            cands.add(rows, "village", f * (FALLBACK_FACTOR if finer else 1.0))
        road_token = parts.road
        if road_token is None and parts.poi and h is not None and g is None:
            road_token = parts.poi  # "华溪大到88号": a misspelt road before a house number
        roads = self._names(road_token, "road" in parts.known, idx.road_names)
        for r, score in roads:
            f = _name_factor(score) * town_f
            found = self._town_filter(idx.road_house.get((r, h), []), parts) if h else []
            cands.add(found, "house", f)
            fall = FALLBACK_FACTOR if h and not found else 1.0
            cands.add(self._town_filter(idx.roads.get(r, []), parts), "road", f * fall)
        if parts.poi:
            self._pois(parts, villages[0] if villages else None, cands, town_f)
        if parts.town and "town" in parts.known and not cands.best:
            cands.add(idx.towns.get(parts.town, []), "town", 1.0)

    def _pois(
        self,
        parts: AddressParts,
        village: tuple[str, float] | None,
        cands: _Cands,
        town_f: float,
    ) -> None:
        """POI candidates: by exact name, an office word, or fuzzy names (the village's first)."""
        idx = self.index
        assert parts.poi is not None
        said = village[0] if village else None
        if village and parts.poi in OFFICE_WORDS:
            offices = [
                r
                for r in idx.village_pois.get(village[0], [])
                if idx.address[r].endswith(OFFICE_SUFFIXES)
            ]
            cands.add(offices, "poi", _name_factor(village[1]) * town_f)
            return
        if "poi" in parts.known:
            matches = [(parts.poi, 100.0)]
        else:
            matcher = idx.poi_names_in.get(said) if said else None
            matches = matcher.match(parts.poi, POI_CUTOFF) if matcher else []
            if not matches:
                matches = idx.poi_names.match(parts.poi, POI_CUTOFF)
            matches = _close_to_best(matches)
        for name, score in matches:
            rows = self._town_filter(idx.pois.get(name, []), parts)
            if said and len(rows) > 1:  # a generic name (村委会): the one in the village said
                rows = [r for r in rows if idx.village[r] == said] or rows
            f = _name_factor(score) * town_f
            for r in rows:
                other = said is not None and idx.village[r] != said
                cands.add([r], "poi", f * (OTHER_VILLAGE if other else 1.0))

    @staticmethod
    def _names(token: str | None, known: bool, matcher: NameMatcher) -> list[tuple[str, float]]:
        if not token:
            return []
        if known:
            return [(token, 100.0)]
        return _close_to_best(matcher.match(token, VILLAGE_CUTOFF))

    def _result(
        self, text: str, parts: AddressParts, ranked: list[tuple[int, float, str]]
    ) -> GeocodeResult:
        idx = self.index
        cands = [
            Candidate(idx.address[r], level, round(conf, 3), float(idx.lon[r]), float(idx.lat[r]))
            for r, conf, level in ranked[:TOP]
        ]
        if not ranked:
            return GeocodeResult(
                text, parts.normalised, parts, None, None, None, 0.0, parts.hint,
                candidates=cands, reason=REASONS["none"],
            )  # fmt: skip
        row, conf, level = ranked[0]
        rival = self._rival(ranked)
        if rival:
            conf *= AMBIGUITY_FACTOR
        placed = level != "town"
        review = conf < self.review_threshold or rival or not placed
        reason = None
        if review:
            reason = REASONS["town" if not placed else "ambiguous" if rival else "low"]
        return GeocodeResult(
            text,
            parts.normalised,
            parts,
            lon=float(idx.lon[row]) if placed else None,
            lat=float(idx.lat[row]) if placed else None,
            level=level,
            confidence=round(min(conf, 1.0), 3),
            hint=parts.hint,
            candidates=cands,
            needs_review=review,
            grid_code=idx.grid_code[row] if placed else None,
            matched=idx.address[row],
            matched_id=idx.ids[row],
            reason=reason,
        )

    def _rival(self, ranked: list[tuple[int, float, str]]) -> bool:
        """Whether a candidate as precise as the best, elsewhere, scores nearly as well."""
        row, conf, level = ranked[0]
        idx = self.index
        rank = LEVELS.index(level)
        for r, c, lv in ranked[1:]:
            if c < conf * AMBIGUOUS_WITHIN:
                return False
            if LEVELS.index(lv) > rank:
                continue
            dy = (idx.lat[r] - idx.lat[row]) * 111_320.0
            dx = (idx.lon[r] - idx.lon[row]) * 111_320.0 * np.cos(np.radians(idx.lat[row]))
            if np.hypot(dx, dy) > AMBIGUOUS_METRES:
                return True
        return False

    # --- many addresses ------------------------------------------------------------------------
    def geocode_series(self, addresses: pd.Series | Iterable[object]) -> pd.DataFrame:
        """Geocode a Series (or any iterable); one row per input, same index and order.

        Repeated addresses are geocoded once. Columns: address, normalised, lon, lat, level,
        confidence, hint, needs_review, grid_code, matched, matched_id, n_candidates, reason.
        """
        s = (
            addresses
            if isinstance(addresses, pd.Series)
            else pd.Series(list(addresses), dtype=object)
        )
        codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
        results = [self.geocode(u) for u in uniques]
        results.append(self.geocode(None))  # code -1: missing values
        table = pd.DataFrame.from_records(
            [
                (r.normalised, r.lon, r.lat, r.level, r.confidence, r.hint, r.needs_review,
                 r.grid_code, r.matched, r.matched_id, len(r.candidates), r.reason)
                for r in results
            ],
            columns=["normalised", "lon", "lat", "level", "confidence", "hint", "needs_review",
                     "grid_code", "matched", "matched_id", "n_candidates", "reason"],
        )  # fmt: skip
        out = table.iloc[np.where(codes < 0, len(results) - 1, codes)].reset_index(drop=True)
        out.insert(0, "address", s.astype(object).to_numpy())
        out.index = s.index
        out["lon"] = out["lon"].astype(float)
        out["lat"] = out["lat"].astype(float)
        return out


def geocode_series(
    addresses: pd.Series,
    gazetteer: gpd.GeoDataFrame,
    grid_cells: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Geocode a Series of addresses against ``gazetteer`` (builds a :class:`Geocoder`)."""
    return Geocoder(gazetteer, grid_cells).geocode_series(addresses)


__all__ = [
    "LEVELS",
    "LEVEL_WEIGHT",
    "REVIEW_THRESHOLD",
    "Candidate",
    "GeocodeResult",
    "Geocoder",
    "geocode_series",
]
