"""Local tile archives: MBTiles (TMS rows flipped) and PMTiles read in XYZ; vector refused."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from layers.tiles import MEDIA_TYPES, TileArchiveError, open_archive, sniff
from tests.tile_archives import png, write_mbtiles, write_pmtiles

#: Two zooms; at z=1 the rows differ, so a missing TMS flip is caught.
TILES = {
    (0, 0, 0): png((10, 20, 30), 8),
    (1, 0, 0): png((200, 0, 0), 8),
    (1, 0, 1): png((0, 200, 0), 8),
    (1, 1, 0): png((0, 0, 200), 8),
}


@pytest.mark.parametrize("kind", ["mbtiles", "pmtiles"])
def test_reads_tiles_in_xyz(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"base.{kind}"
    bounds = (119.9, 29.9, 120.1, 30.1)
    (write_mbtiles if kind == "mbtiles" else write_pmtiles)(path, TILES, "png", bounds)
    archive = open_archive(path)
    try:
        assert (archive.info.kind, archive.info.format) == (kind, "png")
        assert (archive.info.min_zoom, archive.info.max_zoom) == (0, 1)
        assert archive.info.media_type == "image/png"
        assert archive.info.bounds == pytest.approx(bounds)
        for (z, x, y), data in TILES.items():
            assert archive.tile(z, x, y) == data, (z, x, y)
        assert archive.tile(1, 1, 1) is None  # not in the archive
        assert archive.tile(5, 3, 3) is None  # beyond its zooms
        assert archive.tile(1, 2, 0) is None  # off the grid
        assert archive.tile(-1, 0, 0) is None
    finally:
        archive.close()


def test_vector_archives_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TileArchiveError, match="vector tiles"):
        open_archive(write_mbtiles(tmp_path / "v.mbtiles", {(0, 0, 0): b"x"}, "pbf"))
    # No format in the metadata: the gzip magic of the first tile gives it away.
    gz = {(0, 0, 0): gzip.compress(b"\x1a\x02vector")}
    with pytest.raises(TileArchiveError, match="矢量瓦片"):
        open_archive(write_mbtiles(tmp_path / "w.mbtiles", gz, ""))
    with pytest.raises(TileArchiveError, match="vector tiles"):
        open_archive(write_pmtiles(tmp_path / "v.pmtiles", {(0, 0, 0): b"mvt"}, "mvt"))


def test_bad_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TileArchiveError, match="no such tile archive"):
        open_archive(tmp_path / "missing.mbtiles")
    junk = tmp_path / "junk.pmtiles"
    junk.write_bytes(b"not a tile archive at all" * 10)
    with pytest.raises(TileArchiveError, match="not a PMTiles"):
        open_archive(junk)
    junk_mb = tmp_path / "junk.mbtiles"
    junk_mb.write_bytes(b"not sqlite" * 100)
    with pytest.raises(TileArchiveError, match="not an MBTiles"):
        open_archive(junk_mb)
    with pytest.raises(TileArchiveError, match="mbtiles 或 pmtiles"):
        open_archive(tmp_path / "tiles.zip")


def test_sniff() -> None:
    assert sniff(png((1, 2, 3), 2)) == "png"
    assert sniff(b"\xff\xd8\xff\xe0....") == "jpg"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(gzip.compress(b"x")) == "pbf"
    assert sniff(b"hello") is None
    assert set(MEDIA_TYPES) == {"png", "jpg", "webp", "avif"}
