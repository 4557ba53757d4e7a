"""An export that fails part-way (a full disk) replaces nothing and leaves nothing behind: the
older file of that name is intact (say an export with personal data, which a masked one was to
replace) and the error is bilingual (:func:`layers.exporter.replacing`)."""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

import app.exports
import layers.exporter
from app.exports import write_frames, write_xlsx
from tests.tiny_town import make_tiny_town


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_failed_geojson_keeps_the_earlier_file(tmp_path: Path, monkeypatch) -> None:
    grids = make_tiny_town()["grid_cells"]
    out = tmp_path / "incidents.geojson"
    write_frames({"incidents": grids}, out, "geojson")  # the earlier, unmasked export
    before = _snapshot(tmp_path)
    write = pyogrio.write_dataframe

    def full_disk(frame, path, **kw):
        write(frame.iloc[:2], path, **kw)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(layers.exporter.pyogrio, "write_dataframe", full_disk)
    masked = grids.assign(officer_phone="138****0000")
    with pytest.raises(OSError, match=r"导出失败.*/ export failed.*No space left on device"):
        write_frames({"incidents": masked}, out, "geojson")
    assert _snapshot(tmp_path) == before


def test_failed_xlsx_keeps_the_earlier_file(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "layers.xlsx"
    frames = {"a": pd.DataFrame({"x": [1, 2]}), "b": pd.DataFrame({"y": [3]})}
    write_xlsx(frames, out)
    before = _snapshot(tmp_path)
    plain = app.exports._plain
    calls = []

    def second_sheet_fails(frame: pd.DataFrame) -> pd.DataFrame:
        calls.append(frame)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return plain(frame)

    monkeypatch.setattr(app.exports, "_plain", second_sheet_fails)
    with pytest.raises(OSError, match=r"导出失败.*/ export failed"):
        write_xlsx(frames, out)
    assert _snapshot(tmp_path) == before


def test_a_bug_is_not_dressed_up_but_still_cleaned_up(tmp_path: Path, monkeypatch) -> None:
    def broken(frame, path, **kw):
        Path(path).write_text("{")
        raise TypeError("a bug")

    monkeypatch.setattr(layers.exporter.pyogrio, "write_dataframe", broken)
    with pytest.raises(TypeError, match="a bug"):
        write_frames({"i": make_tiny_town()["grid_cells"]}, tmp_path / "i.geojson", "geojson")
    assert list(tmp_path.iterdir()) == []
