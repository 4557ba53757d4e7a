"""``ember export incidents|layers``: GeoPackage, GeoJSON, Shapefile or .xlsx (issue #9).

The CLI is an operator's tool on the server: it sees the whole store, with personal data masked
unless ``--personal-data`` is given (the store audits that view, and every export is audited).
"""

from __future__ import annotations

import argparse

from app._cli_io import emit
from app.cli_users import _actor
from app.config import Settings
from app.exports import (
    CRS_CHOICES,
    ENCODINGS,
    FORMATS,
    ExportFilters,
    export_incidents,
    export_incidents_geoparquet,
    export_store_layers,
)
from layers.registry import SPECS
from store import Scope, open_store


def cmd_incidents(args: argparse.Namespace, settings: Settings) -> int:
    filters = ExportFilters.parse(args.start, args.end, args.category, args.village, args.state)
    scope = Scope.everything(_actor(), personal_data=args.personal_data)
    if args.geoparquet:
        files, count = export_incidents_geoparquet(
            open_store(settings.db, create=False),
            filters,
            scope,
            args.geoparquet,
            replace=args.force,
        )
    elif args.out:
        files, count = export_incidents(
            open_store(settings.db, create=False),
            filters,
            scope,
            args.out,
            args.format,
            encoding=args.encoding,
            epsg=args.crs,
        )
    else:
        raise ValueError("请给出 --out 或 --geoparquet DIR / give --out FILE or --geoparquet DIR")
    doc = {"ok": True, "files": [str(p) for p in files], "incidents": count}
    masked = (
        "含个人信息 / personal data included" if args.personal_data else "个人信息已脱敏 / masked"
    )
    text = f"已导出 {count} 件事项（{masked}）/ exported {count} incidents:\n"
    emit(args, doc, text + "\n".join(f"  {p}" for p in files))
    return 0


def cmd_layers(args: argparse.Namespace, settings: Settings) -> int:
    files, counts = export_store_layers(
        open_store(settings.db, create=False),
        args.layer,
        args.out,
        args.format,
        encoding=args.encoding,
        epsg=args.crs,
        actor=_actor(),
    )
    doc = {"ok": True, "files": [str(p) for p in files], "layers": counts}
    emit(args, doc, "已导出 / exported:\n" + "\n".join(f"  {p}" for p in files))
    return 0


def _common(p: argparse.ArgumentParser, out_required: bool = True) -> None:
    p.add_argument("--out", required=out_required, help="file (or directory for several layers)")
    p.add_argument("--format", choices=FORMATS, default="gpkg")
    p.add_argument("--encoding", type=str.upper, choices=ENCODINGS, default="UTF-8",
                   help="Shapefile text encoding (GBK for older desktop GIS)")  # fmt: skip
    p.add_argument("--crs", type=int, choices=CRS_CHOICES, default=4326,
                   help="EPSG code: 4326 WGS84 or 4490 CGCS2000")  # fmt: skip
    p.add_argument("--json", action="store_true")


def add_export_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember export incidents|layers``."""
    export = sub.add_parser("export", help="export incidents or layers 导出")
    esub = export.add_subparsers(dest="export_command", required=True)

    p = esub.add_parser("incidents", help="filtered incidents 导出事项")
    p.add_argument("--from", dest="start", help="received from (date or time, Asia/Shanghai)")
    p.add_argument("--to", dest="end", help="received until (a date includes that day)")
    p.add_argument("--category", action="append", help="category code(s), repeatable or a,b")
    p.add_argument("--village", action="append", help="village code(s)")
    p.add_argument("--state", action="append", help="state(s): received, dispatched, …")
    p.add_argument("--personal-data", action="store_true",
                   help="unmasked names and phones (audited) 含个人信息")  # fmt: skip
    p.add_argument("--geoparquet", metavar="DIR",
                   help="GeoParquet partitioned by month and town (instead of --out)")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="replace an earlier export in the --geoparquet DIR 覆盖")  # fmt: skip
    _common(p, out_required=False)
    p.set_defaults(handler=cmd_incidents)

    p = esub.add_parser("layers", help="map layers 导出图层")
    p.add_argument("--layer", action="append", choices=[n for n in SPECS if n != "incidents"])
    _common(p)
    p.set_defaults(handler=cmd_layers)


__all__ = ["add_export_commands"]
