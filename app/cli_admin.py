"""``ember backup``, ``ember restore`` and ``ember migrate``: keeping a store for years.

Each works on the store named by ``--db`` / ``EMBER_DB`` (GeoPackage or PostGIS); the work is done
by :mod:`store.backup` and :mod:`store.upgrade`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from typing import Any

from app._cli_io import emit, log
from app.config import Settings
from store.backup import redact_url


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from store.backup import backup

    t0 = time.perf_counter()
    log(f"备份 / backing up {redact_url(settings.db)} → {args.path} …")
    info = backup(settings.db, args.path, force=args.force)
    doc: dict[str, Any] = {**asdict(info), "seconds": round(time.perf_counter() - t0, 2)}
    count = f", {info.incidents:,} 件事项 incidents" if info.incidents is not None else ""
    emit(
        args,
        doc,
        f"已备份 / backed up: {info.path} ({info.bytes / 1e6:.1f} MB, {info.kind}, "
        f"schema {info.schema_version}{count}, {doc['seconds']} s)",
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from store.backup import restore

    if not args.yes:
        if not sys.stdin.isatty():
            raise ValueError(
                "恢复会替换现有数据，请加 --yes 确认 / a restore replaces the store's data: "
                "confirm with --yes"
            )
        answer = input(f"用 {args.path} 替换 {redact_url(settings.db)} 的全部数据？[y/N] ")
        if answer.strip().lower() not in ("y", "yes", "是"):
            log("已取消 / cancelled")
            return 1
    t0 = time.perf_counter()
    info = restore(args.path, settings.db)
    doc: dict[str, Any] = {
        **asdict(info),
        "store": redact_url(settings.db),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    emit(
        args,
        doc,
        f"已恢复 / restored {args.path} into {redact_url(settings.db)} "
        f"(schema {info.schema_version}; it is brought up to date when next opened)",
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from store.upgrade import upgrade

    report = upgrade(settings.db, dry_run=args.dry_run)
    doc = asdict(report)
    if not report.steps:
        text = f"已是最新 / up to date: schema {report.before} of {report.latest}"
    else:
        verb = "待执行 / would apply" if report.dry_run else "已执行 / applied"
        lines = [f"{verb} ({report.before} → {report.latest}):"]
        lines += [f"  {step}" for step in report.steps]
        text = "\n".join(lines)
    emit(args, doc, text)
    return 0


def add_admin_commands(sub: Any) -> None:
    """Register ``backup``, ``restore`` and ``migrate`` on the ``ember`` parser."""
    p = sub.add_parser("backup", help="back up the store 备份 (consistent while the app runs)")
    p.add_argument("path", help="backup file to write (GeoPackage copy or pg_dump archive)")
    p.add_argument("--force", action="store_true", help="replace an existing file 覆盖已有文件")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="replace the store with a backup 恢复")
    p.add_argument("path", help="a file made by `ember backup`")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser("migrate", help="upgrade the store's schema 升级数据库结构")
    p.add_argument("--dry-run", action="store_true", help="only list the steps that would run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_migrate)
