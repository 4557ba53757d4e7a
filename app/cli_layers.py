"""``ember layers import|export``: loading a town's real layers and writing them out."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyogrio

from app._cli_io import emit, report_problems
from app.config import Settings
from layers.exporter import FORMATS, export_layers
from layers.importer import (
    COORD_SYSTEMS,
    read_source,
    validate_layers,
    write_rejected,
)
from layers.registry import SPECS
from store import open_store
from store.backup import is_postgres, redact_url


def _kinds_in(path: Path, kind: str | None, layer: str | None) -> list[tuple[str, str | None]]:
    """(Ember kind, file layer) pairs to read from ``path``."""
    if kind:
        return [(kind, layer)]
    if path.suffix.lower() == ".gpkg":
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
        found: list[tuple[str, str | None]] = [(n, n) for n in names if n in SPECS]
        if found:
            return found
    if path.stem in SPECS:
        return [(path.stem, layer)]
    raise ValueError(
        f"无法判断 {path.name} 的图层类型，请用 --kind 指明 / cannot tell which layer {path.name} "
        f"is; say --kind ({', '.join(SPECS)})"
    )


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        src, sep, dst = pair.partition("=")
        if not sep or not src or not dst:
            raise ValueError(f"--map 应为 源字段=字段 / --map takes SOURCE=TARGET, got {pair!r}")
        out[src] = dst
    return out


#: Said after an import: a running watcher, and a running server's intake (pushes, manual
#: placement), see the store's layers version change and build their town again; the wall's
#: map layers are drawn from what the server read when it started.
RESTART = (
    "正在运行的 ember watch 与服务的受理（推送、人工定位）随即使用新图层；大屏地图上的图层在重启 "
    "ember serve 后更新 / a running ember watch and the server's intake (pushes, manual "
    "placement) use the new layers at once; restart ember serve to draw them on the wall's map"
)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.db)
    mapping = _mapping(args.map or [])
    incoming: dict[str, pd.DataFrame] = {}
    for raw in args.paths:
        path = Path(raw)
        for kind, layer in _kinds_in(path, args.kind, args.layer):
            incoming[kind] = read_source(
                path, kind, layer=layer, encoding=args.encoding, coords=args.coords, mapping=mapping
            )
    targets = {f for kind in incoming for f in SPECS[kind].field_names}
    unknown = sorted(set(mapping.values()) - targets)
    if unknown:
        raise ValueError(f"--map 目标字段不存在 / --map targets no field: {', '.join(unknown)}")
    merged: dict[str, pd.DataFrame] = dict(incoming)
    if not args.alone:
        for name in store.layer_names():  # the town's other layers, checked with the new
            town = name != "incidents"  # (no rule needs the incidents, read whole otherwise)
            if town and name in SPECS and name not in merged and SPECS[name].geometry is not None:
                merged[name] = store.read_layer(name)
    problems = validate_layers(merged)
    if problems:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        # beside a GeoPackage store; under var/ for PostGIS (a URL is no directory, and its
        # password must not end up in a path that is printed)
        base = Path("var") if is_postgres(settings.db) else Path(settings.db).parent
        target = base / "quarantine" / f"layers-{stamp}.gpkg"
        bad = {p.layer for p in problems}
        for kind, frame in incoming.items():
            if kind in bad:
                write_rejected(frame, [p for p in problems if p.layer == kind], target, kind)
        kept = {"rejected_copy": str(target)} if bad & set(incoming) else {}
        report_problems(args, problems, **kept)
        return 2
    counts = {k: len(v) for k, v in incoming.items()}
    if not args.dry_run:
        store.write_layers(incoming)
    where = redact_url(store.url)
    verb = "检查通过 / valid (dry run)" if args.dry_run else f"已导入 / imported into {where}"
    text = verb + "\n" + "\n".join(f"  {k:<24}{n:>8}" for k, n in counts.items())
    if not args.dry_run:
        text += "\n" + RESTART
    emit(args, {"ok": True, "dry_run": args.dry_run, "layers": counts}, text)
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.db)
    names = args.layer or [n for n in store.layer_names() if n in SPECS and n != "incidents"]
    frames = {n: store.read_layer(n) for n in names}
    written = export_layers(frames, args.out, args.format, encoding=args.encoding, epsg=args.epsg)
    doc = {
        "ok": True,
        "files": [str(p) for p in written],
        "layers": {n: len(f) for n, f in frames.items()},
    }
    emit(args, doc, "已导出 / exported:\n" + "\n".join(f"  {p}" for p in written))
    return 0


def add_layers_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember layers import|export``."""
    layers = sub.add_parser("layers", help="import / export layers 图层导入导出")
    lsub = layers.add_subparsers(dest="layers_command", required=True)

    p = lsub.add_parser("import", help="load real layers (GeoPackage, GeoJSON, Shapefile)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--kind", choices=list(SPECS), help="Ember layer of a single-layer file")
    p.add_argument("--layer", help="layer inside a multi-layer file")
    p.add_argument("--encoding", help="Shapefile text encoding (GBK, UTF-8); detected if omitted")
    p.add_argument("--coords", choices=COORD_SYSTEMS, help="what the lon/lat values are")
    p.add_argument("--map", action="append", metavar="SRC=DST", help="column mapping, repeatable")
    p.add_argument("--alone", action="store_true", help="validate without the store's other layers")
    p.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_import)

    p = lsub.add_parser("export", help="write layers out")
    p.add_argument("--out", required=True)
    p.add_argument("--format", choices=FORMATS, default="gpkg")
    p.add_argument("--layer", action="append", choices=list(SPECS))
    p.add_argument("--encoding", default="UTF-8", help="Shapefile encoding: UTF-8 or GBK")
    p.add_argument("--epsg", type=int, choices=(4326, 4490), default=4326)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_export)


__all__ = ["add_layers_commands"]
