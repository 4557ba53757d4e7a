"""Settings: one optional TOML file plus ``EMBER_*`` environment variables, validated at start-up.

Precedence: environment > file > defaults. The file is ``$EMBER_CONFIG`` (which must exist;
``/dev/null`` for none) or else ``./ember.toml`` when present; it is UTF-8 TOML, and a value of
the wrong type (``port = true``, ``db = 5``) is an error, not converted. Settings are an
immutable value passed to whoever needs them; nothing mutates them at run time.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
#: Basemap kinds (see :mod:`app.basemap`).
BASEMAPS = ("none", "mbtiles", "pmtiles", "tianditu", "amap", "osm", "url")
TIANDITU_STYLES = ("vec", "img")


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which, in Chinese and English."""


@dataclass(frozen=True)
class Settings:
    """Validated application settings."""

    db: str = "var/ember.gpkg"
    host: str = "127.0.0.1"
    port: int = 8050
    lang: str = "zh"
    #: Basemap: ``none`` (Ember's own layers only), ``mbtiles`` / ``pmtiles`` (a local raster
    #: archive at ``basemap_path``, served by Ember), ``tianditu`` (needs ``tianditu_key``),
    #: ``amap`` (GCJ-02: Ember shifts what it draws), ``osm``, or ``url`` (``basemap_url``).
    basemap: str = "none"
    #: The MBTiles or PMTiles file of ``basemap = "mbtiles"`` / ``"pmtiles"``.
    basemap_path: str = ""
    #: Tianditu (天地图) key (``tk``) and style: ``vec`` (map + labels) or ``img`` (imagery +
    #: labels).
    tianditu_key: str = ""
    tianditu_style: str = "vec"
    #: A custom tile URL template (e.g. an intranet tile server); setting it implies ``url``.
    basemap_url: str = ""
    debug: bool = False
    #: Optional alias map (JSON or TOML) of a city's feed column names, for ``ember ingest``.
    ingest_aliases: str = ""
    #: Signs session cookies and CSRF tokens (``EMBER_SECRET_KEY``, at least 32 characters; one
    #: value for every worker). Empty: a key generated once and kept beside the GeoPackage or in
    #: ``var/`` (development only).
    secret_key: str = field(default="", repr=False)
    #: Minutes without a request after which a session ends.
    session_idle_minutes: int = 30
    #: Days a session of the ``wall`` role (the command room's wall PC) lasts without a request:
    #: the wall is always on and restarts unattended, so it does not end after the idle minutes.
    wall_session_days: int = 30
    #: Whether every page needs a signed-in user (``/login`` and static files excepted). On by
    #: default: the map wall shows the whole town (issue #7); a wall PC signs in as role ``wall``.
    auth_required: bool = True
    #: Send the session and CSRF cookies over HTTPS only (set it behind TLS).
    cookie_secure: bool = False
    #: Where officers' photos are kept: ``<photo_dir>/<incident id>/<sha256>.<ext>``.
    photo_dir: str = "var/photos"
    #: Largest photo accepted, in bytes (JPEG, PNG or WebP).
    photo_max_bytes: int = 8 * 1024 * 1024
    #: ``ember serve --production``: gunicorn worker processes (0: 2 × CPU cores + 1, at most
    #: 8) and threads per worker.
    workers: int = 0
    threads: int = 4
    #: Behind exactly one reverse proxy (nginx, ``deploy/``): trust its ``X-Forwarded-For``,
    #: ``-Proto`` and ``-Host`` (Werkzeug ProxyFix), so that the sign-in limiter sees the client's
    #: address. Off, a client could forge the header; on without a proxy, likewise.
    behind_proxy: bool = False

    def validate(self) -> Settings:
        if not self.db:
            raise ConfigError("EMBER_DB 不能为空 / EMBER_DB must not be empty")
        if not 0 <= self.port < 65536:  # 0: any free port (the server log says which)
            raise ConfigError(f"端口无效 / invalid port: {self.port}")
        if self.lang not in LANGS:
            raise ConfigError(f"语言只能是 zh 或 en / lang must be zh or en, got {self.lang!r}")
        if self.secret_key and len(self.secret_key) < 32:
            raise ConfigError("EMBER_SECRET_KEY 至少 32 个字符 / secret_key needs 32+ characters")
        if not 1 <= self.session_idle_minutes <= 24 * 60:
            raise ConfigError(
                f"会话空闲时限须在 1–1440 分钟之间 / session_idle_minutes must be 1-1440, "
                f"got {self.session_idle_minutes}"
            )
        if not 1 <= self.wall_session_days <= 366:
            raise ConfigError(
                f"大屏会话时限须在 1–366 天之间 / wall_session_days must be 1-366, "
                f"got {self.wall_session_days}"
            )
        if not self.photo_dir.strip():
            raise ConfigError("photo_dir 不能为空 / photo_dir must not be empty")
        if not 1024 <= self.photo_max_bytes <= 50 * 1024 * 1024:
            raise ConfigError(
                f"照片大小上限须在 1 KB–50 MB 之间 / photo_max_bytes must be 1024-52428800, "
                f"got {self.photo_max_bytes}"
            )
        if not 0 <= self.workers <= 64 or not 1 <= self.threads <= 64:
            raise ConfigError(
                f"workers 须在 0–64、threads 须在 1–64 之间 / workers must be 0-64 and threads "
                f"1-64, got {self.workers} and {self.threads}"
            )
        basemap = self._check_basemap()
        if self.ingest_aliases and not Path(self.ingest_aliases).is_file():
            raise ConfigError(
                f"找不到别名映射文件 / ingest_aliases: no such file {self.ingest_aliases}"
            )
        return basemap

    def _check_basemap(self) -> Settings:
        """Validate the basemap settings; ``basemap_url`` alone selects ``url``."""
        kind = self.basemap.strip().lower() or "none"
        if kind == "none" and self.basemap_url:
            kind = "url"
        if kind not in BASEMAPS:
            raise ConfigError(
                f"底图只能是 {' / '.join(BASEMAPS)} / basemap must be one of "
                f"{', '.join(BASEMAPS)}, got {self.basemap!r}"
            )
        if self.basemap_url and kind != "url":
            raise ConfigError("basemap_url 仅用于 basemap = url / basemap_url needs basemap = url")
        if kind == "url" and not all(k in self.basemap_url for k in ("{z}", "{x}", "{y}")):
            raise ConfigError("底图地址需包含 {z}/{x}/{y} / basemap_url needs {z}/{x}/{y}")
        if kind in ("mbtiles", "pmtiles"):
            if not self.basemap_path:
                raise ConfigError(
                    f"底图为 {kind} 时需设置 basemap_path / basemap = {kind} needs basemap_path"
                )
            from layers.tiles import TileArchiveError, open_archive

            try:
                open_archive(self.basemap_path, kind).close()
            except TileArchiveError as e:
                raise ConfigError(str(e)) from None
        elif self.basemap_path:
            raise ConfigError(
                "basemap_path 仅用于 mbtiles 或 pmtiles 底图 / basemap_path needs "
                "basemap = mbtiles or pmtiles"
            )
        if kind == "tianditu" and not re.fullmatch(r"[0-9A-Za-z]{16,64}", self.tianditu_key):
            raise ConfigError(
                "天地图底图需设置有效的 tianditu_key / basemap = tianditu needs a tianditu_key "
                "(the tk of your Tianditu developer account)"
            )
        if self.tianditu_style not in TIANDITU_STYLES:
            raise ConfigError(
                f"天地图样式只能是 vec 或 img / tianditu_style must be vec or img, "
                f"got {self.tianditu_style!r}"
            )
        return replace(self, basemap=kind)


