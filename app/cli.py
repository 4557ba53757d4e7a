"""The ``ember`` command line: one entry point, sub-commands per DESIGN.md.

With ``--json`` a command prints exactly one JSON document on stdout; progress and logs go to
stderr. Errors print a bilingual message on stderr and exit non-zero (2 for bad input).
"""

from __future__ import annotations

import argparse
import errno
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import pandas as pd

from app._cli_io import emit, log, report_problems
from app._cli_types import whole
from app.config import ConfigError, Settings, load_settings
from layers._schema import LayerValidationError
from store import StoreError
from store.base import is_store_error

Handler = Callable[[argparse.Namespace, Settings], int]

#: Chinese for argparse's usual complaints (its own messages are in English).
_ARGPARSE_ZH: tuple[tuple[str, str], ...] = (
    ("invalid choice", "取值无效"),
    ("the following arguments are required", "缺少必需的参数"),
    ("unrecognized arguments", "无法识别的参数"),
    ("expected one argument", "缺少取值"),
    ("expected at least one argument", "缺少取值"),
    ("invalid int value", "应为整数"),
    ("invalid float value", "应为数字"),
    ("not allowed with argument", "不能同时使用"),
    ("ambiguous option", "选项不明确"),
)


class EmberArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors say "参数错误 / bad arguments" (with the Chinese for
    argparse's usual complaints) and exit 2; sub-command parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        zh = next((text for en, text in _ARGPARSE_ZH if en in message), "")
        self.print_usage(sys.stderr)
        label = f"参数错误（{zh}）" if zh else "参数错误"
        self.exit(2, f"{self.prog}: {label} / bad arguments: {message}\n")


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


def _check_port(host: str, port: int) -> None:
    """Refuse a port another program listens on, in both languages and before the app is built
    (werkzeug says "Address already in use" in English once it is; gunicorn retries, then
    gives up). The address is found as werkzeug finds it; port 0 takes any free one."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
    except OSError as e:
        raise ConfigError(
            f"无法解析监听地址 / cannot resolve the host to listen on, {host!r}: {e}"
        ) from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            probe.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"端口 {port} 已被占用（另一个 ember serve？），请用 --port 或 "
                    f"EMBER_PORT 另选 / port {port} on {host} is already in use (another "
                    "ember serve?): choose another with --port or EMBER_PORT"
                ) from None
            raise ConfigError(
                f"无法在 {host}:{port} 上监听 / cannot listen on {host}:{port}: {e.strerror or e}"
            ) from None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _check_port(settings.host, settings.port)
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

    parser = EmberArgumentParser(
        prog="ember",
        description="Ember 非警务事项 GIS 态势平台 / situational awareness for non-police affairs",
    )
    parser.add_argument("--db", help="store: GeoPackage path or postgresql:// URL (EMBER_DB)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="build the demo town 生成演示镇")
    p.add_argument("--seed", type=whole(0), default=7)
    p.add_argument("--out", help="GeoPackage to write (default: EMBER_DB)")
    p.add_argument(
        "--incidents", type=whole(1), default=6000, help="number of incidents (default 6000)"
    )
    p.add_argument(
        "--end", help="end of the demo year: a date, a time or 'now' (default 2026-12-01, fixed)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("serve", help="serve the app 启动服务")
    p.add_argument("--host")
    p.add_argument("--port", type=whole(0, 65535), help="0: any free port")
    p.add_argument(
        "--production", action="store_true", help="gunicorn with several workers, JSON logs"
    )
    p.add_argument(
        "--workers",
        type=whole(0, 64),
        help="gunicorn workers (EMBER_WORKERS; 0 or unset: 2×cores+1)",
    )
    p.add_argument(
        "--threads", type=whole(1, 64), help="threads per worker (EMBER_THREADS; default 4)"
    )
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
    except Exception as e:  # the store's driver (psycopg and its pool) and GDAL (pyogrio)
        if not (is_store_error(e) or type(e).__module__.split(".")[0] == "pyogrio"):
            raise
        print(f"ember: 数据库或 GIS 文件错误 / database or GIS file error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
