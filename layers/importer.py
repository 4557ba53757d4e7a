"""Importing layers a town already has: GeoPackage, GeoJSON or Shapefile, in any CRS.

``read_source`` reads one file layer into Ember's columns and EPSG:4326; ``validate_layers``
checks a set of layers (each against its spec, then across layers); ``write_rejected`` keeps a
rejected layer, each feature annotated with its problems, so it can be fixed in QGIS and
imported again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import to_wgs84
from layers._schema import LayerSpec, LayerValidationError, Problem
from layers.registry import SPECS
from layers.topology import check_topology
from layers.validate import feature_ids, validate_layer

#: What ``--coords`` may say about a file's lon/lat values.
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")


def detect_dbf_encoding(shp_path: str | os.PathLike[str]) -> str | None:
    """The encoding of a Shapefile's .dbf when it carries no .cpg: UTF-8 or GB18030 (GBK).

    Returns None when a .cpg exists (GDAL reads it) or the text is plain ASCII.
    """
    base = Path(shp_path).with_suffix("")
    if any(base.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next(
        (base.with_suffix(s) for s in (".dbf", ".DBF") if base.with_suffix(s).exists()), None
    )
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    if body.isascii():
        return None
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        # GB18030 is a superset of GBK and GB2312, the encodings Chinese GIS exports use.
        return "GB18030"


def _rename_map(columns: list[str], spec: LayerSpec, mapping: Mapping[str, str]) -> dict[str, str]:
    """Source column -> Ember column: the user's mapping first, then Shapefile short names and
    Chinese labels from the spec, then exact names."""
    out: dict[str, str] = {}
    by_alias: dict[str, str] = {}
    for f in spec.fields:
        for alias in (f.name, f.short, f.label_zh):
            if alias:
                by_alias.setdefault(alias.lower(), f.name)
    taken = set(mapping.values())
    for col in columns:
        if col in mapping:
            out[col] = mapping[col]
            continue
        target = by_alias.get(col.lower())
        if target and target not in taken:
            out[col] = target
            taken.add(target)
    return out


def _as_code_text(series: pd.Series) -> pd.Series:
    """Codes read from a .dbf or GeoJSON may arrive as numbers; make them exact text."""
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna() % 1 == 0
        if bool(whole.all()):
            return series.map(lambda v: None if pd.isna(v) else str(int(v))).astype("string")
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64").astype("string")
    return series.astype("string")


def read_source(
    path: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    coords: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read one layer of a file into Ember's column names and EPSG:4326.

    Parameters
    ----------
    path : path
        GeoPackage, GeoJSON or Shapefile.
    kind : str
        Ember layer name (``grid_cells``, ``villages``, …), see :data:`layers.SPECS`.
    layer : str, optional
        Layer inside a multi-layer file; defaults to ``kind`` when the file has it.
    encoding : str, optional
        Text encoding of a Shapefile (``GBK``, ``UTF-8``); detected when omitted.
    coords : {'wgs84', 'cgcs2000', 'gcj02', 'bd09'}, optional
        What the file's lon/lat values are. Needed when the file declares no CRS, and for GCJ-02
        or BD-09 data (which files label as EPSG:4326).
    mapping : dict, optional
        Source column name -> Ember column name, for names not recognised automatically.
    """
    if kind not in SPECS:
        raise ValueError(f"未知图层类型 / unknown layer kind {kind!r}; one of {', '.join(SPECS)}")
    spec = SPECS[kind]
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"文件不存在 / no such file: {path}")
    if layer is None:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
        layer = kind if kind in names else names[0]
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = detect_dbf_encoding(path)
    frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    frame = frame.rename(columns=_rename_map(list(frame.columns), spec, mapping or {}))
    for f in spec.fields:
        if f.name in frame.columns and (f.type == "str"):
            frame[f.name] = _as_code_text(frame[f.name])
    keep = [c for c in spec.field_names if c in frame.columns]
    if spec.geometry is None:
        return pd.DataFrame(frame[keep]) if isinstance(frame, gpd.GeoDataFrame) else frame[keep]
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerValidationError(
            [Problem(kind, "", "no_geometry", f"{path} 没有几何字段", f"{path} has no geometry")]
        )
    gdf = gpd.GeoDataFrame(frame[keep], geometry=frame.geometry.to_numpy(), crs=frame.crs)
    return _to_storage_crs(gdf, kind, path, coords)


def _to_storage_crs(
    gdf: gpd.GeoDataFrame, kind: str, path: Path, coords: str | None
) -> gpd.GeoDataFrame:
    if coords is not None and coords not in COORD_SYSTEMS:
        raise ValueError(f"未知坐标系 / unknown --coords {coords!r}; one of {COORD_SYSTEMS}")
    if gdf.crs is None and coords is None:
        raise LayerValidationError(
            [
                Problem(
                    kind,
                    "",
                    "no_crs",
                    f"{path.name} 未声明坐标系，请用 --coords 指明（wgs84/cgcs2000/gcj02/bd09）",
                    f"{path.name} declares no CRS; say which with --coords "
                    "(wgs84/cgcs2000/gcj02/bd09)",
                )
            ]
        )
    if coords in ("gcj02", "bd09"):
        # GCJ-02/BD-09 files carry plain geographic coordinates; shift them back to WGS84.
        if gdf.crs is not None and not gdf.crs.is_geographic:
            raise ValueError(f"{coords} 数据应为经纬度 / {coords} data must be lon/lat")

        def shift(xy: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(xy[:, 0], xy[:, 1], coords)
            return np.column_stack([lon, lat])

        geoms = shapely.transform(gdf.geometry.to_numpy(), shift)
        return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=geoms, crs=4326)
    if gdf.crs is None:
        gdf = gdf.set_crs(4490 if coords == "cgcs2000" else 4326)
    return gdf.to_crs(4326)


def validate_layers(frames: Mapping[str, pd.DataFrame], tol_m2: float = 1.0) -> list[Problem]:
    """Every problem of a layer set: each layer against its spec, then the cross-layer rules.

    Cross-layer rules run only when the layers they need passed their own checks (a broken
    geometry would make area arithmetic meaningless).
    """
    problems: list[Problem] = []
    for name, frame in frames.items():
        if name in SPECS:
            problems += validate_layer(frame, SPECS[name])
    broken = {p.layer for p in problems}
    sound = {k: v for k, v in frames.items() if k not in broken}
    return problems + check_topology(sound, tol_m2)


def write_rejected(
    frame: pd.DataFrame, problems: list[Problem], path: str | os.PathLike[str], layer: str
) -> Path:
    """Keep a rejected layer in a GeoPackage, one row per feature with its problems attached.

    Whole-layer problems (missing columns, gaps) are attached to every row.
    """
    ids = feature_ids(frame)
    per_row: list[list[Problem]] = [[] for _ in ids]
    index = {fid: i for i, fid in enumerate(ids)}
    for p in problems:
        rows = [index[p.feature]] if p.feature in index else range(len(ids))
        for i in rows:
            per_row[i].append(p)
    out = frame.copy()
    out["problem_zh"] = ["；".join(p.zh for p in ps) for ps in per_row]
    out["problem_en"] = ["; ".join(p.en for p in ps) for ps in per_row]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(out, path, layer=layer, driver="GPKG")
    return path


def problems_table(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table (layer, feature, check, zh, en, lon, lat) for printing or JSON."""
    cols = ["layer", "feature", "check", "zh", "en", "lon", "lat"]
    return pd.DataFrame([[getattr(p, c) for c in cols] for p in problems], columns=cols)
