"""The secret key that signs session cookies and CSRF tokens.

``EMBER_SECRET_KEY`` (``Settings.secret_key``) in production: the same value for every worker
and host. Without it, a development run generates a random key once and keeps it in a file
readable only by its owner, beside the GeoPackage (``var/`` by default, or ``var/`` for a
PostGIS URL), so that sessions survive a restart and several local workers agree.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from app.config import Settings

log = logging.getLogger(__name__)
KEY_FILE = "secret_key"


def key_path(settings: Settings) -> Path:
    """Where a generated key is kept for ``settings``."""
    if settings.db.startswith(("postgresql://", "postgres://")):
        return Path("var") / KEY_FILE
    return Path(settings.db).parent / KEY_FILE


def secret_key(settings: Settings) -> str:
    """``settings.secret_key``, or the generated development key (made on first use)."""
    if settings.secret_key:
        return settings.secret_key
    path = key_path(settings)
    if not path.is_file():
        _generate(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(
            f"密钥文件无效：{path}（删除后重启）/ bad secret key file {path}: delete it and restart"
        )
    return key


def _generate(path: Path) -> None:
    """Write a new key to ``path`` atomically (a hard link never replaces another worker's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return  # another worker was first: use its key
    finally:
        tmp.unlink(missing_ok=True)
    log.warning(
        "未设置 EMBER_SECRET_KEY，已生成开发用密钥 / no EMBER_SECRET_KEY: generated a "
        "development key in %s (set EMBER_SECRET_KEY in production)",
        path,
    )
