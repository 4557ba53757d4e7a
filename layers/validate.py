"""Validation of one layer against its :class:`~layers._schema.LayerSpec`.

Every failure becomes a :class:`~layers._schema.Problem` naming the layer, the feature (its code,
or its row number) and what is wrong, in Chinese and English. Nothing stops at the first error:
a user fixing a file wants the whole list.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers._schema import LayerSpec, Problem

_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
_GEOM_OK: dict[str, set[str]] = {
    "Polygon": {"Polygon", "MultiPolygon"},
    "Point": {"Point"},
    "LineString": {"LineString", "MultiLineString"},
}


def feature_ids(frame: pd.DataFrame) -> list[str]:
    """How each row is named in messages: its code or id when present, else its row number."""
    for col in ("code", "id"):
        if col in frame.columns:
            values = frame[col].astype("string").fillna("")
            return [v if v else f"#{i}" for i, v in enumerate(values)]
    return [f"#{i}" for i in range(len(frame))]


def _where(geom: shapely.Geometry | None) -> tuple[float | None, float | None]:
    if geom is None or shapely.is_empty(geom):
        return None, None
    p = shapely.point_on_surface(geom) if shapely.is_valid(geom) else shapely.centroid(geom)
    return float(p.x), float(p.y)


def _blank(series: pd.Series) -> np.ndarray:
    text = series.astype("string").str.strip()
    return (series.isna() | text.isna() | (text == "")).to_numpy()


def validate_layer(frame: pd.DataFrame, spec: LayerSpec) -> list[Problem]:
    """Check columns, required values, codes, and geometries of one layer.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        The layer, already renamed to Ember's column names.
    spec : LayerSpec
        The schema it must follow.

    Returns
    -------
    list of Problem
        Empty when the layer is valid.
    """
    name = spec.kind
    problems: list[Problem] = []
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        problems.append(
            Problem(
                name,
                "",
                "missing_columns",
                f"缺少必填字段：{', '.join(missing)}",
                f"missing required columns: {', '.join(missing)}",
            )
        )
    if len(frame) == 0:
        problems.append(Problem(name, "", "empty", "图层没有要素", "the layer has no features"))
        return problems
    ids = feature_ids(frame)
    geoms = frame.geometry.to_numpy() if isinstance(frame, gpd.GeoDataFrame) else None

    def at(i: int | np.integer) -> tuple[float | None, float | None]:
        return _where(geoms[i]) if geoms is not None else (None, None)

    for col in spec.required:
        if col not in frame.columns:
            continue
        for i in np.flatnonzero(_blank(frame[col])):
            problems.append(
                Problem(name, ids[i], "required", f"字段 {col} 为空", f"{col} is empty", *at(i))
            )
    for f in spec.fields:
        if f.type != "int" or f.name not in frame.columns:
            continue
        values = pd.to_numeric(frame[f.name], errors="coerce")
        bad = (
            frame[f.name].notna() & (values.isna() | (values < 0) | (values % 1 != 0))
        ).to_numpy()
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    name,
                    ids[i],
                    "not_integer",
                    f"字段 {f.name} 应为非负整数：{frame[f.name].iloc[i]!r}",
                    f"{f.name} must be a non-negative integer, got {frame[f.name].iloc[i]!r}",
                    *at(i),
                )
            )
    if "code" in frame.columns and spec.code_pattern:
        codes = frame["code"].astype("string")
        for row, code in enumerate(codes):
            if pd.notna(code) and code and not spec.code_ok(str(code)):
                problems.append(
                    Problem(
                        name,
                        ids[row],
                        "code_format",
                        f"编码格式错误：{code}（应为{spec.code_hint}）",
                        f"bad code {code!r} (expected {spec.code_hint})",
                        *at(row),
                    )
                )
        dup = codes[codes.notna() & codes.duplicated(keep=False)]
        for code in sorted(set(dup)):
            rows = [int(r) for r in np.flatnonzero((codes == code).to_numpy())]
            problems.append(
                Problem(
                    name,
                    str(code),
                    "duplicate_code",
                    f"编码重复：{code}（第 {rows} 行）",
                    f"duplicate code {code} (rows {rows})",
                    *at(rows[0]),
                )
            )
    if spec.geometry is not None:
        problems += _check_geometries(frame, spec, ids)
    return problems


def _check_geometries(frame: pd.DataFrame, spec: LayerSpec, ids: list[str]) -> list[Problem]:
    name = spec.kind
    if not isinstance(frame, gpd.GeoDataFrame):
        return [Problem(name, "", "no_geometry", "图层没有几何字段", "the layer has no geometry")]
    problems: list[Problem] = []
    if frame.crs is None:
        problems.append(
            Problem(
                name, "", "no_crs", "图层未声明坐标系", "the layer declares no coordinate system"
            )
        )
    geoms = frame.geometry.to_numpy()
    allowed = _GEOM_OK[spec.geometry or ""]
    kinds = shapely.get_type_id(geoms)
    for i, g in enumerate(geoms):
        if g is None or shapely.is_empty(g):
            problems.append(Problem(name, ids[i], "empty_geometry", "几何为空", "empty geometry"))
            continue
        kind = _TYPE_NAMES[kinds[i]] if 0 <= kinds[i] < len(_TYPE_NAMES) else "?"
        if kind not in allowed:
            problems.append(
                Problem(
                    name,
                    ids[i],
                    "geometry_type",
                    f"几何类型应为 {spec.geometry}，实为 {kind}",
                    f"geometry must be {spec.geometry}, got {kind}",
                    *_where(g),
                )
            )
        elif not shapely.is_valid(g):
            reason = shapely.is_valid_reason(g)
            problems.append(
                Problem(
                    name,
                    ids[i],
                    "invalid_geometry",
                    f"几何无效：{reason}",
                    f"invalid geometry: {reason}",
                    *_where(g),
                )
            )
    return problems
