"""Writing layers out: GeoPackage, GeoJSON or Shapefile; UTF-8 or GBK; EPSG:4326 or EPSG:4490."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.registry import SPECS

Format = Literal["gpkg", "geojson", "shp"]
FORMATS: tuple[str, ...] = ("gpkg", "geojson", "shp")
_SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".shp"}
_DRIVER = {"gpkg": "GPKG", "geojson": "GeoJSON", "shp": "ESRI Shapefile"}


def _prepare(frame: pd.DataFrame, name: str, fmt: str, epsg: int) -> pd.DataFrame:
    if (
        isinstance(frame, gpd.GeoDataFrame)
        and frame.crs is not None
        and frame.crs.to_epsg() != epsg
    ):
        # EPSG:4326 -> EPSG:4490 is a null transformation in pyproj: only the label changes.
        frame = frame.to_crs(epsg)
    if fmt == "shp":
        spec = SPECS.get(name)
        if spec is not None:
            frame = frame.rename(columns=spec.dbf_names())
        # .dbf has no time type with zone; write ISO text so nothing is lost.
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame = frame.assign(**{col: frame[col].map(_iso)})
    return frame


def _iso(value: object) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).isoformat()  # type: ignore[arg-type]


def export_layers(
    frames: Mapping[str, pd.DataFrame],
    out: str | os.PathLike[str],
    fmt: str = "gpkg",
    *,
    encoding: str = "UTF-8",
    epsg: int = 4326,
) -> list[Path]:
    """Write ``frames`` and return the files written.

    A GeoPackage holds every layer in one file at ``out``. GeoJSON and Shapefile hold one layer
    per file, so ``out`` is a directory (created) with ``<layer>.geojson`` / ``<layer>.shp``;
    with a single layer, ``out`` may also name the file itself. Shapefile column names are
    shortened to the 10-character names of the specs and a ``.cpg`` records the encoding.
    """
    if fmt not in FORMATS:
        raise ValueError(f"未知格式 / unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if epsg not in (4326, 4490):
        raise ValueError(f"只支持 EPSG:4326 或 4490 / only EPSG:4326 or 4490, got {epsg}")
    if fmt == "geojson" and epsg != 4326:
        raise ValueError("GeoJSON 规定使用 WGS84 / GeoJSON (RFC 7946) is WGS84 only")
    out = Path(out)
    written: list[Path] = []
    if fmt == "gpkg":
        if out.exists():
            out.unlink()
        out.parent.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            pyogrio.write_dataframe(
                _prepare(frame, name, fmt, epsg), out, layer=name, driver="GPKG"
            )
        return [out]
    single = len(frames) == 1 and out.suffix.lower() == _SUFFIX[fmt]
    if not single:
        out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        target = out if single else out / f"{name}{_SUFFIX[fmt]}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        kwargs: dict[str, object] = {"driver": _DRIVER[fmt]}
        if fmt == "shp":
            kwargs["encoding"] = encoding
        if fmt == "geojson":  # exterior rings counter-clockwise, holes clockwise (§3.1.6);
            # every digit kept (RFC7946 alone rounds to 7)
            kwargs["layer_options"] = {"RFC7946": "YES", "COORDINATE_PRECISION": "15"}
        pyogrio.write_dataframe(_prepare(frame, name, fmt, epsg), target, **kwargs)
        written.append(target)
    return written
