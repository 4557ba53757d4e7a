"""Backups and restores of either backend, consistent while the app keeps writing.

- **GeoPackage**: SQLite's online backup API (:meth:`sqlite3.Connection.backup`) copies the
  database as of one read transaction — in WAL mode writers go on meanwhile and nothing torn is
  copied — into a temporary file that is checked (``PRAGMA integrity_check``, the schema
  version) and then renamed into place. A restore copies a checked backup into the live file
  through the same API, under the file's write lock, so an app that is still open sees either
  the old database or the restored one.
- **PostGIS**: ``pg_dump --format=custom`` (one snapshot transaction: consistent while others
  write) and ``pg_restore --clean --if-exists --single-transaction`` (all or nothing), the
  client binaries of the installed PostgreSQL.

Nothing here is hand-made where the engines do the job; this module only picks the engine's
tool, checks its result and reports what was copied.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from store._gpkg_sql import schema_version as gpkg_version
from store.base import StoreError
from store.migrations import load
from store.pgtemp import find_pg_bin

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(StoreError):
    """A backup or restore failed or would be wrong; the message is bilingual."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds: its file, kind, size, schema version and incident count."""

    path: str
    kind: str  # "gpkg" or "pg_dump"
    bytes: int
    schema_version: int
    incidents: int | None


def redact_url(url: str) -> str:
    """A store URL fit to print or log: the password of a PostgreSQL URL hidden (in the user
    part, or as libpq's ``password=`` parameter)."""
    url = re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)
    return re.sub(r"(?<=[?&])password=[^&]*", "password=***", url)


def read_only_uri(path: Path) -> str:
    """An SQLite URI that opens exactly ``path``, read-only: a ``#``, ``?`` or ``%`` in the path
    is escaped (``file:{path}`` read ``town#1.gpkg`` as ``town`` with a fragment, and opened a
    new, empty database there)."""
    return path.resolve().as_uri() + "?mode=ro"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def backup(url: str, dest: str | Path, *, force: bool = False) -> BackupInfo:
    """Copy the store at ``url`` to the file ``dest`` (an existing ``dest`` is replaced, in one
    step, only with ``force``; never the store itself).

    Raises
    ------
    BackupError
        The store cannot be read, the copy fails its check, pg_dump fails, or ``dest`` exists
        (without ``force``) or is the store.
    """
    dest = Path(dest)
    if not is_postgres(url) and dest.resolve() == Path(url).resolve():
        raise BackupError(
            f"备份不能写到存储文件本身 / a backup cannot replace the store itself: {dest}"
        )
    if dest.is_dir():
        raise BackupError(f"{dest} 是目录，请给出文件名 / {dest} is a directory: name a file")
    if dest.exists() and not force:
        raise BackupError(
            f"{dest} 已存在；要覆盖请加 --force / {dest} exists: add --force to replace it"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        if is_postgres(url):
            _run("pg_dump", "--format=custom", "--no-owner", f"--file={tmp}", f"--dbname={url}")
            info = _pg_info(tmp)
        else:
            _sqlite_copy(_existing(url), tmp, rollback_journal=True)
            info = _gpkg_info(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(
        str(dest), info.kind, dest.stat().st_size, info.schema_version, info.incidents
    )


def restore(src: str | Path, url: str) -> BackupInfo:
    """Replace the store at ``url`` with the backup ``src`` (made by :func:`backup`).

    A GeoPackage backup restores into a GeoPackage path, a pg_dump archive into a PostgreSQL
    database (which must exist, with the PostGIS extension available). The backup is checked
    before anything is replaced.

    Raises
    ------
    BackupError
        The file is not a backup of that kind, fails its check, or pg_restore fails.
    FileNotFoundError
        No such backup file.
    """
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"找不到备份文件 / no such backup: {src}")
    head = src.read_bytes()[:16]
    if is_postgres(url):
        if not head.startswith(PG_MAGIC):
            raise BackupError(
                f"{src.name} 不是 pg_dump 备份，不能恢复到 PostGIS / "
                f"{src.name} is not a pg_dump archive: cannot restore it into PostGIS"
            )
        info = _pg_info(src)
        _run("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
             f"--dbname={url}", str(src))  # fmt: skip
        return info
    if not head.startswith(SQLITE_MAGIC):
        raise BackupError(
            f"{src.name} 不是 GeoPackage 备份 / {src.name} is not a GeoPackage backup"
        )
    info = _gpkg_info(src)
    target = Path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(src, target)
    return BackupInfo(str(target), info.kind, info.bytes, info.schema_version, info.incidents)


# --- GeoPackage ----------------------------------------------------------------------------


def _existing(url: str) -> Path:
    path = Path(url)
    if not path.is_file():
        raise BackupError(f"找不到存储文件 / no such store: {path}")
    return path


def _sqlite_copy(src: Path, dest: Path, *, rollback_journal: bool = False) -> None:
    """The whole database ``src`` into ``dest`` in one step of the online backup API;
    ``rollback_journal``: the copy leaves WAL mode (a backup: it then opens read-only without
    ``-wal`` and ``-shm`` files beside it, also from read-only media)."""
    source = sqlite3.connect(read_only_uri(src), uri=True, timeout=30)
    target = sqlite3.connect(dest, timeout=30)
    try:
        # SQLite cannot give a database in WAL mode another page size: a restore of a backup
        # whose pages differ (an older store's, or one VACUUMed by another tool) leaves WAL for
        # the copy and comes back to it after
        resize = _mode(target) == "wal" and _page_size(source) != _page_size(target)
        if resize and not _leave_wal(target):
            raise BackupError(
                "备份的页大小与存储不同，须在存储无人使用时恢复，请先停止 ember serve 等进程 / the "
                "backup's page size differs from the store's: it can be restored only while "
                "nothing else has the store open (stop ember serve and the like first)"
            )
        source.backup(target)  # pages=-1: one step, one consistent read of the source
        if rollback_journal:
            target.execute("PRAGMA journal_mode = DELETE")
        elif resize:
            target.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"复制数据库失败 / copying the database failed: {exc}") from exc
    finally:
        target.close()
        source.close()