def _shown(value: Any) -> str:
    """``value`` as TOML would write it (``true``, ``["a", "b"]``), for messages."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` (from the file, the environment or the command line) as the type of
    ``default``; text is parsed, but a value of another type is an error, not converted."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = value.strip().lower() if isinstance(value, str) else None  # the environment's
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name} 应为布尔值 / {name} must be true or false, got {_shown(value)}")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        msg = f"{name} 应为整数 / {name} must be an integer, got {_shown(value)}"
        raise ConfigError(msg)
    if not isinstance(value, str):
        raise ConfigError(
            f"{name} 应为字符串 / {name} must be a string (in quotes), got {_shown(value)}"
        )
    return value


def _config_file(env: dict[str, str]) -> Path | None:
    """The file named by ``EMBER_CONFIG`` (an error if there is none), else ``./ember.toml``
    when present."""
    named = env.get("EMBER_CONFIG", "")
    if not named:
        default = Path("ember.toml")
        return default if default.is_file() else None
    path = Path(named)
    if path.is_dir():
        raise ConfigError(f"EMBER_CONFIG 指向目录 / EMBER_CONFIG names a directory: {path}")
    if not path.exists():
        raise ConfigError(f"找不到配置文件 / EMBER_CONFIG: no such file: {path}")
    return path


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(
            f"无法读取配置文件 / cannot read the config file {path}: {e.strerror or e}"
        ) from None
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as Windows Notepad writes, is fine
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"配置文件须为 UTF-8 编码（第 {line} 行无法解码），请另存为 UTF-8 / the config file "
            f"{path} is not UTF-8 (line {line} cannot be decoded; TOML must be UTF-8): "
            "save it as UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"配置文件格式错误 / bad config file {path}: {e}") from None


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the config file and ``EMBER_*`` variables; ``overrides`` (from the CLI) win."""
    env = dict(os.environ) if env is None else env
    defaults = Settings()
    values: dict[str, Any] = {}
    cfg_path = _config_file(env)
    if cfg_path is not None:
        data = _read_config(cfg_path)
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
