"""The storage contract every backend implements (pygeoapi-style provider interface)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeAlias, runtime_checkable

import geopandas as gpd
import pandas as pd

Frame: TypeAlias = gpd.GeoDataFrame | pd.DataFrame


class StoreError(RuntimeError):
    """A store could not be opened or used; the message is bilingual."""


class LayerNotFound(StoreError, KeyError):
    """The requested layer is not in the store."""


@runtime_checkable
class Store(Protocol):
    """Persistence of layers (and, from the store issue on, incidents and events)."""

    url: str

    def layer_names(self) -> list[str]:
        """Names of the layers and tables held."""
        ...

    def read_layer(self, name: str) -> Frame:
        """One layer as a GeoDataFrame in EPSG:4326, or a DataFrame for a plain table."""
        ...

    def write_layers(self, frames: Mapping[str, Frame]) -> None:
        """Create or replace the named layers."""
        ...

    def exists(self) -> bool:
        """Whether the store holds anything yet."""
        ...
