"""Settings: defaults, file, environment, overrides, validation."""

from __future__ import annotations

import re

import pytest

from app.config import ConfigError, load_settings


def test_defaults_without_file(tmp_path):
    s = load_settings(env={"EMBER_CONFIG": str(tmp_path / "none.toml")})
    assert (s.db, s.host, s.port, s.lang) == ("var/ember.gpkg", "127.0.0.1", 8050, "zh")


def test_file_then_env_then_overrides(tmp_path):
    cfg = tmp_path / "ember.toml"
    cfg.write_text('db = "a.gpkg"\nport = 9000\nlang = "en"\n', encoding="utf-8")
    env = {"EMBER_CONFIG": str(cfg), "EMBER_PORT": "9100"}
    s = load_settings(env=env)
    assert (s.db, s.port, s.lang) == ("a.gpkg", 9100, "en")
    assert load_settings(env=env, port=9200, db=None).port == 9200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMBER_PORT": "eighty"}, "must be an integer"),
        ({"EMBER_PORT": "70000"}, "invalid port"),
        ({"EMBER_LANG": "fr"}, "lang must be zh or en"),
        ({"EMBER_DEBUG": "maybe"}, "must be true or false"),
        ({"EMBER_BASEMAP_URL": "http://tiles.local/a.png"}, "{z}/{x}/{y}"),
    ],
)
def test_bad_values_are_rejected_at_startup(tmp_path, env, message):
    env = {"EMBER_CONFIG": str(tmp_path / "none.toml"), **env}
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_unknown_key_in_file(tmp_path):
    cfg = tmp_path / "ember.toml"
    cfg.write_text('dbb = "typo.gpkg"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown settings.*dbb"):
        load_settings(env={"EMBER_CONFIG": str(cfg)})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMBER_BASEMAP": "google"}, "basemap must be one of"),
        ({"EMBER_BASEMAP": "mbtiles"}, "needs basemap_path"),
        ({"EMBER_BASEMAP": "pmtiles", "EMBER_BASEMAP_PATH": "/nowhere.pmtiles"}, "no such tile"),
        ({"EMBER_BASEMAP": "tianditu"}, "needs a tianditu_key"),
        ({"EMBER_BASEMAP": "tianditu", "EMBER_TIANDITU_KEY": "a b"}, "needs a tianditu_key"),
        ({"EMBER_TIANDITU_STYLE": "sat"}, "tianditu_style must be vec or img"),
        ({"EMBER_BASEMAP": "osm", "EMBER_BASEMAP_URL": "http://t/{z}/{x}/{y}"}, "basemap = url"),
        ({"EMBER_BASEMAP": "url"}, "{z}/{x}/{y}"),
        ({"EMBER_BASEMAP_PATH": "a.mbtiles"}, "basemap_path needs basemap = mbtiles"),
    ],
)
def test_bad_basemaps_are_rejected_at_startup(tmp_path, env, message):
    env = {"EMBER_CONFIG": str(tmp_path / "none.toml"), **env}
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load_settings(env=env)
    assert re.search(r"[\u4e00-\u9fff]", str(raised.value))  # and in Chinese


def test_basemap_settings(tmp_path):
    from tests.tile_archives import png, write_mbtiles, write_pmtiles

    env = {"EMBER_CONFIG": str(tmp_path / "none.toml")}
    assert load_settings(env=env).basemap == "none"
    assert load_settings(env={**env, "EMBER_BASEMAP": "OSM"}).basemap == "osm"
    key = {"EMBER_TIANDITU_KEY": "0123456789abcdef0123456789abcdef"}
    assert load_settings(env={**env, "EMBER_BASEMAP": "tianditu", **key}).basemap == "tianditu"
    # A custom template alone (the setting of earlier versions) selects ``url``.
    custom = load_settings(env={**env, "EMBER_BASEMAP_URL": "http://10.0.0.5/{z}/{x}/{y}.png"})
    assert custom.basemap == "url"
    tiles = {(0, 0, 0): png((1, 2, 3), 4)}
    mb = write_mbtiles(tmp_path / "a.mbtiles", tiles)
    cfg = tmp_path / "ember.toml"
    cfg.write_text(f'basemap = "mbtiles"\nbasemap_path = "{mb}"\n', encoding="utf-8")
    assert load_settings(env={"EMBER_CONFIG": str(cfg)}).basemap_path == str(mb)
    pm = write_pmtiles(tmp_path / "a.pmtiles", tiles)
    assert load_settings(env={**env, "EMBER_BASEMAP": "pmtiles", "EMBER_BASEMAP_PATH": str(pm)})
    # A vector archive cannot be drawn by a raster layer: refused at start-up, not at first tile.
    vector = write_pmtiles(tmp_path / "v.pmtiles", {(0, 0, 0): b"mvt"}, "mvt")
    with pytest.raises(ConfigError, match="vector tiles"):
        load_settings(env={**env, "EMBER_BASEMAP": "pmtiles", "EMBER_BASEMAP_PATH": str(vector)})
    with pytest.raises(ConfigError, match="not an MBTiles"):
        load_settings(env={**env, "EMBER_BASEMAP": "mbtiles", "EMBER_BASEMAP_PATH": str(pm)})
