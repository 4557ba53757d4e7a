"""``ember watch DIR``: import feed files as they are dropped into a directory.

A polling loop on the standard library alone (no inotify dependency; a 110 system exports every
few minutes, so polling every few seconds costs nothing). A file is taken once it has not changed
for ``settle`` seconds (a writer still copying it is left alone); files whose names start with
``.`` or end in ``.tmp`` / ``.part`` are never taken, which is how a careful exporter writes,
nor ``~$NAME.xlsx``: the owner file Excel and WPS keep beside a workbook open for editing.
After the import the file is moved with :func:`os.replace` — atomic within one file system — to
``done/`` (rows stored, updated, duplicates or quarantined: the file was read) or ``failed/``
(the file as a whole could not be read; the reason goes next to it in ``NAME.error.txt``).
A file that changed while it was imported (a newer export renamed over it under the same name,
or one written on in place after a pause longer than ``settle``) is not moved: what was read is
stored, and the file is taken again once it settles (the rows read before come back as
duplicates), rather than moved to done/ with rows nobody read.
One watcher a directory: :func:`watch` holds a lock on ``.ember-watch.lock`` in it (a POSIX
record lock: the kernel lets it go when the process ends, however it ends), and a second
watcher of the same directory is refused (:class:`WatchBusy`) instead of reading every file
twice.
When the store or the disk fails the file stays where it is and is tried again at the next
poll, however long that lasts (so is a directory that cannot be listed: ``on_error`` is told
of it, with the directory for the file), and the pass ends there: the files after it wait, so
that exports are still imported in the order they came (a newer export imported before an
older one that failed for a moment would have the older one's rows amend it, its calls' text
and places turned back). Any other failure is a program error this file runs into — as is the
database refusing this file's values (a data or constraint error of the driver's): it is tried
:data:`ATTEMPTS` times, then moved to ``failed/`` with the error beside it, so that it neither
blocks the files after it nor is retried (and logged) every poll for good; once the program is
fixed the file is put back (importing is idempotent: what a failed attempt stored comes back as
duplicates). A crash between the import and the move is harmless for the same reason: the file
is imported again (all duplicates) and then moved.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingest._writer import WriterDied, WriterFailed
from ingest.formats import FormatError
from ingest.pipeline import IngestContext, IngestSummary, ingest_file
from store.base import DuplicateIncident, IncidentStore, WriteRefused, is_store_error

#: Polls at which a file that runs into a program error is tried before it goes to failed/.
ATTEMPTS = 3
#: The database refusing a file's values, at every attempt (see :func:`_refused_values`): the
#: store's own word for it, or the driver's error when it comes through unwrapped.
_VALUE_ERRORS = (
    WriteRefused,
    sqlite3.DataError,
    sqlite3.IntegrityError,
    psycopg.DataError,
    psycopg.IntegrityError,
)
SUFFIXES = (".csv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson")
SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")
#: Names never taken: hidden files, and Office's (Excel's, WPS's) owner files of open workbooks.
SKIP_PREFIXES = (".", "~$")


#: The lock file of a watched directory (hidden: never taken as an export).
LOCK = ".ember-watch.lock"


class WatchBusy(RuntimeError):
    """Another process watches the directory already (message bilingual)."""


@dataclass
class WatchResult:
    """One file taken: where it went and what the import said (or why it failed)."""

    file: str
    #: None: the file changed while it was imported, and is left to be taken again
    moved_to: str | None
    summary: IngestSummary | None = None
    error: str | None = None


def candidates(directory: Path, settle: float, now: float | None = None) -> list[Path]:
    """Files ready to import, oldest first."""
    now = time.time() if now is None else now
    out = []
    for p in directory.iterdir():
        name = p.name.lower()
        if not p.is_file() or name.startswith(SKIP_PREFIXES) or name.endswith(SKIP_SUFFIXES):
            continue
        if not name.endswith(SUFFIXES):
            continue
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        if now - st.st_mtime >= settle:
            out.append((st.st_mtime, p.name, p))
    return [p for _, _, p in sorted(out)]


Version = tuple[int, int, int, int]


def version_of(path: Path) -> Version | None:
    """What tells one version of a file from the next under the same name (device, inode,
    size, modification time), or None when there is no file by that name."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def move(path: Path, target_dir: Path, version: Version | None = None) -> Path | None:
    """Move ``path`` into ``target_dir`` atomically, never overwriting an earlier file; with
    ``version``, only if the file is still that one (else None, the file left where it is)."""
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    if version is not None and version_of(path) != version:
        return None
    os.replace(path, target)
    return target


