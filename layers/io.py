"""Reading and writing layer files (GeoPackage, GeoJSON, Shapefile) through pyogrio.

All public functions return or take frames in EPSG:4326 (WGS84), Ember's storage CRS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.registry import SPECS

Frame: TypeAlias = gpd.GeoDataFrame | pd.DataFrame


def write_layers(path: str | os.PathLike[str], frames: Mapping[str, Frame]) -> Path:
    """Write frames as the layers of one new GeoPackage, replacing any file at ``path``.

    GeoDataFrames become feature layers (in their own CRS, normally EPSG:4326); plain DataFrames
    become attribute tables. The file is written beside the target and moved into place, so a
    reader never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    if tmp.exists():
        tmp.unlink()
    for name, frame in frames.items():
        pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
    os.replace(tmp, path)
    return path


def conform(frame: Frame, name: str) -> Frame:
    """Restore the spec's column types after a file round trip.

    GDAL returns integer and boolean columns that hold nulls as float64; give them back their
    nullable pandas types (``Int64``, ``boolean``) so that 1.0 never stands for a count or a flag.
    """
    spec = SPECS.get(name)
    if spec is None:
        return frame
    for f in spec.fields:
        if f.name not in frame.columns:
            continue
        col = frame[f.name]
        if f.type == "int" and not pd.api.types.is_integer_dtype(col):
            frame[f.name] = pd.to_numeric(col).astype("Int64")
        elif f.type == "bool" and not pd.api.types.is_bool_dtype(col):
            frame[f.name] = col.astype("boolean")
    return frame
