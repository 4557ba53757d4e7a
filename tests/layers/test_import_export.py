"""Importing real-world layer files (GBK Shapefile, GCJ-02 GeoJSON) and exporting them again."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
import shapely.geometry

from geo.crs import to_metric
from layers._schema import LayerValidationError
from layers.exporter import export_layers
from layers.importer import detect_dbf_encoding, read_source, validate_layers, write_rejected
from tests.tiny_town import make_tiny_town

DATA = Path(__file__).resolve().parent.parent / "data"
GBK_SHP = DATA / "gbk_grid_cells" / "wangge.shp"


def same_shapes(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """Same geometries to 1e-9 degrees, whatever the ring orientation (Shapefiles flip it)."""
    return bool(a.normalize().geom_equals_exact(b.normalize(), tolerance=1e-9).all())


def test_gbk_dbf_without_cpg_is_detected():
    assert detect_dbf_encoding(GBK_SHP) == "GB18030"
    # Read naively, GDAL would take the bytes as Latin-1: the names are garbage.
    naive = pyogrio.read_dataframe(GBK_SHP)
    assert "青溪村第1网格" not in set(naive.iloc[:, 1])


def test_gbk_shapefile_imports_with_chinese_columns_mapped():
    grids = read_source(GBK_SHP, "grid_cells")
    expected = make_tiny_town()["grid_cells"]
    assert list(grids["name"]) == list(expected["name"])
    assert list(grids["code"]) == list(expected["code"])
    assert list(grids["officer_name"]) == ["张伟", "王芳", "李娜", "刘洋"]
    assert grids.crs.to_epsg() == 4326
    assert same_shapes(grids, expected)


def test_explicit_encoding_and_mapping(tmp_path):
    town = make_tiny_town()
    grids = town["grid_cells"].rename(columns={"code": "WGBM", "officer_name": "WGY"})
    path = tmp_path / "cells.shp"
    pyogrio.write_dataframe(grids, path, encoding="GBK")
    got = read_source(
        path, "grid_cells", encoding="GBK", mapping={"WGBM": "code", "WGY": "officer_name"}
    )
    assert list(got["code"]) == list(town["grid_cells"]["code"])
    assert got["officer_name"].iloc[0] == "张伟"


def test_gcj02_geojson_is_shifted_back_to_wgs84():
    expected = make_tiny_town()["villages"]
    raw = read_source(DATA / "villages_gcj02.geojson", "villages")
    fixed = read_source(DATA / "villages_gcj02.geojson", "villages", coords="gcj02")

    def max_error_m(frame: gpd.GeoDataFrame) -> float:
        a = frame.get_coordinates().to_numpy()
        b = expected.get_coordinates().to_numpy()
        ax, ay = to_metric(a[:, 0], a[:, 1])
        bx, by = to_metric(b[:, 0], b[:, 1])
        return float(np.hypot(ax - bx, ay - by).max())

    assert max_error_m(raw) > 300  # GCJ-02 is off by hundreds of metres here
    assert max_error_m(fixed) < 0.01


def test_file_without_crs_needs_coords(tmp_path):
    grids = make_tiny_town()["grid_cells"].set_crs(None, allow_override=True)
    path = tmp_path / "grid_cells.shp"
    pyogrio.write_dataframe(grids, path, encoding="UTF-8")
    path.with_suffix(".prj").unlink(missing_ok=True)
    with pytest.raises(LayerValidationError) as err:
        read_source(path, "grid_cells")
    assert err.value.problems[0].check == "no_crs"
    assert "--coords" in err.value.problems[0].en
    assert read_source(path, "grid_cells", coords="cgcs2000").crs.to_epsg() == 4326


def test_codes_stored_as_numbers_come_back_as_exact_text(tmp_path):
    grids = make_tiny_town()["grid_cells"]
    grids["code"] = grids["code"].astype("int64")
    path = tmp_path / "g.geojson"
    pyogrio.write_dataframe(grids, path, driver="GeoJSON")
    got = read_source(path, "grid_cells")
    assert list(got["code"]) == list(make_tiny_town()["grid_cells"]["code"])


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_export_round_trip(tmp_path, fmt):
    town = make_tiny_town()
    files = export_layers(town, tmp_path / f"out.{fmt}" if fmt == "gpkg" else tmp_path, fmt)
    assert files
    for kind, frame in town.items():
        path = files[0] if fmt == "gpkg" else tmp_path / f"{kind}.{fmt}"
        back = read_source(path, kind, layer=kind if fmt == "gpkg" else None)
        assert list(back.columns) == list(frame.columns), kind
        assert same_shapes(back, frame), kind
    assert (
        validate_layers({k: read_source(files[0], k) for k in town} if fmt == "gpkg" else {}) == []
    )


def test_geojson_export_follows_the_right_hand_rule(tmp_path):
    """RFC 7946 §3.1.6: exterior rings counter-clockwise (GDAL wrote them as they came)."""
    town = make_tiny_town()
    clockwise = {k: f.set_geometry(shapely.orient_polygons(f.geometry.values, exterior_cw=True))
                 for k, f in town.items()}  # fmt: skip
    export_layers(clockwise, tmp_path, "geojson")
    for kind in town:
        doc = json.loads((tmp_path / f"{kind}.geojson").read_text(encoding="utf-8"))
        for feature in doc["features"]:
            geom = shapely.geometry.shape(feature["geometry"])
            for poly in getattr(geom, "geoms", [geom]):
                if poly.geom_type == "Polygon":
                    assert shapely.is_ccw(poly.exterior), kind


def test_export_gbk_shapefile_in_cgcs2000(tmp_path):
    town = make_tiny_town()
    export_layers({"grid_cells": town["grid_cells"]}, tmp_path, "shp", encoding="GBK", epsg=4490)
    shp = tmp_path / "grid_cells.shp"
    assert (tmp_path / "grid_cells.cpg").read_text().strip().upper() in ("GBK", "CP936")
    info = pyogrio.read_info(shp)
    assert info["crs"] == "EPSG:4490"
    assert "vill_code" in list(info["fields"]) and "officer_ph" in list(info["fields"])
    raw = (tmp_path / "grid_cells.dbf").read_bytes()
    assert "青溪村第1网格".encode("gbk") in raw
    back = read_source(shp, "grid_cells")
    assert list(back["village_code"]) == list(town["grid_cells"]["village_code"])


def test_rejected_layer_keeps_every_feature_with_its_problems(tmp_path):
    town = make_tiny_town()
    grids = town["grid_cells"].copy()
    grids.loc[1, "code"] = "bad"
    problems = validate_layers({**town, "grid_cells": grids})
    path = write_rejected(grids, problems, tmp_path / "q.gpkg", "grid_cells")
    kept = pyogrio.read_dataframe(path, layer="grid_cells")
    assert len(kept) == len(grids)
    assert "编码格式错误" in kept.loc[1, "problem_zh"]
    assert "bad code" in kept.loc[1, "problem_en"]
    assert kept.loc[0, "problem_zh"] == ""


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
@pytest.mark.parametrize("single", [True, False], ids=["file", "directory"])
def test_failed_export_keeps_the_older_files_and_leaves_nothing_half_written(
    tmp_path, monkeypatch, fmt, single
):
    """GDAL fails after writing part of the file (as on a full disk): the earlier export of
    that name is intact, no partial file or temporary is left, the error is bilingual."""
    import layers.exporter

    town = make_tiny_town()
    frames = {"grid_cells": town["grid_cells"]} if single else town
    out = tmp_path / f"grid_cells.{fmt}" if single or fmt == "gpkg" else tmp_path
    export_layers(frames, out, fmt)
    before = _snapshot(tmp_path)
    write = pyogrio.write_dataframe

    def half_then_fail(frame, path, **kw):
        write(frame.iloc[:1], path, **kw)  # part of it is on disk
        raise pyogrio.errors.FeatureError("Could not add feature to layer: Cannot write feature")

    monkeypatch.setattr(layers.exporter.pyogrio, "write_dataframe", half_then_fail)
    changed = {k: f.iloc[::-1] for k, f in frames.items()}
    with pytest.raises(OSError, match=r"导出失败.*/ export failed.*Cannot write feature"):
        export_layers(changed, out, fmt)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_export_on_a_full_disk_keeps_the_older_file(tmp_path, fmt):
    """A real write failure: a file size limit (EFBIG, as ENOSPC on a full disk) stops GDAL."""
    import resource
    import signal

    n = 5000
    points = gpd.GeoDataFrame(
        {"name": ["青溪村七组四十七号门口"] * n, "n": np.arange(n)},
        geometry=gpd.points_from_xy(np.linspace(120.0, 120.1, n), np.full(n, 29.0)),
        crs=4326,
    )
    out = tmp_path / f"points.{fmt}"
    export_layers({"points": points.iloc[:10]}, out, fmt)
    before = _snapshot(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, hard))
    try:
        with pytest.raises(OSError, match=r"导出失败.*/ export failed"):
            export_layers({"points": points}, out, fmt)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
    assert _snapshot(tmp_path) == before
    assert len(pyogrio.read_dataframe(out)) == 10


def test_export_replaces_an_older_shapefile_with_all_its_sidecars(tmp_path):
    town = make_tiny_town()
    export_layers({"grid_cells": town["grid_cells"]}, tmp_path, "shp", encoding="GBK")
    (tmp_path / "grid_cells.qix").write_bytes(b"stale spatial index")
    export_layers({"grid_cells": town["grid_cells"].iloc[:2]}, tmp_path, "shp")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"grid_cells.{ext}" for ext in ("cpg", "dbf", "prj", "shp", "shx")
    ]
    assert (tmp_path / "grid_cells.cpg").read_text().strip().upper().replace("-", "") == "UTF8"
    assert len(read_source(tmp_path / "grid_cells.shp", "grid_cells")) == 2


def test_an_export_removes_what_a_killed_export_left_behind(tmp_path):
    """A killed export leaves its hidden staging directory; the next export beside it removes
    those older than a day (a younger one may be an export still running)."""
    import os
    import time

    from layers.exporter import STAGING_PREFIX, STALE_STAGING_SECONDS

    old, young = tmp_path / f"{STAGING_PREFIX}killed", tmp_path / f"{STAGING_PREFIX}running"
    for d in (old, young):
        d.mkdir()
        (d / "grid_cells.gpkg").write_bytes(b"half")
    then = time.time() - STALE_STAGING_SECONDS - 60
    os.utime(old, (then, then))
    town = make_tiny_town()
    export_layers({"grid_cells": town["grid_cells"]}, tmp_path / "town.gpkg", "gpkg")
    assert not old.exists() and young.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [young.name, "town.gpkg"]


def test_an_output_that_is_a_pipe_or_a_link_is_written_through(tmp_path):
    """``--out /dev/stdout``, a named pipe or a symbolic link is a stream or names another
    file: written in place, not replaced by a plain file."""
    import os
    import threading

    from layers.exporter import replacing

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with replacing([fifo]) as stage:
        stage(fifo).write_bytes(b"streamed")
    reader.join(timeout=10)
    assert got == [b"streamed"] and fifo.is_fifo()
    target, link = tmp_path / "real.csv", tmp_path / "link.csv"
    target.write_text("old", encoding="utf-8")
    link.symlink_to(target)
    with replacing([link]) as stage:
        stage(link).write_text("new", encoding="utf-8")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.csv", "real.csv"]