def process_file(
    path: Path,
    fmt: str,
    store: IncidentStore,
    context: IngestContext,
    *,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> WatchResult:
    """Import one file and move it to done/ or failed/ beside it (left where it is when it
    changed meanwhile: see :func:`version_of`)."""
    version = version_of(path)
    try:
        summary = ingest_file(path, fmt, store, context, encoding=encoding, aliases=aliases)
    except (FormatError, UnicodeError) as exc:
        return to_failed(path, str(exc), version)
    target = move(path, path.parent / "done", version)
    return WatchResult(path.name, None if target is None else str(target), summary)


def to_failed(path: Path, message: str, version: Version | None = None) -> WatchResult:
    """Move ``path`` to failed/ beside it, ``message`` in ``NAME.error.txt`` next to it (with
    ``version``: only if the file is still that one, see :func:`move`)."""
    target = move(path, path.parent / "failed", version)
    if target is None:
        return WatchResult(path.name, None)
    (target.parent / f"{target.name}.error.txt").write_text(message + "\n", encoding="utf-8")
    return WatchResult(path.name, str(target), None, message)


def _retried(exc: Exception) -> bool:
    """Whether a failure is the store's or the disk's (tried again every poll, however long),
    not a program error the file runs into (one in the writer process included, or the writer
    process dying on it) nor the database refusing the file's own values."""
    if isinstance(exc, (WriterFailed, WriterDied)) or _refused_values(exc):
        return False
    return is_store_error(exc)


def _refused_values(exc: BaseException) -> bool:
    """Whether the database refused values of the file (:class:`~store.base.WriteRefused`, a
    driver's data or constraint error, or an error raised from one): the same at every poll,
    however healthy the store.
    Another writer's rows met again and again (:class:`DuplicateIncident`) are not."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, DuplicateIncident):
        if isinstance(seen, _VALUE_ERRORS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def only_watcher(directory: Path) -> Iterator[None]:
    """Hold ``directory``'s watch lock for the block.

    A POSIX record lock (``lockf``), not ``flock``: it belongs to this process alone, so the
    writer and town processes an import forks do not hold it after it ends.

    Raises
    ------
    WatchBusy
        Another process holds it (its pid is said).
    OSError
        The directory cannot be written (no lock file, and no done/ either).
    """
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise WatchBusy(
                f"另一个 ember watch（进程 {holder}）正在监视此目录 / another ember watch "
                f"(pid {holder}) is watching this directory: {directory}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # the lock goes with it


def watch(
    directory: str | Path,
    fmt: str,
    store: IncidentStore,
    context: IngestContext | None = None,
    *,
    once: bool = False,
    interval: float = 5.0,
    settle: float = 2.0,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
    on_result: Callable[[WatchResult], None] | None = None,
    on_error: Callable[[Path, Exception], None] | None = None,
    on_reload: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[WatchResult]:
    """Poll ``directory`` every ``interval`` seconds (one pass with ``once``) and import each
    ready file; returns what was taken (kept only with ``once``, so a long watch does not grow).

    Without a ``context`` the town is built from the store's layers, and built again before a
    file when the layers have changed since (``ember layers import`` while the watch runs:
    :meth:`~store.base.Store.layers_version`); ``on_reload`` is told the new version then.

    Raises
    ------
    FileNotFoundError
        No such directory.
    WatchBusy
        Another process watches it.
    OSError
        ``done/`` cannot be made in it (``NotADirectoryError``: a file has its name), or it
        cannot be written.
    """
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"找不到目录 / no such directory: {d}")
    with only_watcher(d):
        _done_dir(d)
        ctx, built = context, -1  # built: the layers version ctx was built from
        results: list[WatchResult] = []
        errors: dict[Path, int] = {}  # program errors met by a file still in the directory
        while True:
            try:
                ready = candidates(d, settle)
            except OSError as exc:  # the inbox gone for a while (a share dropped out): the disk's
                if on_error is not None:
                    on_error(d, exc)
                if once:
                    raise
                ready = []
            for path in ready:
                first = context is None and ctx is None
                if first:  # a store without the town's layers: said (the watch ends), as ever
                    ctx, built = current_town(store, ctx, built)
                try:
                    if context is None and not first:  # the town as the store's layers are now
                        before = built
                        ctx, built = current_town(store, ctx, built)
                        if before != built and on_reload is not None:
                            on_reload(built)
                    assert ctx is not None
                    result = process_file(path, fmt, store, ctx, encoding=encoding, aliases=aliases)
                except Exception as exc:
                    if on_error is not None:
                        on_error(path, exc)
                    if once:
                        raise
                    if _retried(exc):  # the store or the disk: the file stays, tried next poll
                        break  # first again (the files after it wait: exports in their order)
                    errors[path] = errors.get(path, 0) + 1
                    if errors[path] < ATTEMPTS:
                        continue
                    result = to_failed(path, _gave_up(exc))
                errors.pop(path, None)
                if on_result is not None:
                    on_result(result)
                if once:
                    results.append(result)
            errors = {p: n for p, n in errors.items() if p.exists()}  # removed meanwhile: forgotten
            if once or (stop is not None and stop()):
                return results
            time.sleep(interval)


def current_town(
    store: IncidentStore, ctx: IngestContext | None, built: int
) -> tuple[IngestContext, int]:
    """The town of ``store``'s layers as they are now, and their version: ``ctx`` again when it
    was built from that version (``built``), else built anew. The version is read first, so a
    write of layers during the build is seen at the next call, never missed."""
    version = store.layers_version()
    if ctx is not None and version == built:
        return ctx, built
    return IngestContext.from_store(store), version


def _gave_up(exc: Exception) -> str:
    """What goes beside a file moved to failed/ after :data:`ATTEMPTS` program errors."""
    return (
        f"导入时程序出错，已尝试 {ATTEMPTS} 次，程序修复后可将文件放回目录重新导入 / "
        f"a program error on importing it, {ATTEMPTS} attempts; put the file back once the "
        f"program is fixed: {type(exc).__name__}: {exc}"
    )


def _done_dir(directory: Path) -> None:
    """Make ``done/`` before the first file is taken: where it cannot be (a file of that name,
    no room), every file would be imported at every poll and never moved.

    Raises
    ------
    NotADirectoryError
        Something that is no directory has the name (message bilingual).
    """
    done = directory / "done"
    try:
        done.mkdir(exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(
            f"{done} 已存在但不是目录，请移走后重试 / {done} exists and is no directory: move "
            "it away and start again"
        ) from None
