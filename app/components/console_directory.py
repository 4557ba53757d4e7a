"""Who is who in the town: teams, departments, the trinity's officers and stations, and the
trinity index for manual placement. Read from a store's layers and tables once per version of
its layers (read-only, so safe to keep per worker); a missing optional table leaves its part
empty.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from geo.trinity import TrinityIndex
from incidents.masking import mask_name, mask_phone
from store import IncidentStore, LayerNotFound, open_store

#: Words in department names that suggest the lead department of a category (as in the demo).
CATEGORY_DEPARTMENT_WORDS: dict[str, tuple[str, ...]] = {
    "wage": ("劳动保障", "劳动", "人社"),
    "consumer": ("市场监管",),
    "noise": ("执法",),
    "neighbour": ("司法",),
    "family": ("妇联", "司法"),
    "rental": ("综治", "住建"),
    "other": ("执法",),
}


@dataclass(frozen=True)
class Person:
    """A unit of the trinity and the person (or crew) on duty for it."""

    code: str
    unit: str
    name: str
    phone: str
    #: Whether ``name`` is a person's name (a station's is its crew size: never masked).
    personal: bool = True

    def shown(self, unmask: bool) -> Person:
        """The person as a role without ``unmask`` sees them (name and phone masked)."""
        if unmask:
            return self
        name = (mask_name(self.name) or "") if self.personal else self.name
        return Person(self.code, self.unit, name, mask_phone(self.phone) or "", self.personal)


@dataclass
class Directory:
    """Teams, departments and the trinity's people of one town (codes -> names)."""

    teams: dict[str, str] = field(default_factory=dict)
    team_of_beat: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    grid: dict[str, Person] = field(default_factory=dict)
    beats: dict[str, Person] = field(default_factory=dict)
    stations: dict[str, Person] = field(default_factory=dict)
    layers: dict[str, Any] = field(default_factory=dict, repr=False)
    _index: TrinityIndex | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def index(self) -> TrinityIndex | None:
        """The trinity index (built on first use; ``None`` without grid cells, beats, stations)."""
        with self._lock:
            needed = ("grid_cells", "police_beats", "fire_stations")
            if self._index is None and all(self.layers.get(n) is not None for n in needed):
                self._index = TrinityIndex.from_layers(**self.layers)
            return self._index

    def department_for(self, category: str | None) -> str | None:
        """The department suggested for a category (first name matching its words)."""
        for word in CATEGORY_DEPARTMENT_WORDS.get(category or "", ()):
            for code, name in self.departments.items():
                if word in name:
                    return code
        return None

    def trinity(self, lon: float, lat: float) -> dict[str, str | None]:
        """Grid, village, beat and station codes of a WGS84 point.

        Raises
        ------
        ValueError
            (:class:`app.console_actions.ActionError`) the point is outside the town or the
            layers are missing.
        """
        from app.console_actions import ActionError

        index = self.index
        if index is None:
            raise ActionError("缺少网格/警格/消防站图层 / the trinity layers are missing")
        row = index.assign([lon], [lat]).iloc[0]
        if pd.isna(row["grid_code"]) and pd.isna(row["beat_code"]):
            reason = "" if pd.isna(row["reason"]) else str(row["reason"])
            raise ActionError(f"该位置不在镇域网格内 / the point is in no grid cell ({reason})")
        codes = ("grid_code", "village_code", "beat_code", "station_code")
        return {c: None if pd.isna(row[c]) else str(row[c]) for c in codes}


def _read(store: IncidentStore, name: str) -> Any:
    try:
        return store.read_layer(name)
    except LayerNotFound:
        return None


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _people(frame: Any, person: str, phone: str) -> dict[str, Person]:
    if frame is None or not len(frame):
        return {}
    out = {}
    for r in frame.to_dict("records"):
        code = _text(r.get("code"))
        out[code] = Person(
            code, _text(r.get("name")) or code, _text(r.get(person)), _text(r.get(phone))
        )
    return out


def build_directory(store: IncidentStore) -> Directory:
    """Read the directory of the town in ``store``."""
    teams = _read(store, "teams")
    depts = _read(store, "departments")
    stations = _read(store, "fire_stations")
    d = Directory()
    if teams is not None and len(teams):
        for r in teams.sort_values("code").to_dict("records"):
            d.teams[_text(r["code"])] = _text(r.get("name")) or _text(r["code"])
            beat = _text(r.get("beat_code"))
            if beat:
                d.team_of_beat.setdefault(beat, _text(r["code"]))
    if depts is not None and len(depts):
        d.departments = {
            _text(c): _text(n) for c, n in zip(depts["code"], depts["name"], strict=True)
        }
    d.grid = _people(_read(store, "grid_cells"), "officer_name", "officer_phone")
    beats = _read(store, "police_beats")
    d.beats = _people(beats, "officer_name", "officer_phone")
    if stations is not None and len(stations):
        crew = stations["crew"] if "crew" in stations else pd.Series(None, index=stations.index)
        frame = stations.assign(crew_text=[_text(c) for c in crew])
        d.stations = {
            code: Person(p.code, p.unit, p.name, p.phone, personal=False)
            for code, p in _people(frame, "crew_text", "phone").items()
        }
    d.layers = {
        "grid_cells": _read(store, "grid_cells"),
        "police_beats": beats,
        "fire_stations": stations,
        "fire_station_coverage": _read(store, "fire_station_coverage"),
        "town": _read(store, "town"),
    }
    return d


def directory_of(url: str) -> Directory:
    """The directory of the store at ``url``, read once per version of its layers (a manual
    placement after ``ember layers import`` goes on the new grid cells, the new officers are
    shown: :meth:`~store.base.Store.layers_version`)."""
    return _directory(url, store_of(url).layers_version())


@lru_cache(maxsize=4)
def _directory(url: str, version: int) -> Directory:
    """:func:`directory_of` for one layers ``version``."""
    store = open_store(url)
    try:
        return build_directory(store)
    finally:
        store.close()


@lru_cache(maxsize=4)
def store_of(url: str) -> IncidentStore:
    """One open store per URL for the console and incident views."""
    return open_store(url)