def _mode(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()


def _leave_wal(conn: sqlite3.Connection) -> bool:
    """Switch to a rollback journal; False when another connection keeps the database in WAL."""
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError:  # locked: a reader in a transaction
        return False
    return str(mode).lower() != "wal"


def _page_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA page_size").fetchone()[0])


def _gpkg_info(path: Path) -> BackupInfo:
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"备份损坏 / the backup is damaged: {check}")
        version = gpkg_version(conn)
        has = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'"
        ).fetchone()
        n = conn.execute("SELECT count(*) FROM incidents").fetchone()[0] if has else None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"不是可用的 GeoPackage / not a usable GeoPackage: {exc}") from exc
    finally:
        conn.close()
    if n is None or version == 0:  # any other SQLite file would replace the store
        raise BackupError(
            f"{path.name} 中没有 Ember 的事项表，不是 Ember 的备份 / {path.name} holds no Ember "
            "incidents table: not an Ember backup"
        )
    _check_version(version, len(load("gpkg")))
    return BackupInfo(str(path), "gpkg", path.stat().st_size, version, n)


# --- PostGIS -------------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = find_pg_bin()
    exe = (found / name) if found is not None and (found / name).is_file() else shutil.which(name)
    if exe is None:
        raise BackupError(
            f"找不到 {name}，请安装 PostgreSQL 客户端 / {name} not found: install the PostgreSQL "
            "client binaries (Debian: postgresql-client)"
        )
    return str(exe)


def _run(name: str, *args: str) -> str:
    done = subprocess.run([_tool(name), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # the URL may hold a password: never echo the command line, only the tool's message
        raise BackupError(f"{name} 失败 / {name} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _pg_info(path: Path) -> BackupInfo:
    """Check a pg_dump archive: it lists, holds an incidents table, and its schema version (read
    from its ``schema_migrations`` data) is one this Ember knows."""
    listing = _run("pg_restore", "--list", str(path))
    if "TABLE public incidents " not in listing:
        raise BackupError(
            f"{path.name} 中没有事项表，不是 Ember 的备份 / {path.name} holds no incidents table: "
            "not an Ember backup"
        )
    data = _run("pg_restore", "--data-only", "--table=schema_migrations", "--file=-", str(path))
    version = 0
    copying = False
    for line in data.splitlines():
        if line.startswith("COPY ") and "schema_migrations" in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying and line.split("\t", 1)[0].isdigit():
            version = max(version, int(line.split("\t", 1)[0]))
    _check_version(version, len(load("postgis")))
    return BackupInfo(str(path), "pg_dump", path.stat().st_size, version, None)


def _check_version(version: int, known: int) -> None:
    if version > known:
        raise BackupError(
            f"备份来自更新的版本（模式 {version}，本程序认识到 {known}）/ the backup comes from a "
            f"newer Ember (schema {version}; this one knows up to {known})"
        )
