"""``ember export incidents|layers`` and ``GET /export/incidents.<fmt>`` (issue #9): files read
back with pyogrio and openpyxl; masking, filters, Shapefile names and GBK, CRS, scope, audit."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pyogrio
import pytest

from app.cli import main
from app.exports import shp_names
from store import open_store
from tests.app.api_town import Town, assert_no_phone, build_town, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    return build_town(tmp_path_factory.mktemp("export_town"))


def _export(capsys: pytest.CaptureFixture[str], town: Town, *argv: str) -> dict:
    code = main(["--db", str(town.db), "export", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_incidents_formats_masked(
    town: Town,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    doc = _export(capsys, town, "incidents", "--out", str(tmp_path / f"i.{fmt}"), "--format", fmt)
    frame = pyogrio.read_dataframe(doc["files"][0])
    assert len(frame) == doc["incidents"] > 0
    phone = "caller_ph" if fmt == "shp" else "caller_phone"
    assert frame[phone].dropna().str.contains(r"\*\*\*\*").all()
    assert_no_phone(frame.drop(columns="geometry").to_csv(), town.phones)
    assert frame.crs.to_epsg() == 4326


def test_shapefile_gbk_cgcs2000_short_names(
    town: Town,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "gbk" / "incidents.shp"
    doc = _export(
        capsys,
        town,
        "incidents",
        "--out",
        str(out),
        "--format",
        "shp",
        "--encoding",
        "gbk",
        "--crs",
        "4490",
        "--category",
        "wage,noise",
    )
    assert out.with_suffix(".cpg").read_text().strip().upper() == "GBK"
    info = pyogrio.read_info(out)
    assert all(len(f) <= 10 for f in info["fields"])
    assert set(info["fields"]) == set(shp_names().values())
    assert "EPSG:4490" in info["crs"]
    frame = pyogrio.read_dataframe(out)
    assert set(frame["category"]) <= {"wage", "noise"} and len(frame) == doc["incidents"]
    dbf = out.with_suffix(".dbf").read_bytes()
    assert frame["cat_zh"].iloc[0].encode("gbk") in dbf  # GBK bytes on disk


def test_xlsx_filters_and_personal_data_audited(
    town: Town,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "i.xlsx"
    doc = _export(
        capsys,
        town,
        "incidents",
        "--out",
        str(out),
        "--format",
        "xlsx",
        "--state",
        "closed",
        "--personal-data",
    )
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == doc["incidents"] > 0
    assert {r[header.index("state")] for r in body} == {"closed"}
    assert "lon" in header and "lat" in header
    phones = {str(r[header.index("caller_phone")]) for r in body} - {"None"}
    assert phones & town.phones  # unmasked, as asked
    actions = [e.action for e in open_store(str(town.db)).audit_log()]
    assert "export_incidents" in actions


def test_layers(town: Town, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _export(
        capsys,
        town,
        "layers",
        "--out",
        str(tmp_path / "l.gpkg"),
        "--layer",
        "villages",
        "--layer",
        "grid_cells",
        "--crs",
        "4490",
    )
    names = [n for n, _ in pyogrio.list_layers(doc["files"][0])]
    assert names == ["villages", "grid_cells"]
    doc = _export(
        capsys,
        town,
        "layers",
        "--out",
        str(tmp_path / "l.xlsx"),
        "--format",
        "xlsx",
        "--layer",
        "villages",
    )
    assert openpyxl.load_workbook(doc["files"][0]).sheetnames == ["villages"]


def test_http_export_in_scope(town: Town) -> None:
    client = town.app.server.test_client()
    assert client.get("/export/incidents.geojson").status_code in (302, 401)
    sign_in(client)  # a grid officer: own grid cell only
    r = client.get("/export/incidents.geojson")
    assert r.status_code == 200
    doc = json.loads(r.get_data())
    assert doc["features"]
    assert {f["properties"]["grid_code"] for f in doc["features"]} == {town.grid}
    assert_no_phone(r.get_data(as_text=True), town.phones)
    r = client.get("/export/incidents.shp?crs=4490&encoding=GBK")
    names = zipfile.ZipFile(io.BytesIO(r.get_data())).namelist()
    assert {"incidents.shp", "incidents.dbf", "incidents.cpg", "incidents.prj"} <= set(names)
    r = client.get("/export/incidents.xlsx?from=2000-01-01&to=2000-01-02")
    assert len(list(openpyxl.load_workbook(io.BytesIO(r.get_data())).active.rows)) == 1
    assert client.get("/export/incidents.gpkg?crs=3857").status_code == 400
    assert client.get("/export/incidents.csv").status_code == 404
