"""Backups on both backends: taken while a writer keeps adding incidents and events, restored
into a fresh store with nothing torn (every incident with all its events, projections equal to
their events)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from incidents.model import Event
from store import IncidentQuery, Scope, open_store
from store.backup import BackupError, backup, restore
from tests.store.conftest import T0, make_incident

EVERYONE = Scope.everything("test")


def _target(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty place to restore into, of the same backend."""
    if not store_url.startswith("postgresql://"):
        return str(tmp_path / "restored.gpkg")
    import psycopg

    server = request.getfixturevalue("pg_server")
    name = f"ember_restore_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE ember_template")
    url: str = server.url(name)
    return url


def _writer(url: str, stop: threading.Event, written: list[int]) -> None:
    """Add incidents in small batches and a note to each, until ``stop``."""
    store = open_store(url)
    try:
        for k in itertools.count():
            if stop.is_set():
                return
            batch = [make_incident(1000 + k * 5 + i) for i in range(5)]
            store.add_incidents(batch)
            for inc in batch:
                at = inc.received_at + timedelta(minutes=5)
                note = Event(inc.id, 2, "note", at, "writer", data={"text": "跟进"})
                store.append_event(note, 1, EVERYONE)
            written.append(len(batch))
    finally:
        store.close()


def _check_whole(url: str) -> int:
    """Every incident has events 1..version and at least its receive; returns the count."""
    store = open_store(url)
    try:
        frame = store.query_incidents(IncidentQuery(), EVERYONE)
        for inc_id, version in zip(frame["id"], frame["version"], strict=True):
            events = store.events(inc_id, EVERYONE)
            assert [e.seq for e in events] == list(range(1, int(version) + 1)), inc_id
            assert events[0].action == "receive"
        return len(frame)
    finally:
        store.close()


