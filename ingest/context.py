"""The ingest context: the town a feed's rows are placed in, built from its layers or a store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo.geocode import Geocoder
from geo.trinity import TrinityIndex
from incidents.repeat import RepeatPolicy
from incidents.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from store.base import IncidentStore

if TYPE_CHECKING:
    from ingest._ahead import Ahead

#: Most distinct addresses an :class:`IngestContext` remembers the geocode of.
GEOCODE_CACHE = 200_000
_GEOCODED = ("lon", "lat", "level", "confidence", "needs_review")


def geocoded(geocoder: Geocoder, addresses: list[str]) -> list[tuple[Any, ...]]:
    """``(lon, lat, level, confidence, needs_review)`` of each address."""
    g = geocoder.geocode_series(pd.Series(addresses, dtype=object))
    columns = (g[c] for c in _GEOCODED)
    return list(zip(*columns, strict=True))


@dataclass
class IngestContext:
    """What the pipeline needs of the town: geocoder, trinity index, taxonomy, repeat policy."""

    geocoder: Geocoder
    trinity: TrinityIndex
    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    repeat_policy: RepeatPolicy = field(default_factory=RepeatPolicy)
    #: Coordinate system of coordinates given without a 坐标系 column.
    default_crs: str = "wgs84"
    #: New incidents go to the store as columns (``add_received``); ``False`` builds an Incident
    #: and an Event per row for ``add_incidents`` instead (the careful path tests compare it with).
    columnar: bool = True
    #: Address -> (lon, lat, level, confidence, needs_review), see :meth:`geocode`.
    _geocoded: dict[str, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    #: A helper geocoding the run's addresses ahead of it (``ingest._ahead``), or None.
    ahead: Ahead | None = field(default=None, repr=False, compare=False)

    def geocode(self, addresses: pd.Series) -> pd.DataFrame:
        """``lon``, ``lat``, ``level``, ``confidence`` and ``needs_review`` of each address (as
        :meth:`Geocoder.geocode_series` gives them), each distinct address geocoded once per
        context: the geocoder is deterministic and a feed repeats its addresses from batch to
        batch. At most :data:`GEOCODE_CACHE` addresses are kept."""
        texts = [str(a) for a in addresses.tolist()]
        cache = self._geocoded
        if self.ahead is not None:
            self.ahead.take(cache)
        missing = list(dict.fromkeys(a for a in texts if a not in cache))
        if missing:
            if len(cache) + len(missing) > GEOCODE_CACHE:
                cache.clear()
            cache.update(zip(missing, geocoded(self.geocoder, missing), strict=True))
        if self.ahead is not None:
            self.ahead.tell(cache)
        return pd.DataFrame.from_records(
            [cache[a] for a in texts], columns=list(_GEOCODED), index=addresses.index
        ).astype({"lon": float, "lat": float, "confidence": float, "needs_review": bool})

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (from the process that built it) without a helper's connection."""
        return {**vars(self), "ahead": None}

    @classmethod
    def from_frames(cls, frames: Mapping[str, Any], **kw: Any) -> IngestContext:
        """From the town's layers (``gazetteer``, ``grid_cells``, ``police_beats``,
        ``fire_stations``, optional ``fire_station_coverage`` and ``town``)."""
        geocoder = Geocoder(frames["gazetteer"], frames["grid_cells"])
        trinity = TrinityIndex.from_layers(
            frames["grid_cells"],
            frames["police_beats"],
            frames["fire_stations"],
            frames.get("fire_station_coverage"),
            frames.get("town"),
        )
        return cls(geocoder, trinity, **kw)

    @classmethod
    def from_store(cls, store: IncidentStore, **kw: Any) -> IngestContext:
        """From the layers held by ``store`` (as ``ember demo`` or ``ember layers import``
        wrote them)."""
        names = set(store.layer_names())
        frames: dict[str, Any] = {}
        for name in ("gazetteer", "grid_cells", "police_beats", "fire_stations"):
            frames[name] = store.read_layer(name)
        for name in ("fire_station_coverage", "town"):
            frames[name] = store.read_layer(name) if name in names else None
        return cls.from_frames(frames, **kw)
