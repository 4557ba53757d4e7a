"""The ingest context: the town a feed's rows are placed in, built from its layers or a store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.geocode import Geocoder
from geo.trinity import TrinityIndex
from incidents.repeat import RepeatPolicy
from incidents.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from store.base import IncidentStore


@dataclass
class IngestContext:
    """What the pipeline needs of the town: geocoder, trinity index, taxonomy, repeat policy."""

    geocoder: Geocoder
    trinity: TrinityIndex
    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    repeat_policy: RepeatPolicy = field(default_factory=RepeatPolicy)
    #: Coordinate system of coordinates given without a 坐标系 column.
    default_crs: str = "wgs84"

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