def test_backup_while_writing_restores_whole(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seed = open_store(store_url)
    seed.add_incidents([make_incident(n) for n in range(50)])
    seed.close()
    stop, written = threading.Event(), []
    thread = threading.Thread(target=_writer, args=(store_url, stop, written), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the writer is busy before the backup starts
        before = 50 + 5 * len(written)
        info = backup(store_url, tmp_path / "ember.backup")
        time.sleep(0.3)  # and keeps writing after it
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(written) > 3, "the writer did not write during the backup"
    after = 50 + 5 * len(written)
    assert Path(info.path).stat().st_size == info.bytes > 0
    target = _target(store_url, tmp_path, request)
    restored = restore(tmp_path / "ember.backup", target)
    assert restored.schema_version == info.schema_version > 0
    n = _check_whole(target)
    assert before <= n <= after
    # the restored store is a working store
    again = open_store(target)
    try:
        again.add_incidents([make_incident(9999)])
        assert len(again.query_incidents(IncidentQuery(), EVERYONE)) == n + 1
    finally:
        again.close()


def test_restore_refuses_the_wrong_kind(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seed = open_store(store_url)
    seed.add_incidents([make_incident(1)])
    seed.close()
    backup(store_url, tmp_path / "b.backup")
    other = (
        str(tmp_path / "x.gpkg")
        if store_url.startswith("postgresql://")
        else str(request.getfixturevalue("pg_url"))
    )
    with pytest.raises(BackupError, match=r"GeoPackage|pg_dump"):
        restore(tmp_path / "b.backup", other)
    (tmp_path / "junk.backup").write_bytes(b"not a backup at all")
    with pytest.raises(BackupError):
        restore(tmp_path / "junk.backup", store_url)
    with pytest.raises(FileNotFoundError):
        restore(tmp_path / "missing.backup", store_url)


def test_gpkg_backup_from_a_newer_ember_is_refused(tmp_path: Path) -> None:
    url = str(tmp_path / "ember.gpkg")
    store = open_store(url)
    store.add_incidents([make_incident(1)])
    store.close()
    backup(url, tmp_path / "b.gpkg")
    conn = sqlite3.connect(tmp_path / "b.gpkg")
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', ?)", (T0.isoformat(),))
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="newer Ember"):
        restore(tmp_path / "b.gpkg", str(tmp_path / "restored.gpkg"))
    assert not (tmp_path / "restored.gpkg").exists()


def test_gpkg_restore_over_a_store_in_use(tmp_path: Path) -> None:
    """Restoring over a store whose file is open elsewhere: the other connection then reads
    the restored database."""
    url = str(tmp_path / "ember.gpkg")
    store = open_store(url)
    store.add_incidents([make_incident(n) for n in range(3)])
    backup(url, tmp_path / "three.gpkg")
    store.add_incidents([make_incident(n) for n in range(3, 10)])
    assert len(store.query_incidents(IncidentQuery(), EVERYONE)) == 10
    restore(tmp_path / "three.gpkg", url)
    got: Any = store.query_incidents(IncidentQuery(), EVERYONE)
    assert sorted(got["id"]) == [f"I{n:04d}" for n in range(3)]
    store.close()


def test_gpkg_backup_of_another_page_size_is_restored(tmp_path: Path) -> None:
    """SQLite cannot change the page size of a database in WAL mode: restoring a backup with
    other pages (an older store's, or one VACUUMed by a tool) failed ("attempt to write a
    readonly database"). It is restored, the store back in WAL; while another connection has
    the store open it is refused, the store untouched."""
    url = str(tmp_path / "ember.gpkg")
    store = open_store(url)
    store.add_incidents([make_incident(n) for n in range(3)])
    backup(url, tmp_path / "three.gpkg")
    store.add_incidents([make_incident(n) for n in range(3, 10)])
    with sqlite3.connect(tmp_path / "three.gpkg") as other:
        size = other.execute("PRAGMA page_size").fetchone()[0]
        other.execute(f"PRAGMA page_size = {4096 if size != 4096 else 8192}")
        other.execute("VACUUM")
    reader = sqlite3.connect(url)  # another process reading the store (ember serve)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM incidents").fetchone()
    with pytest.raises(BackupError, match="page size"):
        restore(tmp_path / "three.gpkg", url)
    reader.close()
    assert len(store.query_incidents(IncidentQuery(), EVERYONE)) == 10
    store.close()
    restore(tmp_path / "three.gpkg", url)
    again = open_store(url)
    got: Any = again.query_incidents(IncidentQuery(), EVERYONE)
    assert sorted(got["id"]) == [f"I{n:04d}" for n in range(3)]
    again.close()
    with sqlite3.connect(url) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _seeded(path: Path, n: int = 3) -> str:
    url = str(path)
    store = open_store(url)
    store.add_incidents([make_incident(k) for k in range(n)])
    store.close()
    return url


@pytest.mark.parametrize("name", ["town#1.gpkg", "q?x.gpkg", "pct%3F.gpkg", "空 格.gpkg"])
def test_any_file_name_is_backed_up_and_restored(tmp_path: Path, name: str) -> None:
    """``file:{path}`` read ``town#1.gpkg`` as ``town``: the backup was an empty new database
    and a restore from such a name wiped the store (both said they succeeded)."""
    url = _seeded(tmp_path / name)
    info = backup(url, tmp_path / f"b {name}")
    assert info.incidents == 3
    target = str(tmp_path / f"r {name}")
    assert restore(tmp_path / f"b {name}", target).incidents == 3
    side = [p.name for p in tmp_path.iterdir() if p.name.endswith(("-wal", "-shm"))]
    assert [n for n in side if not n.startswith(name)] == []  # only the live store's


def test_a_backup_opens_read_only_without_side_files(tmp_path: Path) -> None:
    url = _seeded(tmp_path / "ember.gpkg")
    backup(url, tmp_path / "b.gpkg")
    (tmp_path / "b.gpkg").chmod(0o444)
    conn = sqlite3.connect((tmp_path / "b.gpkg").as_uri() + "?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_backup_never_overwrites_unasked_nor_the_store(tmp_path: Path) -> None:
    url = _seeded(tmp_path / "ember.gpkg")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(BackupError, match="--force"):
        backup(url, tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "hello"
    assert backup(url, tmp_path / "notes.txt", force=True).incidents == 3
    with pytest.raises(BackupError, match="store itself"):
        backup(url, url, force=True)
    with pytest.raises(BackupError, match="directory"):
        backup(url, tmp_path)


def test_restore_refuses_a_database_that_is_not_ember(tmp_path: Path) -> None:
    """Any SQLite file replaced the store (its users and incidents gone, "restored")."""
    url = _seeded(tmp_path / "ember.gpkg")
    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    with pytest.raises(BackupError, match="not an Ember backup"):
        restore(tmp_path / "other.sqlite", url)
    store = open_store(url)
    assert len(store.query_incidents(IncidentQuery(), EVERYONE)) == 3
    store.close()


def test_redact_url_hides_every_password() -> None:
    from store.backup import redact_url

    assert redact_url("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    hidden = redact_url("postgresql://u@/db?host=/tmp&password=secret&port=5432")
    assert "secret" not in hidden and hidden.endswith("password=***&port=5432")
