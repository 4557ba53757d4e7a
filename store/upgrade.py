"""``ember migrate``: bring a store made by an older Ember up to this one's schema.

Stores also migrate themselves when opened (the steps in :mod:`store.migrations`, each in its own
transaction, recorded in ``schema_migrations``); this module makes that an explicit, reported
operation for an upgrade: what the store is at, which steps would run, and running them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from store import _gpkg_sql, _pg_sql
from store.backup import is_postgres, read_only_uri
from store.base import StoreError
from store.migrations import load, newer_schema


@dataclass(frozen=True)
class UpgradeReport:
    """Schema versions before and after, and the steps (``NNNN name``) applied or pending."""

    before: int
    after: int
    latest: int
    steps: list[str] = field(default_factory=list)
    dry_run: bool = False


def current_version(url: str) -> int:
    """The schema version of the store at ``url`` (0: empty or not yet a store)."""
    if is_postgres(url):
        import psycopg

        with psycopg.connect(url) as conn:
            return _pg_sql.schema_version(conn)
    path = Path(url)
    if not path.is_file():
        raise StoreError(f"找不到存储文件 / no such store: {path}")
    lite = sqlite3.connect(read_only_uri(Path(path)), uri=True)
    try:
        return _gpkg_sql.schema_version(lite)
    finally:
        lite.close()


def upgrade(url: str, *, dry_run: bool = False) -> UpgradeReport:
    """Apply the steps the store at ``url`` lacks (none with ``dry_run``).

    Raises
    ------
    StoreError
        No such store, or it comes from a newer Ember.
    """
    backend = "postgis" if is_postgres(url) else "gpkg"
    steps = load(backend)
    before = current_version(url)
    if before > len(steps):
        raise newer_schema(before, len(steps))
    pending = [f"{s.version:04d} {s.name}" for s in steps[before:]]
    if dry_run or not pending:
        return UpgradeReport(before, before, len(steps), pending, dry_run)
    if backend == "postgis":
        import psycopg

        with psycopg.connect(url) as conn:
            after = _pg_sql.migrate(conn)
    else:
        lite = _gpkg_sql.connect(Path(url))
        try:
            after = _gpkg_sql.migrate(lite)
        finally:
            lite.close()
    return UpgradeReport(before, after, len(steps), pending)
