"""``ember demo``: deterministic, valid, and readable by GDAL (pyogrio)."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal

from app.cli import main
from layers import SPECS
from layers.importer import validate_layers


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple:
    base = tmp_path_factory.mktemp("demo")
    a, b, c = base / "a.gpkg", base / "b.gpkg", base / "c.gpkg"
    for path, seed in ((a, "7"), (b, "7"), (c, "8")):
        assert main(["demo", "--seed", seed, "--out", str(path), "--incidents", "1500"]) == 0
    return a, b, c


def layers_of(path) -> dict:
    return {str(n): pyogrio.read_dataframe(path, layer=n) for n, _ in pyogrio.list_layers(path)}


def test_same_seed_gives_identical_layers(two_builds):
    a, b, _ = two_builds
    la, lb = layers_of(a), layers_of(b)
    assert sorted(la) == sorted(lb)
    for name in la:
        if "geometry" in la[name]:
            assert_geodataframe_equal(la[name], lb[name], check_less_precise=False)
        else:
            pd.testing.assert_frame_equal(la[name], lb[name])


def test_other_seed_gives_another_town(two_builds):
    a, _, c = two_builds
    ga = pyogrio.read_dataframe(a, layer="grid_cells")
    gc = pyogrio.read_dataframe(c, layer="grid_cells")
    assert not ga.geometry.equals(gc.geometry)


def test_demo_gpkg_has_every_layer_and_passes_validation(two_builds):
    a, _, _ = two_builds
    frames = layers_of(a)
    for name in SPECS:
        assert name in frames, name
        assert list(frames[name].columns[: len(SPECS[name].fields)]) == SPECS[name].field_names
    assert "demo_meta" in frames
    assert validate_layers({k: v for k, v in frames.items() if k in SPECS}) == []
    assert len(frames["incidents"]) == 1500
    assert frames["incidents"]["id"].is_unique


def test_json_summary(tmp_path, capsys):
    out = tmp_path / "d.gpkg"
    assert main(["demo", "--out", str(out), "--incidents", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"]["incidents"] == 300
    assert 60_000 <= doc["migrants"] <= 80_000


def test_end_now_leaves_no_future_event(tmp_path, capsys):
    from store import open_store
    from store.base import IncidentQuery, Scope

    out = tmp_path / "now.gpkg"
    before = pd.Timestamp.now(tz="UTC")
    assert main(["demo", "--out", str(out), "--incidents", "300", "--end", "now"]) == 0
    frame = open_store(str(out)).query_incidents(IncidentQuery(), Scope.everything("test"))
    times = [c for c in frame.columns if c.endswith("_at")]
    latest = max(pd.to_datetime(frame[c], utc=True).max() for c in times)
    assert latest <= before + pd.Timedelta(minutes=1)
    assert latest >= before - pd.Timedelta(days=7)  # the year really ends now


def test_bad_end_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "x.gpkg"), "--end", "soon"]) == 2
    assert "--end" in capsys.readouterr().err


def test_demo_accounts_have_random_passwords_and_sign_in(tmp_path, capsys):
    """``ember demo`` makes one account per role a newcomer tries (the wall's among them), with
    random passwords shown once and kept in a 0600 file beside the store; they sign in."""
    import stat

    from app.auth.demo import ACCOUNTS_FILE
    from app.auth.passwords import verify_password
    from store import open_store

    out = tmp_path / "d.gpkg"
    assert main(["demo", "--out", str(out), "--incidents", "200", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    accounts = {a["username"]: a for a in doc["accounts"]}
    roles = {a["role"] for a in accounts.values()}
    assert {
        "wall",
        "admin",
        "commander",
        "dispatcher",
        "callback",
        "analyst",
        "grid",
        "team",
    } <= roles
    path = tmp_path / ACCOUNTS_FILE
    assert doc["accounts_file"] == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    store = open_store(str(out))
    for name, account in accounts.items():
        assert len(account["password"]) >= 16 and account["password"] in text
        user, stored = store.user_credentials(name)
        assert user.role == account["role"] and verify_password(stored, account["password"])
    assert accounts["grid"]["areas"][0].startswith("330784199") and accounts["team"]["areas"]
    assert main(["demo", "--out", str(out), "--incidents", "200"]) == 0  # a rebuild: new ones
    shown = capsys.readouterr().out
    assert accounts["wall"]["password"] not in shown and "wall" in shown
    assert accounts["wall"]["password"] not in path.read_text(encoding="utf-8")


def test_demo_accounts_again_on_a_kept_store_get_new_passwords(tmp_path):
    """A PostGIS store keeps its accounts across demo builds: they get new passwords."""
    from app.auth.demo import accounts_path, make_demo_accounts, write_accounts_file
    from app.auth.passwords import verify_password
    from layers.demo import build_demo
    from store import open_store

    frames = build_demo(7, n_incidents=20)
    store = open_store(str(tmp_path / "k.gpkg"))
    first = make_demo_accounts(store, frames)
    again = make_demo_accounts(store, frames)
    assert [a.username for a in again] == [a.username for a in first]
    for old, new in zip(first, again, strict=True):
        _, stored = store.user_credentials(new.username)
        assert verify_password(stored, new.password) and not verify_password(stored, old.password)
    url = "postgresql://ember:s3cret@db/ember"
    path = write_accounts_file(accounts_path(str(tmp_path / "k.gpkg")), again, url)
    assert "s3cret" not in path.read_text(encoding="utf-8")


@pytest.mark.postgis
def test_demo_refuses_a_postgis_store_that_holds_incidents(pg_url, tmp_path, capsys):
    """A second demo build into PostGIS (which is not deleted first, as a GeoPackage is) would
    replace the layers and then fail on the incidents, leaving the store half-written: it is
    refused before anything is written."""
    from store import open_store
    from store.base import IncidentQuery, Scope

    def state() -> tuple:
        store = open_store(pg_url)
        try:
            grids = store.read_layer("grid_cells").sort_values("code")
            count = store.count_incidents(IncidentQuery(), Scope.everything("test"))
            audit = len(store.audit_log())
        finally:
            store.close()
        return list(grids["code"]), grids.geometry.to_wkb().tolist(), count, audit

    argv = ["demo", "--out", pg_url, "--incidents", "200"]
    assert main([*argv, "--seed", "7"]) == 0
    capsys.readouterr()
    before = state()
    assert before[2] == 200
    assert main([*argv, "--seed", "8"]) == 2
    err = capsys.readouterr().err
    assert "已有 200 件事项" in err and "already holds 200 incidents" in err
    assert "CREATE EXTENSION postgis" in err
    assert state() == before  # layers, incidents and audit log as they were
