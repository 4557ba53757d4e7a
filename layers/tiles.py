"""Local tile archives for an offline basemap: MBTiles (SQLite) and PMTiles, read only.

:func:`open_archive` opens either kind and answers ``tile(z, x, y)`` in XYZ (web-mercator,
y down) addressing. MBTiles stores rows in TMS order (y up), so the row is flipped here; PMTiles is
read through the maintained ``pmtiles`` package. Only raster archives (PNG, JPEG, WebP, AVIF) can
be drawn by a Leaflet tile layer: a vector archive (MVT/PBF) raises :class:`TileArchiveError`.
"""

from __future__ import annotations

import gzip
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

#: Raster tile formats and their media types.
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
}
#: Formats that name vector tiles (not drawable by a raster tile layer).
VECTOR_FORMATS = ("pbf", "mvt", "mlt")
KINDS = ("mbtiles", "pmtiles")


class TileArchiveError(ValueError):
    """A tile archive cannot be used; the message says why, in Chinese and English."""


@dataclass(frozen=True)
class ArchiveInfo:
    """What a tile layer needs to know about an archive: tile format and zoom range."""

    kind: str
    format: str
    min_zoom: int
    max_zoom: int
    #: ``(west, south, east, north)`` in degrees, when the archive says.
    bounds: tuple[float, float, float, float] | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


class TileArchive(Protocol):
    info: ArchiveInfo

    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


def sniff(data: bytes) -> str | None:
    """The raster format of tile bytes by their magic number, ``"pbf"`` for gzip, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    if data.startswith(b"\x1f\x8b"):
        return "pbf"  # gzip-compressed: a vector tile in practice
    return None


def _check_format(fmt: str | None, path: Path) -> str:
    fmt = {"jpeg": "jpg", "image/png": "png", "image/jpeg": "jpg"}.get(fmt or "", fmt)
    if fmt in VECTOR_FORMATS:
        raise TileArchiveError(
            f"底图文件是矢量瓦片，无法作为栅格底图显示 / {path} holds vector tiles ({fmt}), "
            "which a raster tile layer cannot draw: use a PNG, JPEG or WebP archive"
        )
    if fmt not in MEDIA_TYPES:
        raise TileArchiveError(
            f"无法识别底图瓦片格式 / {path}: unknown tile format {fmt!r} (png, jpg, webp)"
        )
    return fmt


def _bounds(text: Any) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(v) for v in str(text).split(","))
    except ValueError:
        return None
    return west, south, east, north


class MBTiles:
    """An MBTiles 1.3 file, opened read-only; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise TileArchiveError(f"找不到底图文件 / no such tile archive: {self.path}")
        try:
            self._db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._db.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles")
            low, high = zooms.fetchone()
            first = self._db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        except sqlite3.DatabaseError as e:
            raise TileArchiveError(
                f"不是有效的 MBTiles 文件 / not an MBTiles file: {path}: {e}"
            ) from None
        self._lock = threading.Lock()
        fmt = meta.get("format") or (sniff(bytes(first[0])) if first else None)
        if first and sniff(bytes(first[0])) == "pbf":
            fmt = "pbf"
        self.info = ArchiveInfo(
            "mbtiles",
            _check_format(fmt, self.path),
            int(meta.get("minzoom", low if low is not None else 0)),
            int(meta.get("maxzoom", high if high is not None else 22)),
            _bounds(meta["bounds"]) if "bounds" in meta else None,
        )

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y`` (row flipped to TMS), or None."""
        if z < 0 or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        return bytes(row[0]) if row else None

    def close(self) -> None:
        self._db.close()


class PMTiles:
    """A PMTiles v3 file, memory-mapped, read with :class:`pmtiles.reader.Reader`."""

    def __init__(self, path: str | Path) -> None:
        from pmtiles.reader import MmapSource, Reader
        from pmtiles.tile import Compression, TileType

        self.path = Path(path)
        if not self.path.is_file():
            raise TileArchiveError(f"找不到底图文件 / no such tile archive: {self.path}")
        self._file: BinaryIO = self.path.open("rb")
        try:
            self._reader = Reader(MmapSource(self._file))
            header = self._reader.header()
        except Exception as e:  # pmtiles raises its own exception classes
            self._file.close()
            raise TileArchiveError(
                f"不是有效的 PMTiles 文件 / not a PMTiles v3 file: {path}: {e}"
            ) from None
        names = {
            TileType.PNG: "png",
            TileType.JPEG: "jpg",
            TileType.WEBP: "webp",
            TileType.AVIF: "avif",
            TileType.MVT: "mvt",
            TileType.MLT: "mlt",
        }
        self._gzip = header["tile_compression"] == Compression.GZIP
        e7 = 10_000_000
        self.info = ArchiveInfo(
            "pmtiles",
            _check_format(names.get(header["tile_type"]), self.path),
            int(header["min_zoom"]),
            int(header["max_zoom"]),
            (
                header["min_lon_e7"] / e7,
                header["min_lat_e7"] / e7,
                header["max_lon_e7"] / e7,
                header["max_lat_e7"] / e7,
            )
            if header["max_lon_e7"] > header["min_lon_e7"]
            else None,
        )

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at ``z/x/y``, or None."""
        if z < 0 or z > 31 or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        data = self._reader.get(z, x, y)
        if not data:
            return None
        return gzip.decompress(data) if self._gzip else bytes(data)

    def close(self) -> None:
        self._file.close()


def open_archive(path: str | Path, kind: str | None = None) -> TileArchive:
    """Open a raster tile archive; ``kind`` (``mbtiles`` or ``pmtiles``) defaults from the suffix.

    Raises
    ------
    TileArchiveError
        Missing file, unreadable archive, unknown or vector tile format.
    """
    kind = kind or Path(path).suffix.lstrip(".").lower()
    if kind == "mbtiles":
        return MBTiles(path)
    if kind == "pmtiles":
        return PMTiles(path)
    raise TileArchiveError(f"底图文件类型只能是 mbtiles 或 pmtiles / unknown archive kind {kind!r}")


__all__ = [
    "KINDS",
    "MEDIA_TYPES",
    "ArchiveInfo",
    "MBTiles",
    "PMTiles",
    "TileArchive",
    "TileArchiveError",
    "open_archive",
    "sniff",
]
