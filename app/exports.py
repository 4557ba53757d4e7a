"""Exports of incidents and layers, shared by ``ember export`` and ``/export/incidents.<fmt>``.

Formats: GeoPackage, GeoJSON, Shapefile (UTF-8 or GBK, with a ``.cpg``) and .xlsx; coordinates
in WGS84 (EPSG:4326) or CGCS2000 (EPSG:4490; GeoJSON is WGS84 only, RFC 7946); incidents also
as GeoParquet partitioned by month and town (:func:`write_geoparquet`; docs/scale.md). They come
from :meth:`store.IncidentStore.query_incidents` within the caller's scope, so personal data is
masked unless the scope unmasks it (then the store audits the view); every export is written to
the audit log too (what, how many, never personal values).

Shapefile column names
----------------------
A .dbf column name has at most 10 characters. The incidents layer spec
(:data:`layers.incidents_layer.SPEC`, ``Field.short``) gives the short names, e.g.
``received_at`` → ``received``, ``category_zh`` → ``cat_zh``, ``caller_phone`` → ``caller_ph``,
``department_code`` → ``dept_code``, ``commitment_amount`` → ``commit_amt``; the columns the
store adds are mapped by :data:`EXTRA_SHP_NAMES` (``escalation_level`` → ``escalation``,
``standing_resolved_at`` → ``resolv_now``).
:func:`shp_names` returns the whole mapping.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.exporter import ExportError, export_layers, replacing
from layers.registry import SPECS
from store import IncidentQuery, IncidentStore, Scope

FORMATS: tuple[str, ...] = ("gpkg", "geojson", "shp", "xlsx")
CRS_CHOICES: tuple[int, ...] = (4326, 4490)
ENCODINGS: tuple[str, ...] = ("UTF-8", "GBK")
SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "shp": ".shp", "xlsx": ".xlsx"}
#: Shapefile names of the columns the store adds to the incidents layer spec.
EXTRA_SHP_NAMES: dict[str, str] = {
    "version": "version",
    "deadline": "deadline",
    "supervised": "supervised",
    "escalation_level": "escalation",
    "returned_at": "returned",
    "reopen_count": "reopens",
    "standing_resolved_at": "resolv_now",
}
LOCAL_TZ = "Asia/Shanghai"


def shp_names() -> dict[str, str]:
    """Incident column → Shapefile (.dbf) column name, every name at most 10 characters."""
    return {**SPECS["incidents"].dbf_names(), **EXTRA_SHP_NAMES}


def parse_time(text: str | None, *, end: bool = False) -> datetime | None:
    """A filter bound: a date or a time (Asia/Shanghai unless it says otherwise).

    A date alone as an ``end`` bound means the end of that day (the bound is exclusive).
    """
    if text is None or not str(text).strip():
        return None
    try:
        stamp = pd.Timestamp(str(text).strip())
    except ValueError:
        raise ValueError(f"时间无法识别 / not a date or time: {text!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(LOCAL_TZ)
    if end and len(str(text).strip()) <= 10:
        stamp += timedelta(days=1)
    return stamp.to_pydatetime()


def _codes(values: Sequence[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or ():
        out += [c.strip() for c in str(v).split(",") if c.strip()]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class ExportFilters:
    """Which incidents to export: received in ``[start, end)``, of these categories, villages,
    states (each empty: all)."""

    start: datetime | None = None
    end: datetime | None = None
    categories: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    @classmethod
    def parse(
        cls,
        start: str | None = None,
        end: str | None = None,
        categories: Sequence[str] | None = None,
        villages: Sequence[str] | None = None,
        states: Sequence[str] | None = None,
    ) -> ExportFilters:
        """From text (CLI options, query parameters); lists may be comma-separated."""
        return cls(
            parse_time(start),
            parse_time(end, end=True),
            _codes(categories),
            _codes(villages),
            _codes(states),
        )

    def query(self) -> IncidentQuery:
        return IncidentQuery(
            received_from=self.start,
            received_to=self.end,
            categories=self.categories,
            village_codes=self.villages,
            states=self.states,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "categories": list(self.categories),
            "villages": list(self.villages),
            "states": list(self.states),
        }


def incident_frame(store: IncidentStore, filters: ExportFilters, scope: Scope) -> gpd.GeoDataFrame:
    """The incidents to export, within ``scope`` (masked unless ``scope.personal_data``)."""
    return store.query_incidents(filters.query(), scope)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A table fit for Excel: lon/lat instead of geometry (a point inside lines and areas),
    local times without zone."""
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if isinstance(frame, gpd.GeoDataFrame) and len(frame) and frame.geometry.notna().any():
        # points as they are; lines and areas by a point inside them
        geo = frame.geometry.where(frame.geom_type == "Point", frame.representative_point())
        out["lon"] = [g.x if g is not None and not g.is_empty else None for g in geo]
        out["lat"] = [g.y if g is not None and not g.is_empty else None for g in geo]
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
        elif out[col].dtype.name in ("boolean", "Int64"):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def write_xlsx(frames: Mapping[str, pd.DataFrame], out: Path) -> Path:
    """One sheet per frame (times in Asia/Shanghai). Written under a temporary name and moved
    into place when complete (:func:`layers.exporter.replacing`): a failure leaves an older
    file of that name as it was and raises :class:`layers.exporter.ExportError`."""
    with replacing([out]) as stage, pd.ExcelWriter(stage(out), engine="openpyxl") as writer:
        for name, frame in frames.items():
            _plain(frame).to_excel(writer, sheet_name=name[:31], index=False)
    return out


