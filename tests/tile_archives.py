"""Tiny raster tile archives for tests: PNG tiles written as MBTiles (sqlite3) and PMTiles
(the ``pmtiles`` package's writer), covering given bounds at given zooms."""

from __future__ import annotations

import gzip
import math
import sqlite3
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

Tiles = dict[tuple[int, int, int], bytes]


def png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A solid ``size``×``size`` RGB PNG."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a WGS84 point at zoom ``z``."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return min(x, n - 1), min(y, n - 1)


def covering(bounds: tuple[float, float, float, float], zooms: Iterable[int]) -> Tiles:
    """PNG tiles (a colour per zoom and position) covering ``(west, south, east, north)``."""
    west, south, east, north = bounds
    tiles: Tiles = {}
    for z in zooms:
        x0, y0 = tile_of(west, north, z)
        x1, y1 = tile_of(east, south, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                tiles[(z, x, y)] = png((40 + 10 * z, (x * 37) % 256, (y * 53) % 256), 16)
    return tiles


def write_mbtiles(
    path: Path,
    tiles: Tiles,
    fmt: str = "png",
    bounds: tuple[float, float, float, float] | None = None,
) -> Path:
    """An MBTiles 1.3 file of ``tiles`` (XYZ keys, stored with TMS rows)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    zooms = [z for z, _, _ in tiles]
    meta = {"name": "test", "format": fmt, "minzoom": min(zooms), "maxzoom": max(zooms)}
    if bounds:
        meta["bounds"] = ",".join(str(v) for v in bounds)
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
    )
    db.commit()
    db.close()
    return path


def write_pmtiles(
    path: Path,
    tiles: Tiles,
    tile_type: str = "png",
    bounds: tuple[float, float, float, float] | None = None,
) -> Path:
    """A PMTiles v3 file of ``tiles``, written by :class:`pmtiles.writer.Writer`."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    types = {"png": TileType.PNG, "jpg": TileType.JPEG, "mvt": TileType.MVT}
    vector = tile_type == "mvt"
    west, south, east, north = bounds or (-180.0, -85.0, 180.0, 85.0)
    with path.open("wb") as f:
        writer = Writer(f)
        for tile_id, data in sorted(
            (zxy_to_tileid(z, x, y), data) for (z, x, y), data in tiles.items()
        ):
            writer.write_tile(tile_id, gzip.compress(data) if vector else data)
        zooms = [z for z, _, _ in tiles]
        header = {
            "tile_type": types[tile_type],
            "tile_compression": Compression.GZIP if vector else Compression.NONE,
            "min_zoom": min(zooms),
            "max_zoom": max(zooms),
            "min_lon_e7": int(west * 1e7),
            "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7),
            "max_lat_e7": int(north * 1e7),
            "center_zoom": min(zooms),
            "center_lon_e7": int((west + east) / 2 * 1e7),
            "center_lat_e7": int((south + north) / 2 * 1e7),
        }
        writer.finalize(header, {"name": "test"})
    return path
