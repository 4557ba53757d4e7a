"""What the API views share: the per-app state (store, cached layers, the ingest context),
JSON responses, and turning frames into GeoJSON features.

Layers are read from the store at first use and kept until the store's layers change (its
:meth:`~store.base.Store.layers_version`, looked at no more than every
:data:`LAYERS_CHECK_S` seconds): a push placed after ``ember layers import`` lands on the new
grid cells without a restart. Incidents are always queried per request, within the caller's
scope.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from flask import Response, current_app

from incidents.masking import mask_phone
from ingest.context import IngestContext
from store import QUERY_COLUMNS, IncidentNotFound, IncidentQuery, IncidentStore, Scope
from store.base import is_store_error

STATE_KEY = "ember_api"
#: Seconds between two looks at the store's layers version (a look is one small query; a
#: request may ask for a layer once per row it answers).
LAYERS_CHECK_S = 2.0
#: The layers the APIs publish: id -> (中文, English).
LAYERS: dict[str, tuple[str, str]] = {
    "villages": ("村（社区）", "Villages and communities"),
    "grid_cells": ("网格", "Grid cells"),
    "police_beats": ("警格", "Police beats"),
    "fire_stations": ("微型消防站", "Fire stations"),
}
#: Layer columns masked in every API response (officers' mobile numbers).
MASKED_LAYER_COLUMNS = ("officer_phone",)
#: Incident columns never sent through the APIs, even masked.
PRIVATE_INCIDENT_COLUMNS = ("caller_name", "caller_phone", "caller_id_number")
#: The properties of an incident the APIs give (besides its id): ``properties=`` picks from these.
PUBLIC_INCIDENT_COLUMNS = tuple(
    c for c in QUERY_COLUMNS if c != "id" and c not in PRIVATE_INCIDENT_COLUMNS
)


@dataclass
class ApiState:
    """Per-app state, kept in ``server.extensions[STATE_KEY]``."""

    store: IncidentStore
    _layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    _names: dict[str, dict[str, str]] = field(default_factory=dict)
    _context: IngestContext | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    check_s: float = LAYERS_CHECK_S
    _version: int = -1  # the layers version what is kept was read from
    _checked: float = -math.inf  # when the version was last looked at (monotonic)

    def _fresh(self) -> None:
        """Forget what was read from the layers when they changed since (the lock held)."""
        now = time.monotonic()
        if now - self._checked < self.check_s:
            return
        try:
            version = self.store.layers_version()
        except Exception as exc:
            if not is_store_error(exc):
                raise
            return  # the store cannot be asked now: what is kept serves, asked again next time
        self._checked = now
        if version != self._version:
            self._layers.clear()
            self._names.clear()
            self._context = None
            self._version = version

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """A published layer (EPSG:4326, officers' phones masked), read once per layers
        version."""
        with self._lock:
            self._fresh()
            if name not in self._layers:
                frame = self.store.read_layer(name)
                if not isinstance(frame, gpd.GeoDataFrame):
                    raise TypeError(f"{name} is not a map layer")
                for col in MASKED_LAYER_COLUMNS:
                    if col in frame.columns:
                        frame[col] = frame[col].map(
                            lambda v: mask_phone(str(v)) if isinstance(v, str) else v
                        )
                self._layers[name] = frame.to_crs(4326) if frame.crs else frame
            return self._layers[name]

    def names(self, layer: str) -> dict[str, str]:
        """code -> name of a plain table (departments, teams), read once per layers version;
        empty when the store lacks it."""
        with self._lock:
            self._fresh()
            if layer not in self._names:
                found: dict[str, str] = {}
                if layer in self.store.layer_names():
                    table = self.store.read_layer(layer)
                    if {"code", "name"} <= set(table.columns):
                        codes, names = table["code"].astype(str), table["name"].astype(str)
                        found = dict(zip(codes, names, strict=True))
                self._names[layer] = found
            return self._names[layer]

    def context(self) -> IngestContext:
        """The ingest context of the town (geocoder, trinity index), built once per layers
        version."""
        with self._lock:
            self._fresh()
            if self._context is None:
                self._context = IngestContext.from_store(self.store)
            return self._context


def state() -> ApiState:
    return cast(ApiState, current_app.extensions[STATE_KEY])


def json_response(doc: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    body = json.dumps(doc, ensure_ascii=False, default=str, allow_nan=False)
    return Response(body, status=status, mimetype=mimetype)


def iso(value: Any) -> str | None:
    """An aware time as RFC 3339 UTC text (``…Z``); ``None`` for missing."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC").isoformat().replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """A JSON-ready Python value (NaN, NA and NaT become ``None``, numpy scalars plain)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return iso(value)
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def features(frame: gpd.GeoDataFrame, id_column: str) -> Iterator[dict[str, Any]]:
    """GeoJSON features of ``frame`` (EPSG:4326), ``id`` from ``id_column``."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    props = pd.DataFrame(frame[columns]).astype(object)
    # RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise (layers imported from
    # Shapefiles have them the other way round)
    geoms = shapely.orient_polygons(frame.geometry.to_numpy(), exterior_cw=False)
    for row, geom in zip(props.itertuples(index=False), geoms, strict=True):
        values = {c: plain(v) for c, v in zip(columns, row, strict=True)}
        yield {
            "type": "Feature",
            "id": values.get(id_column),
            "geometry": None if geom is None or geom.is_empty else shapely.geometry.mapping(geom),
            "properties": values,
        }


def public_incidents(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` without the caller columns (never sent through the APIs, even masked)."""
    return frame.drop(columns=[c for c in PRIVATE_INCIDENT_COLUMNS if c in frame.columns])


def query_public(query: IncidentQuery, scope: Scope) -> gpd.GeoDataFrame:
    """Incidents matching ``query`` within ``scope``, masked, without the caller columns. The
    store is not asked for them either (a query naming no columns reads the public ones): they
    are neither read nor masked only to be dropped."""
    if not query.columns:
        query = replace(query, columns=PUBLIC_INCIDENT_COLUMNS)
    return public_incidents(state().store.query_incidents(query, scope))


def incident_by_id(incident_id: str, scope: Scope) -> gpd.GeoDataFrame:
    """The one row of ``incident_id`` as :meth:`~store.IncidentStore.query_incidents` gives it.

    Raises :class:`~store.IncidentNotFound` when it is not within ``scope``.
    """
    found = incidents_by_id([incident_id], scope)
    if found.empty:
        raise IncidentNotFound(incident_id)
    return found


def incidents_by_id(ids: Sequence[str], scope: Scope) -> gpd.GeoDataFrame:
    """The rows of ``ids`` within ``scope`` (one store query), in the order of ``ids``; the
    ids not found, or not within the scope, are left out."""
    found = query_public(IncidentQuery(ids=tuple(dict.fromkeys(ids))), scope)
    rank = {i: n for n, i in enumerate(ids)}
    return found.iloc[found["id"].map(rank).to_numpy().argsort(kind="stable")]