def write_frames(
    frames: Mapping[str, pd.DataFrame],
    out: str | os.PathLike[str],
    fmt: str = "gpkg",
    *,
    encoding: str = "UTF-8",
    epsg: int = 4326,
) -> list[Path]:
    """Write layers (incidents included) as ``fmt``; returns the files written (a Shapefile's
    ``.shp``; its ``.dbf``, ``.shx``, ``.prj`` and ``.cpg`` lie next to it)."""
    if fmt not in FORMATS:
        raise ValueError(f"未知格式 / unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if encoding.upper() not in ENCODINGS:
        raise ValueError(f"编码只能是 UTF-8 或 GBK / encoding must be UTF-8 or GBK: {encoding!r}")
    if fmt == "xlsx":
        target = Path(out)
        if len(frames) > 1 and target.suffix.lower() != ".xlsx":
            target = target / "layers.xlsx"
        return [write_xlsx(frames, target)]
    ready = {
        name: frame.rename(columns=EXTRA_SHP_NAMES) if fmt == "shp" else frame
        for name, frame in frames.items()
    }
    return export_layers(ready, out, fmt, encoding=encoding.upper(), epsg=epsg)


def export_incidents(
    store: IncidentStore,
    filters: ExportFilters,
    scope: Scope,
    out: str | os.PathLike[str],
    fmt: str = "gpkg",
    *,
    encoding: str = "UTF-8",
    epsg: int = 4326,
) -> tuple[list[Path], int]:
    """Write the filtered incidents within ``scope``; audited as ``export_incidents``.

    Returns
    -------
    list of Path, int
        The files written and how many incidents.
    """
    frame = incident_frame(store, filters, scope)
    files = write_frames({"incidents": frame}, out, fmt, encoding=encoding, epsg=epsg)
    detail = {
        "format": fmt,
        "count": len(frame),
        "personal_data": scope.personal_data,
        "filters": filters.as_dict(),
    }
    store.audit(scope.actor, "export_incidents", detail=detail)
    return files, len(frame)


#: Hive-style partition keys of a GeoParquet export, outermost first.
PARTITION_KEYS: tuple[str, ...] = ("month", "town_code")
#: Directory name of a partition whose key is missing (pyarrow reads it back as null).
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def _town_codes(frame: pd.DataFrame) -> pd.Series:
    """Town (镇街) code per incident: its ``town_code``, else the first 9 digits of its 12-digit
    village code (统计用区划代码: province 2, city 2, county 2, town 3, village 3)."""
    village = frame["village_code"].astype("string").str.slice(0, 9)
    if "town_code" in frame:
        return frame["town_code"].astype("string").fillna(village)
    return village


def _check_parquet_target(root: Path, replace: bool) -> None:
    """``root`` may take a GeoParquet export: new, empty, or (with ``replace``) holding only an
    earlier one (``month=…`` directories); anything else is refused (ValueError)."""
    if root.exists() and not root.is_dir():
        raise ValueError(f"--geoparquet 须为目录 / --geoparquet needs a directory: {root}")
    held = sorted(root.iterdir()) if root.is_dir() else []
    if not held:
        return
    if not replace:
        raise ValueError(
            f"目录非空：{root}；加 --force 以本次导出替换其中的 GeoParquet / {root} is not empty: "
            "add --force to replace the GeoParquet in it with this export"
        )
    others = [p.name for p in held if not (p.is_dir() and p.name.startswith("month="))]
    if others:
        shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
        raise ValueError(
            f"目录 {root} 中不只有 GeoParquet 导出（{shown}），不予替换，请换一个新目录 / {root} "
            f"holds more than a GeoParquet export ({shown}): not replaced; choose a new directory"
        )


def _swap_dir(new: Path, root: Path) -> None:
    """Put the directory ``new`` at ``root``, the older ``root`` (if any) removed after."""
    if not root.exists():
        os.replace(new, root)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{root.name}.ember-old-", dir=root.parent))
    os.replace(root, old)  # onto the empty directory just made
    try:
        os.replace(new, root)
    except OSError:
        os.replace(old, root)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_geoparquet(
    frame: gpd.GeoDataFrame, out_dir: str | os.PathLike[str], *, replace: bool = False
) -> list[Path]:
    """Write incidents as GeoParquet 1.x (WKB, EPSG:4326) partitioned hive-style by local month
    of ``received_at`` and town code: ``month=2026-05/town_code=330784199/part-0.parquet``.

    The partition keys live in the paths, not in the files; ``geopandas.read_parquet(out_dir)``
    and ``dask_geopandas.read_parquet(out_dir)`` give them back as categorical columns.

    ``out_dir`` must be new or empty, or, with ``replace``, hold only an earlier export (else
    ValueError): a dataset is the whole directory, so an earlier export's partitions left in it
    would be read back with this one (unmasked rows beside masked ones). The export is written
    into a hidden directory beside ``out_dir`` and takes its place when complete; a failure
    (a full disk) leaves ``out_dir`` as it was and raises :class:`layers.exporter.ExportError`.
    """
    root = Path(out_dir)
    _check_parquet_target(root, replace)
    data = frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326)
    month = pd.to_datetime(data["received_at"]).dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m")
    keys = pd.DataFrame(
        {"month": month.astype("string"), "town_code": _town_codes(data)}, index=data.index
    ).fillna(NULL_PARTITION)
    body = data.drop(columns=[k for k in PARTITION_KEYS if k in data])
    for col in body.columns:
        # text columns as the string dtype, so that a partition where one is all empty still
        # gets a string (not a null) Parquet column and every file has the same schema
        if body[col].dtype == object and body[col].dropna().map(type).eq(str).all():
            body[col] = body[col].astype("string")
    parts: list[Path] = []
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.ember-tmp-", dir=root.parent))
        try:
            for (m, town), rows in keys.groupby(list(PARTITION_KEYS), sort=True).groups.items():
                part = Path(f"month={m}") / f"town_code={town}" / "part-0.parquet"
                (staging / part).parent.mkdir(parents=True, exist_ok=True)
                body.loc[rows].to_parquet(staging / part, index=False, schema_version="1.0.0")
                parts.append(part)
            _swap_dir(staging, root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as e:
        raise ExportError(
            f"导出失败，原有文件未改动 / export failed, no existing file was replaced: {e}"
        ) from e
    return [root / part for part in parts]


def export_incidents_geoparquet(
    store: IncidentStore,
    filters: ExportFilters,
    scope: Scope,
    out_dir: str | os.PathLike[str],
    *,
    replace: bool = False,
) -> tuple[list[Path], int]:
    """The filtered incidents within ``scope`` (masked unless ``scope.personal_data``) as
    partitioned GeoParquet (:func:`write_geoparquet`: ``out_dir`` new or empty, or with
    ``replace`` holding an earlier export); audited as ``export_incidents``."""
    _check_parquet_target(Path(out_dir), replace)  # before the store is read
    frame = incident_frame(store, filters, scope)
    files = write_geoparquet(frame, out_dir, replace=replace)
    detail = {
        "format": "geoparquet",
        "count": len(frame),
        "partitions": len(files),
        "personal_data": scope.personal_data,
        "filters": filters.as_dict(),
    }
    store.audit(scope.actor, "export_incidents", detail=detail)
    return files, len(frame)


def export_store_layers(
    store: IncidentStore,
    names: Sequence[str] | None,
    out: str | os.PathLike[str],
    fmt: str = "gpkg",
    *,
    encoding: str = "UTF-8",
    epsg: int = 4326,
    actor: str = "system",
) -> tuple[list[Path], dict[str, int]]:
    """Write the store's layers (default: every spec'd layer but incidents); audited."""
    chosen = list(names or [n for n in store.layer_names() if n in SPECS and n != "incidents"])
    if "incidents" in chosen:
        raise ValueError(
            "事项请用 ember export incidents 导出 / export incidents with `ember export incidents`"
        )
    frames = {n: store.read_layer(n) for n in chosen}
    files = write_frames(frames, out, fmt, encoding=encoding, epsg=epsg)
    counts = {n: len(f) for n, f in frames.items()}
    store.audit(actor, "export_layers", detail={"format": fmt, "layers": counts})
    return files, counts
