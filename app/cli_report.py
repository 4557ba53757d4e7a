"""``ember report daily|weekly|monthly [--date D] [--out FILE.xlsx] [--json]``: the review.

The same function as the ``/reports`` page (:func:`app.reports.build_report`) over the whole
store, personal data masked. Without ``--out`` the town's KPIs are printed; with ``--out`` the
.xlsx is written too; ``--json`` prints the whole report as one JSON document. Each run is
written to the audit log.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from app import report_output, reports
from app._cli_io import emit, log
from app.config import Settings
from layers.exporter import replacing
from store import Scope, open_store


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def _as_of(text: str | None) -> datetime:
    """``--as-of``: an aware time (Asia/Shanghai unless it says otherwise), default now."""
    if not text:
        return datetime.now(UTC)
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        raise ValueError(f"--as-of 无法识别 / --as-of is not a time: {text!r}") from None
    ts = ts.tz_localize("Asia/Shanghai") if ts.tzinfo is None else ts
    return ts.to_pydatetime()


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Build the review, print or write it."""
    as_of = _as_of(args.as_of)
    day = reports.parse_day(args.date, args.kind, as_of)
    store = open_store(settings.db, create=False)
    actor = _actor()
    log(f"生成报表 / building the {args.kind} report for {day} …")
    report = reports.build_report(store, args.kind, day, scope=Scope.everything(actor), as_of=as_of)
    doc = report_output.to_json(report)
    text = "\n".join(report_output.summary_lines(report))
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".xlsx":
            raise ValueError(f"--out 须为 .xlsx 文件 / --out must end in .xlsx: {out}")
        with replacing([out]) as stage:  # a failed write leaves the earlier file whole
            report_output.to_xlsx(report, stage(out))
        doc["out"] = str(out)
        text += f"\n已写入 / written to {out}"
    store.audit(
        actor,
        "report",
        detail={"kind": args.kind, "period": report.period, "out": bool(args.out)},
    )
    emit(args, doc, text)
    return 0


def add_report_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember report``."""
    p = sub.add_parser(
        "report", help="daily / weekly / monthly review 天天推进、周周闭环、月月改进"
    )
    p.add_argument("kind", choices=list(reports.KINDS))
    p.add_argument(
        "--date",
        help="any day of the period, YYYY-MM-DD (default: yesterday, last week, last month)",
    )
    p.add_argument("--as-of", help="count outcomes as known at this time (default: now)")
    p.add_argument("--out", help="write the report as .xlsx to this file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_report)


__all__ = ["add_report_commands"]
