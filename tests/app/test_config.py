"""Settings: defaults, file, environment, overrides, validation."""

from __future__ import annotations

import os
import re

import pytest

from app.config import ConfigError, load_settings


def test_defaults_without_file(tmp_path):
    s = load_settings(env={"EMBER_CONFIG": os.devnull})
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
    env = {"EMBER_CONFIG": os.devnull, **env}
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
    env = {"EMBER_CONFIG": os.devnull, **env}
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        load_settings(env=env)
    assert re.search(r"[\u4e00-\u9fff]", str(raised.value))  # and in Chinese


def test_basemap_settings(tmp_path):
    from tests.tile_archives import png, write_mbtiles, write_pmtiles

    env = {"EMBER_CONFIG": os.devnull}
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


def test_a_missing_config_file_named_by_ember_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"找不到配置文件.*/ .*no such file.*typo.toml"):
        load_settings(env={"EMBER_CONFIG": str(tmp_path / "typo.toml")})
    with pytest.raises(ConfigError, match=r"目录.*/ .*directory"):
        load_settings(env={"EMBER_CONFIG": str(tmp_path)})


def test_dev_null_is_no_config_file():
    s = load_settings(env={"EMBER_CONFIG": os.devnull})
    assert (s.db, s.port) == ("var/ember.gpkg", 8050)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("port = true", "port 应为整数 / port must be an integer, got true"),
        ("port = 8050.7", "port must be an integer, got 8050.7"),
        ('port = "80x"', "port must be an integer"),
        ("port = [8050]", "port must be an integer"),
        (
            'db = ["a.gpkg", "b.gpkg"]',
            'db 应为字符串 / db must be a string (in quotes), got ["a.gpkg", "b.gpkg"]',
        ),
        ("db = 5", "db must be a string (in quotes), got 5"),
        ("basemap = false", "basemap must be a string"),
        ("session_idle_minutes = false", "session_idle_minutes must be an integer"),
        ("debug = 1", "debug 应为布尔值 / debug must be true or false, got 1"),
        ("cookie_secure = 0.0", "cookie_secure must be true or false, got 0.0"),
        ('behind_proxy = ["yes"]', "behind_proxy must be true or false"),
    ],
)
def test_wrong_types_in_the_file_are_rejected_not_coerced(tmp_path, line, message):
    cfg = tmp_path / "ember.toml"
    cfg.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env={"EMBER_CONFIG": str(cfg)})


def test_whole_floats_and_integer_text_are_integers(tmp_path):
    cfg = tmp_path / "ember.toml"
    cfg.write_text("port = 9000.0\n", encoding="utf-8")
    assert load_settings(env={"EMBER_CONFIG": str(cfg)}).port == 9000
    assert load_settings(env={"EMBER_CONFIG": str(cfg), "EMBER_PORT": " 9100 "}).port == 9100


def test_a_config_file_that_is_not_utf8_says_so_in_both_languages(tmp_path):
    cfg = tmp_path / "ember.toml"
    cfg.write_bytes('port = 9000\n# 天地图底图\nbasemap = "osm"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match=r"UTF-8.*/ .*not UTF-8.*line 2") as raised:
        load_settings(env={"EMBER_CONFIG": str(cfg)})
    assert re.search(r"[\u4e00-\u9fff]", str(raised.value))


def test_a_utf8_file_with_a_bom_is_read(tmp_path):
    cfg = tmp_path / "ember.toml"
    cfg.write_bytes('\ufeffdb = "镇.gpkg"\n'.encode())
    assert load_settings(env={"EMBER_CONFIG": str(cfg)}).db == "镇.gpkg"
