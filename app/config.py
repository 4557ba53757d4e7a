"""Settings: one optional TOML file plus ``EMBER_*`` environment variables, validated at start-up.

Precedence: environment > file > defaults. The file is ``$EMBER_CONFIG`` or ``./ember.toml`` when
present. Settings are an immutable value passed to whoever needs them; nothing mutates them at
run time.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which, in Chinese and English."""


@dataclass(frozen=True)
class Settings:
    """Validated application settings."""

    db: str = "var/ember.gpkg"
    host: str = "127.0.0.1"
    port: int = 8050
    lang: str = "zh"
    #: Tile URL template of an intranet basemap; empty means no basemap (nothing leaves the host).
    basemap_url: str = ""
    debug: bool = False
    #: Optional alias map (JSON or TOML) of a city's feed column names, for ``ember ingest``.
    ingest_aliases: str = ""

    def validate(self) -> Settings:
        if not self.db:
            raise ConfigError("EMBER_DB 不能为空 / EMBER_DB must not be empty")
        if not 0 < self.port < 65536:
            raise ConfigError(f"端口无效 / invalid port: {self.port}")
        if self.lang not in LANGS:
            raise ConfigError(f"语言只能是 zh 或 en / lang must be zh or en, got {self.lang!r}")
        if self.basemap_url and "{z}" not in self.basemap_url:
            raise ConfigError("底图地址需包含 {z}/{x}/{y} / basemap_url needs {z}/{x}/{y}")
        if self.ingest_aliases and not Path(self.ingest_aliases).is_file():
            raise ConfigError(
                f"找不到别名映射文件 / ingest_aliases: no such file {self.ingest_aliases}"
            )
        return self


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name} 应为布尔值 / {name} must be true or false, got {value!r}")
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            msg = f"{name} 应为整数 / {name} must be an integer, got {value!r}"
            raise ConfigError(msg) from None
    return str(value)


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the config file and ``EMBER_*`` variables; ``overrides`` (from the CLI) win."""
    env = dict(os.environ) if env is None else env
    defaults = Settings()
    values: dict[str, Any] = {}
    cfg_path = Path(env.get("EMBER_CONFIG", "ember.toml"))
    if cfg_path.is_file():
        try:
            data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"配置文件格式错误 / bad config file {cfg_path}: {e}") from None
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"未知配置项 / unknown settings in {cfg_path}: {', '.join(unknown)}")
        values.update(data)
    for f in fields(Settings):
        key = f"EMBER_{f.name.upper()}"
        if env.get(key) not in (None, ""):
            values[f.name] = env[key]
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced = {k: _coerce(k, v, getattr(defaults, k)) for k, v in values.items()}
    return replace(defaults, **coerced).validate()
