"""GeoJSON output of the analysis commands: RFC 7946 FeatureCollections in EPSG:4326.

:func:`feature_collection` turns chosen columns of a GeoDataFrame into a FeatureCollection with
coordinates rounded to :data:`PRECISION` decimal places and JSON-ready properties (numpy scalars
unwrapped, NaN and NaT as ``null``). Used by ``ember hotspots`` and by the wall's hotspot layer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Decimal places of output coordinates (1e-6 degree is about 0.1 m).
PRECISION = 6


def _plain(value: Any) -> Any:
    """A JSON-ready Python value (numpy scalars unwrapped, NaN/NaT as None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def feature_collection(
    frame: gpd.GeoDataFrame, columns: Sequence[str], *, precision: int = PRECISION
) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection (EPSG:4326, rounded coordinates) of ``frame``'s
    ``columns``."""
    wgs = frame.to_crs(4326) if frame.crs is not None and frame.crs != "EPSG:4326" else frame
    geoms = shapely.set_precision(wgs.geometry.to_numpy(), 10.0**-precision)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)  # RFC 7946 §3.1.6
    records = pd.DataFrame(wgs[list(columns)]).to_dict(orient="records")
    features = [
        {
            "type": "Feature",
            "properties": {k: _plain(v) for k, v in rec.items()},
            "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None,
        }
        for rec, geom in zip(records, geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}
