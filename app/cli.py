"""The ``ember`` command line: one entry point, sub-commands per DESIGN.md.

With ``--json`` a command prints exactly one JSON document on stdout; progress and logs go to
stderr. Errors print a bilingual message on stderr and exit non-zero (2 for bad input).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from app._cli_io import emit, log, report_problems
from app.config import ConfigError, Settings, load_settings
from layers._schema import LayerValidationError
from store import StoreError

Handler = Callable[[argparse.Namespace, Settings], int]


def _demo_end(text: str | None) -> pd.Timestamp | None:
    """``--end``: a date or time (Asia/Shanghai unless it says otherwise), or ``now``."""
    if text is None:
        return None
    if text == "now":
        return pd.Timestamp.now(tz="Asia/Shanghai").floor("min")
    try:
        end = pd.Timestamp(text)
    except ValueError:
        raise ValueError(f"--end 无法识别 / --end is not a date or time: {text!r}") from None
    return end.tz_localize("Asia/Shanghai") if end.tzinfo is None else end


def _refuse_stored_incidents(url: str) -> None:
    """A demo build goes into a PostGIS store without incidents: its incidents would collide
    with those stored (after the layers were replaced), so refuse before writing anything."""
    from store import IncidentQuery, Scope, open_store

    store = open_store(url)
    try:
        n = store.count_incidents(IncidentQuery(), Scope.everything("ember demo"))
    finally:
        store.close()
    if n:
        raise StoreError(
            f"存储中已有 {n} 件事项，演示镇只能写入没有事项的数据库，未作任何改动；"
            "请新建一个空数据库（createdb，再 CREATE EXTENSION postgis）后运行 "
            f"ember demo --out <其地址> / the store already holds {n} incidents: the demo town "
            "goes only into a database without incidents (nothing was changed); create an empty "
            "one (createdb, then CREATE EXTENSION postgis) and run ember demo --out with its URL"
        )


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth.demo import accounts_path, make_demo_accounts, write_accounts_file
    from layers.demo import build_demo
    from layers.importer import validate_layers
    from store import open_store

    out = str(args.out or settings.db)
    if out.startswith(("postgresql://", "postgres://")):
        _refuse_stored_incidents(out)  # a GeoPackage is deleted and built anew (below)
    t0 = time.perf_counter()
    log(f"生成演示镇 / building the demo town (seed={args.seed}, incidents={args.incidents}) …")
    frames = build_demo(seed=args.seed, n_incidents=args.incidents, end=_demo_end(args.end))
    problems = validate_layers(frames)
    if problems:
        raise LayerValidationError(problems)
    if not out.startswith(("postgresql://", "postgres://")):
        # A demo build replaces the whole embedded store, with any WAL a crash left behind
        # (SQLite would otherwise replay it onto the new file).
        for suffix in ("", "-wal", "-shm"):
            Path(out + suffix).unlink(missing_ok=True)
    store = open_store(out)
    store.write_layers(frames)
    # The wall needs a signed-in user: demo accounts with random passwords (app.auth.demo).
    accounts = make_demo_accounts(store, frames)
    accounts_file = write_accounts_file(accounts_path(out), accounts, out)
    counts = {name: len(frame) for name, frame in frames.items()}
    grids = frames["grid_cells"]
    doc = {
        "out": str(out),
        "seed": args.seed,
        "layers": counts,
        "migrants": int(grids["migrant_pop"].sum()),
        "registered": int(grids["registered_pop"].sum()),
        "seconds": round(time.perf_counter() - t0, 2),
        "accounts_file": str(accounts_file),
        "accounts": [a.doc() for a in accounts],
    }
    lines = [f"演示镇已写入 / demo town written to {out} ({doc['seconds']} s)"]
    lines += [f"  {name:<24}{n:>8}" for name, n in counts.items()]
    lines.append(
        f"  流动人口 migrants {doc['migrants']:,} · 户籍人口 registered {doc['registered']:,}"
    )
    lines.append(f"演示账号（随机密码，另存于 {accounts_file}，仅本人可读）/ demo accounts")
    lines.append(f"(random passwords, also kept in {accounts_file}, mode 0600); sign in at /login:")
    lines += [
        f"  {a.username:<12}{a.role:<12}{','.join(a.areas) or '-':<18}{a.password}"
        for a in accounts
    ]
    emit(args, doc, "\n".join(lines))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.production:
        from app.wsgi import serve_production

        serve_production(settings)
        return 0
    from app.server import serve

    serve(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from app.cli_admin import add_admin_commands
    from app.cli_apikey import add_apikey_commands
    from app.cli_assign import add_assign_commands
    from app.cli_export import add_export_commands
    from app.cli_geo import add_geocode_commands
    from app.cli_hotspots import add_hotspots_commands
    from app.cli_ingest import add_ingest_commands
    from app.cli_layers import add_layers_commands
    from app.cli_report import add_report_commands
    from app.cli_users import add_users_commands

    parser = argparse.ArgumentParser(
        prog="ember",
        description="Ember 非警务事项 GIS 态势平台 / situational awareness for non-police affairs",
    )
    parser.add_argument("--db", help="store: GeoPackage path or postgresql:// URL (EMBER_DB)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build the demo town 生成演示镇")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", help="GeoPackage to write (default: EMBER_DB)")
    p.add_argument("--incidents", type=int, default=6000, help="number of incidents (default 6000)")
    p.add_argument(
        "--end", help="end of the demo year: a date, a time or 'now' (default 2026-12-01, fixed)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("serve", help="serve the app 启动服务")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--production", action="store_true", help="gunicorn with several workers, JSON logs"
    )
    p.add_argument(
        "--workers", type=int, help="gunicorn workers (EMBER_WORKERS; default 2×cores+1)"
    )
    p.add_argument("--threads", type=int, help="threads per worker (EMBER_THREADS; default 4)")
    p.set_defaults(handler=cmd_serve)

    add_layers_commands(sub)
    add_geocode_commands(sub)
    add_assign_commands(sub)
    add_ingest_commands(sub)
    add_users_commands(sub)
    add_hotspots_commands(sub)
    add_report_commands(sub)
    add_apikey_commands(sub)
    add_export_commands(sub)
    add_admin_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ember`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides = {
        "db": args.db,
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "workers": getattr(args, "workers", None),
        "threads": getattr(args, "threads", None),
    }
    try:
        settings = load_settings(**overrides)
        handler: Handler = args.handler
        return handler(args, settings)
    except LayerValidationError as e:
        report_problems(args, e.problems)
        return 2
    except (ConfigError, StoreError, FileNotFoundError, ValueError, KeyError) as e:
        print(f"ember: {e}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nember: 已取消 / cancelled", file=sys.stderr)
        return 130
    except (OSError, sqlite3.Error) as e:  # a read-only or full disk, a directory, not a database
        print(f"ember: 文件或数据库错误 / file or database error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # the store's driver and GDAL: psycopg.Error, pyogrio errors
        if type(e).__module__.split(".")[0] not in ("psycopg", "pyogrio"):
            raise
        print(f"ember: 数据库或 GIS 文件错误 / database or GIS file error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
