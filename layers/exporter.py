"""Writing layers out: GeoPackage, GeoJSON or Shapefile; UTF-8 or GBK; EPSG:4326 or EPSG:4490."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
#: Files a Shapefile may have beside its ``.shp`` (an older export's are removed with it).
SHP_SIDECARS: tuple[str, ...] = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qpj")
#: What a failed write raises (a full disk, a file system error, GDAL failing to write).
WRITE_FAILURES: tuple[type[BaseException], ...] = (
    OSError,
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
)


#: Prefix of the hidden directories :func:`replacing` writes in.
STAGING_PREFIX = ".ember-export-"
#: Age from which such a directory is taken for one a killed export left behind (removed by
#: the next export beside it): no export takes a day.
STALE_STAGING_SECONDS = 24 * 3600


class ExportError(OSError):
    """Writing an export failed: nothing was replaced and nothing half-written is left behind.
    The message is bilingual."""


def _failed(exc: BaseException) -> ExportError:
    return ExportError(
        f"导出失败，原有文件未改动 / export failed, no existing file was replaced: {exc}"
    )


@contextmanager
def replacing(finals: Sequence[Path]) -> Iterator[Callable[[Path], Path]]:
    """Write files somewhere else first, then move them into place all together.

    The block gets ``stage``: ``stage(final)`` is the path to write ``final`` at, in a hidden
    directory beside it (so on the same file system; it keeps the file's own name, which a
    Shapefile's sidecar files and a GeoJSON's layer name follow). When the block succeeds, every
    file written there replaces the file of the same name beside it (a Shapefile with all its
    sidecar files; an older Shapefile's other sidecars are removed). When it fails, the staged
    files are removed and the older files are left as they were; a failure to write (a full
    disk, GDAL) is raised as :class:`ExportError`. A file that is there and is not a plain file
    (a pipe, a device such as ``/dev/stdout``, a symbolic link) is written in place: it is a
    stream or names another file, not something to replace.
    """
    through = {Path(f) for f in finals if Path(f).is_symlink() or _special(Path(f))}
    parents = list(dict.fromkeys(Path(f).parent for f in finals if Path(f) not in through))
    staging: dict[Path, Path] = {}
    try:
        for parent in parents:
            parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_staging(parent)
            staging[parent] = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
        yield (
            lambda final: (
                Path(final)
                if Path(final) in through
                else staging[Path(final).parent] / Path(final).name
            )
        )
        for parent, tmp in staging.items():
            for final in finals:
                if Path(final).parent == parent and Path(final).suffix.lower() == ".shp":
                    for ext in SHP_SIDECARS:  # an older Shapefile's, unless written anew
                        if not (tmp / Path(final).with_suffix(ext).name).exists():
                            Path(final).with_suffix(ext).unlink(missing_ok=True)
            # a Shapefile's .shp last: when it appears, its sidecar files are there already
            for path in sorted(tmp.iterdir(), key=lambda p: p.suffix.lower() == ".shp"):
                os.replace(path, parent / path.name)
    except ExportError:
        raise
    except WRITE_FAILURES as e:
        raise _failed(e) from e
    finally:
        for tmp in staging.values():
            shutil.rmtree(tmp, ignore_errors=True)


def _special(path: Path) -> bool:
    """Whether ``path`` is there and is not a plain file or a directory (a pipe, a device)."""
    try:
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def _remove_stale_staging(parent: Path) -> None:
    """Remove what exports killed mid-write left in ``parent`` (their hidden directories older
    than :data:`STALE_STAGING_SECONDS`; a younger one may be an export still running)."""
    now = time.time()
    for old in parent.glob(f"{STAGING_PREFIX}*"):
        try:
            stale = old.is_dir() and now - old.stat().st_mtime > STALE_STAGING_SECONDS
        except OSError:  # removed meanwhile
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)


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

    The files are written beside their targets under temporary names and replace older files
    only once every one was written (:func:`replacing`): a failure (a full disk) leaves the
    older files as they were and nothing half-written, and raises :class:`ExportError`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"未知格式 / unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if epsg not in (4326, 4490):
        raise ValueError(f"只支持 EPSG:4326 或 4490 / only EPSG:4326 or 4490, got {epsg}")
    if fmt == "geojson" and epsg != 4326:
        raise ValueError("GeoJSON 规定使用 WGS84 / GeoJSON (RFC 7946) is WGS84 only")
    if not frames:  # e.g. `ember layers export` from a store with no layers (or a mistyped one)
        raise ValueError("没有可导出的图层 / no layers to export (does the store hold any?)")
    out = Path(out)
    if fmt == "gpkg":
        with replacing([out]) as stage:
            for name, frame in frames.items():
                pyogrio.write_dataframe(
                    _prepare(frame, name, fmt, epsg), stage(out), layer=name, driver="GPKG"
                )
        return [out]
    single = len(frames) == 1 and out.suffix.lower() == _SUFFIX[fmt]
    targets = {name: out if single else out / f"{name}{_SUFFIX[fmt]}" for name in frames}
    with replacing(list(targets.values())) as stage:
        for name, frame in frames.items():
            kwargs: dict[str, object] = {"driver": _DRIVER[fmt]}
            if fmt == "shp":
                kwargs["encoding"] = encoding
            if fmt == "geojson":  # exterior rings counter-clockwise, holes clockwise (§3.1.6);
                # every digit kept (RFC7946 alone rounds to 7)
                kwargs["layer_options"] = {"RFC7946": "YES", "COORDINATE_PRECISION": "15"}
            ready = _prepare(frame, name, fmt, epsg)
            pyogrio.write_dataframe(ready, stage(targets[name]), **kwargs)
    return list(targets.values())
