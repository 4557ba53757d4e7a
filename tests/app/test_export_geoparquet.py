"""``ember export incidents --geoparquet DIR`` (issue #10): GeoParquet 1.x partitioned by month
and town, masked like the other exports, read back by geopandas and dask-geopandas."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from app.cli import main
from store import IncidentQuery, Scope, open_store
from tests.app.api_town import Town, assert_no_phone, build_town

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    return build_town(tmp_path_factory.mktemp("geoparquet_town"))


def _run(capsys: pytest.CaptureFixture[str], town: Town, *argv: str) -> dict:
    code = main(["--db", str(town.db), "export", "incidents", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_partitioned_by_month_and_town(
    town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gpq"
    doc = _run(capsys, town, "--geoparquet", str(out))
    files = [Path(f) for f in doc["files"]]
    assert files and all(f.is_file() and f.name == "part-0.parquet" for f in files)
    for f in files:
        month, town_dir = f.parent.parent.name, f.parent.name
        assert month.startswith("month=") and len(month) == len("month=2026-05")
        assert town_dir.startswith("town_code=") and len(town_dir) == len("town_code=") + 9
        meta = json.loads(pq.read_metadata(f).metadata[b"geo"])
        assert meta["version"].startswith("1.")
        assert meta["columns"]["geometry"]["encoding"] == "WKB"
        assert meta["columns"]["geometry"]["crs"]["id"]["code"] == 4326
        assert "month" not in pq.read_schema(f).names  # keys live in the paths
    back = gpd.read_parquet(out)
    assert len(back) == doc["incidents"] > 0
    assert back.crs.to_epsg() == 4326
    assert (back.geom_type == "Point").all()
    # every row sits in the partition of its own local month and village's town
    local = pd.to_datetime(back["received_at"]).dt.tz_convert("Asia/Shanghai")
    assert (local.dt.strftime("%Y-%m") == back["month"].astype(str)).all()
    assert (back["village_code"].str[:9] == back["town_code"].astype(str)).all()
    assert doc["incidents"] == len(
        open_store(str(town.db)).query_incidents(IncidentQuery(), Scope.everything("t"))
    )


def test_masked_unless_personal_data(
    town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, town, "--geoparquet", str(tmp_path / "masked"))
    masked = gpd.read_parquet(tmp_path / "masked")
    assert masked["caller_phone"].dropna().str.contains(r"\*\*\*\*").all()
    assert_no_phone(masked.drop(columns="geometry").to_csv(), town.phones)
    _run(capsys, town, "--geoparquet", str(tmp_path / "open"), "--personal-data")
    clear = gpd.read_parquet(tmp_path / "open")
    assert not clear["caller_phone"].dropna().str.contains(r"\*\*\*\*").any()
    log = [e for e in open_store(str(town.db)).audit_log() if e.action == "export_incidents"]
    assert log and "geoparquet" in str(log[-1].detail)


def test_filters_apply(town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _run(capsys, town, "--geoparquet", str(tmp_path / "wage"), "--category", "wage")
    back = gpd.read_parquet(tmp_path / "wage")
    assert len(back) == doc["incidents"] and set(back["category"]) <= {"wage"}


def test_dask_geopandas_reads_it_back(
    town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dask_geopandas = pytest.importorskip("dask_geopandas")
    doc = _run(capsys, town, "--geoparquet", str(tmp_path / "d"))
    frame = dask_geopandas.read_parquet(tmp_path / "d")
    assert frame.npartitions == len(doc["files"])
    assert frame.crs.to_epsg() == 4326
    local = frame.compute()
    assert len(local) == doc["incidents"]
    eager = gpd.read_parquet(tmp_path / "d")
    assert sorted(local["id"]) == sorted(eager["id"])
    same = eager.set_index("id").loc[local["id"]].geometry.to_numpy()
    assert local.geometry.reset_index(drop=True).geom_equals(gpd.GeoSeries(same)).all()


def test_needs_out_or_geoparquet(town: Town, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(town.db), "export", "incidents", "--json"]) == 2
    capsys.readouterr()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_earlier_export_is_replaced_only_with_force(
    town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dataset is the whole directory: a masked export on top of an earlier one with personal
    data must not leave the earlier partitions (unmasked rows) in it."""
    out = tmp_path / "gpq"
    everything = _run(capsys, town, "--geoparquet", str(out), "--personal-data")
    before = _files(out)
    argv = ["--db", str(town.db), "export", "incidents", "--geoparquet", str(out)]
    narrow = ["--category", "wage", "--from", "2026-05-01", "--to", "2026-05-31"]
    assert main([*argv, *narrow]) == 2
    err = capsys.readouterr().err
    assert "目录非空" in err and "not empty" in err and "--force" in err
    assert _files(out) == before
    doc = _run(capsys, town, "--geoparquet", str(out), *narrow, "--force")
    assert 0 < doc["incidents"] < everything["incidents"]
    back = gpd.read_parquet(out)
    assert len(back) == doc["incidents"]  # no partition of the earlier export is left
    assert set(back["category"]) == {"wage"}
    assert back["caller_phone"].dropna().str.contains(r"\*\*\*\*").all()
    assert_no_phone(back.drop(columns="geometry").to_csv(), town.phones)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpq"]  # no temporaries


def test_force_does_not_empty_a_directory_holding_other_things(
    town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    argv = ["--db", str(town.db), "export", "incidents", "--geoparquet", str(tmp_path)]
    assert main([*argv, "--force"]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "不予替换" in err and "not replaced" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_failed_export_leaves_the_earlier_one(
    town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from app.exports import write_geoparquet

    out = tmp_path / "gpq"
    _run(capsys, town, "--geoparquet", str(out))
    before = _files(out)
    frame = open_store(str(town.db)).query_incidents(IncidentQuery(), Scope.everything("t"))
    write = gpd.GeoDataFrame.to_parquet
    calls: list[object] = []

    def full_disk(self, path, **kw):
        calls.append(path)
        write(self, path, **kw)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_parquet", full_disk)
    with pytest.raises(OSError, match=r"导出失败.*/ export failed.*No space left"):
        write_geoparquet(frame, out, replace=True)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpq"]
