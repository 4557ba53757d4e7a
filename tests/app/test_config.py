"""Settings: defaults, file, environment, overrides, validation."""

from __future__ import annotations

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
