"""``ember ingest``, ``ember watch`` and ``ember quarantine``: feeds in, and what could not be
stored. The work is in :mod:`ingest`; these commands parse arguments, call one function each and
render the result (a summary table, or one JSON document with ``--json``)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from app._cli_io import emit, log
from app._cli_types import number, whole
from app.config import Settings
from ingest.formats import FORMATS, load_aliases, mask_raw
from store import QuarantineEntry, open_store


def _aliases(args: argparse.Namespace, settings: Settings) -> dict[str, str] | None:
    path = getattr(args, "aliases", None) or settings.ingest_aliases
    return load_aliases(path, args.format) if path else None


class _Bar:
    """A progress bar on stderr (one line per batch when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label, self.tty = label, sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        text = f"{self.label} [{bar:<30}] {share:4.0%} {done:,}/{total:,}"
        if self.tty:
            print("\r" + text, end="\n" if done >= total else "", file=sys.stderr, flush=True)
        elif done == total or done == 0 or total == 0 or done % 50_000 < 10_000:
            print(text, file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import ingest_file

    store = open_store(settings.db, create=False)
    try:
        summary = ingest_file(
            args.path,
            args.format,
            store,
            encoding=args.encoding,
            aliases=_aliases(args, settings),
            dry_run=args.dry_run,
            batch_size=args.batch_size,
            progress=_Bar(f"导入 ingest {args.format}"),
        )
    finally:
        store.close()
    emit(args, summary.as_dict(), summary.table())
    if not summary.invariant_ok:  # never expected: say so loudly
        log("ember: 计数不平衡 / the counts do not add up: read != stored+updated+dup+quarantined")
        return 1
    return 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.watch import ATTEMPTS, WatchBusy, WatchResult, watch

    def report(r: WatchResult) -> None:
        if r.moved_to is None:
            log(
                f"{r.file}: 导入期间文件有变化（或已被移走），留待下次轮询 / changed (or "
                "taken away) while being imported: left for the next poll"
            )
        elif r.summary is not None:
            s = r.summary
            log(
                f"{r.file} → {r.moved_to}: read {s.read:,} = stored {s.stored:,} + updated "
                f"{s.updated:,} + duplicates {s.duplicates:,} + quarantined {s.quarantined:,}"
            )
        else:
            log(f"{r.file} → {r.moved_to}: {r.error}")

    def failed(path: Any, exc: Exception) -> None:
        if path == Path(args.dir):
            log(f"无法读取目录，下次轮询重试 / cannot list the directory, tried next poll: {exc}")
            return
        log(
            f"{path.name}: 导入失败，下次轮询重试（程序错误 {ATTEMPTS} 次后移至 failed/） / import "
            f"failed, tried again next poll (after {ATTEMPTS} program errors: to failed/): {exc}"
        )

    def reloaded(version: int) -> None:
        log(
            f"图层已更新（版本 {version}），此后按新图层定位 / the layers changed (version "
            f"{version}): files are placed on the new ones"
        )

    store = open_store(settings.db, create=False)
    log(f"监视 / watching {args.dir} ({args.format}) …")
    main = threading.current_thread() is threading.main_thread()  # where signals are handled
    before = signal.signal(signal.SIGTERM, _interrupt) if main else None  # systemctl stop
    try:
        results = watch(
            args.dir,
            args.format,
            store,
            once=args.once,
            interval=args.interval,
            settle=args.settle,
            encoding=args.encoding,
            aliases=_aliases(args, settings),
            on_result=report,
            on_error=failed,
            on_reload=reloaded,
        )
    except KeyboardInterrupt:
        log("已停止，未移走的文件下次再导入 / stopped: a file not moved yet is imported next time")
        return 0
    except WatchBusy as exc:
        log(str(exc))
        return 1
    finally:
        if main:
            signal.signal(signal.SIGTERM, before)
        store.close()
    doc = {
        "files": [
            {
                "file": r.file,
                "moved_to": r.moved_to,
                "error": r.error,
                **({"summary": r.summary.as_dict()} if r.summary else {}),
            }
            for r in results
        ]
    }
    emit(args, doc, f"{len(results)} 个文件 / file(s) processed")
    return 1 if any(r.error for r in results) else 0


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM (``systemctl stop``) stops a watch as Ctrl+C does."""
    raise KeyboardInterrupt


def _entry_doc(e: QuarantineEntry, *, raw: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": e.id,
        "status": e.status,
        "source": e.source,
        "source_id": e.source_id,
        "file": e.file,
        "line": e.line,
        "column": e.column,
        "code": e.code,
        "reason": e.reason,
        "at": e.at.isoformat(),
    }
    if raw:  # masked: the quarantine holds personal data as it arrived
        doc["problems"] = list(e.problems)
        doc["raw"] = mask_raw(e.source, e.raw)
        doc.update(resolved_by=e.resolved_by, incident_id=e.incident_id, note=e.note)
    return doc


def cmd_quarantine_list(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.db, create=False)
    try:
        status = None if args.status == "all" else args.status
        entries = store.quarantine_list(status=status, source=args.source, limit=args.limit)
    finally:
        store.close()
    lines = [f"{len(entries)} 条隔离记录 / quarantine entries ({args.status})"]
    for e in entries:
        where = f"{e.file}:{e.line}" + (f" [{e.column}]" if e.column else "")
        lines.append(f"  #{e.id:<6} {e.status:<9} {e.source:<6} {where}  {e.reason}")
    emit(args, {"entries": [_entry_doc(e, raw=False) for e in entries]}, "\n".join(lines))
    return 0


def cmd_quarantine_show(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.db, create=False)
    try:
        e = store.quarantine_get(args.id)
    finally:
        store.close()
    doc = _entry_doc(e, raw=True)
    lines = [
        f"#{e.id} {e.status} · {e.source} · {e.file}:{e.line}"
        + (f" [{e.column}]" if e.column else ""),
        *(f"  {p['zh']} / {p['en']}" for p in e.problems),
        "  原始行（已脱敏）/ raw row (masked):",
        *(f"    {k}: {v}" for k, v in doc["raw"].items()),
    ]
    emit(args, doc, "\n".join(lines))
    return 0


def _fixes(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"--set 须为 列名=值 / --set needs COLUMN=VALUE, got {pair!r}")
        out[column.strip()] = value
    return out


def cmd_quarantine_retry(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.retry import retry_entries

    store = open_store(settings.db, create=False)
    try:
        ids = None if args.all else args.ids
        if not args.all and not ids:
            raise ValueError("请给出记录编号或 --all / give entry ids or --all")
        results = retry_entries(store, ids, fixes=_fixes(args.set or []), actor=args.actor)
    finally:
        store.close()
    lines = []
    for r in results:
        if r.ok:
            lines.append(f"  #{r.entry_id}: {r.outcome} → {r.incident_id}")
        else:
            lines.append(f"  #{r.entry_id}: 仍无法存储 / still cannot be stored: {r.reason}")
    doc = {"results": [vars(r) for r in results]}
    emit(args, doc, "\n".join(lines) or "没有待处理的记录 / nothing to retry")
    return 0 if all(r.ok for r in results) else 1


def cmd_quarantine_discard(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.db, create=False)
    try:
        e = store.quarantine_resolve(args.id, actor=args.actor, status="discarded", note=args.note)
    finally:
        store.close()
    emit(args, _entry_doc(e, raw=False), f"#{e.id} 已弃置 / discarded")
    return 0


def add_ingest_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    formats = list(FORMATS)

    p = sub.add_parser("ingest", help="import a feed file 导入数据")
    p.add_argument("path", help="CSV (UTF-8/BOM/GBK/GB18030), .xlsx or JSON lines")
    p.add_argument("--format", required=True, choices=formats)
    p.add_argument("--encoding", help="override encoding detection (utf-8, gbk, gb18030, …)")
    p.add_argument("--aliases", help="alias map of column names (JSON or TOML)")
    p.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    p.add_argument("--batch-size", type=whole(1), default=10_000)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("watch", help="import files dropped into a directory 监视目录")
    p.add_argument("dir")
    p.add_argument("--format", required=True, choices=formats)
    p.add_argument("--encoding")
    p.add_argument("--aliases")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument(
        "--interval", type=number(0, above=True), default=5.0, help="seconds between polls"
    )
    p.add_argument("--settle", type=number(0), default=2.0, help="seconds a file must be unchanged")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_watch)

    p = sub.add_parser("quarantine", help="rows that could not be stored 隔离区")
    qs = p.add_subparsers(dest="quarantine_command", required=True)
    q = qs.add_parser("list")
    q.add_argument("--status", default="open", choices=["open", "resolved", "discarded", "all"])
    q.add_argument("--source", choices=formats)
    q.add_argument("--limit", type=whole(1))
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_quarantine_list)
    q = qs.add_parser("show")
    q.add_argument("id", type=int)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_quarantine_show)
    q = qs.add_parser("retry", help="fix (--set COLUMN=VALUE) and replay entries")
    q.add_argument("ids", nargs="*", type=int)
    q.add_argument("--all", action="store_true", help="every open entry")
    q.add_argument("--set", action="append", metavar="COLUMN=VALUE")
    q.add_argument("--actor", default="cli")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_quarantine_retry)
    q = qs.add_parser("discard", help="close an entry without storing it")
    q.add_argument("id", type=int)
    q.add_argument("--note", default="")
    q.add_argument("--actor", default="cli")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_quarantine_discard)
