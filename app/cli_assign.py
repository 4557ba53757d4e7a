"""``ember assign``: trinity codes (网格+警格+智慧消防站) for the lon/lat rows of a CSV.

Every input row is written out, unchanged, with the trinity columns added; a row that cannot be
assigned keeps null codes and says why in ``reason`` (nothing is dropped).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app._cli_io import emit, log
from app.config import Settings
from geo.coords import REASON_CODES, coordinate_reasons, reason_text
from geo.crs import CRS_NAMES, to_wgs84
from geo.trinity import COLUMNS, OUTSIDE_TOWN, TrinityIndex
from layers.exporter import replacing
from store import LayerNotFound, open_store

LON_NAMES = ("lon", "lng", "longitude", "经度", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "y")
#: Tried in order when --encoding is not given: UTF-8 (with or without BOM), then GB18030 (a
#: superset of GBK, what Excel in Chinese writes).
ENCODINGS = ("utf-8-sig", "gb18030")


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    """Every cell as text, so nothing is altered (leading zeros, phone numbers) or lost."""
    if not path.is_file():
        raise FileNotFoundError(f"找不到文件 / no such file: {path}")
    for enc in [encoding] if encoding else ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise ValueError(f"CSV 文件为空 / the CSV file is empty: {path}") from None
    raise ValueError(
        f"无法识别 {path.name} 的编码，请用 --encoding 指明 / cannot decode {path.name}; "
        "say --encoding (UTF-8, GBK, …)"
    )


def _column(frame: pd.DataFrame, wanted: str | None, names: tuple[str, ...], what: str) -> str:
    if wanted:
        if wanted not in frame.columns:
            raise ValueError(f"CSV 中没有列 {wanted!r} / no column {wanted!r} in the CSV")
        return wanted
    by_lower = {str(c).strip().lower(): str(c) for c in frame.columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    raise ValueError(
        f"找不到{'经度' if what == 'lon' else '纬度'}列，请用 --{what} 指明 / no {what} column "
        f"(tried {', '.join(names)}); say --{what} COLUMN. Columns: {', '.join(map(str, frame))}"
    )


def _index(settings: Settings) -> TrinityIndex:
    store = open_store(settings.db, create=False)
    layers = {}
    for name in ("grid_cells", "police_beats", "fire_stations", "fire_station_coverage", "town"):
        try:
            layers[name] = store.read_layer(name)
        except LayerNotFound:
            if name in ("grid_cells", "police_beats", "fire_stations"):
                raise
            layers[name] = None
    return TrinityIndex.from_layers(**layers)


def _assign_all(args: argparse.Namespace, settings: Settings) -> int:
    """``ember assign --all``: re-assign stored incidents after the layers changed."""
    from ingest.reassign import reassign_all

    log("按当前图层重新分配已存事件 / re-assigning stored incidents to the current layers …")
    summary = reassign_all(
        open_store(settings.db, create=False), _index(settings), dry_run=args.dry_run
    )
    doc = {
        "checked": summary.checked,
        "changed": summary.changed,
        "unchanged": summary.unchanged,
        "no_location": summary.no_location,
        "conflicts": summary.conflicts,
        "dry_run": args.dry_run,
    }
    verb = "将变更 / would change" if args.dry_run else "已变更 / changed"
    text = (
        f"检查 checked {summary.checked:,} · {verb} {summary.changed:,} · "
        f"未变 unchanged {summary.unchanged:,} · 无位置 no location {summary.no_location:,}"
    )
    if summary.conflicts:
        text += (
            f"\n{len(summary.conflicts)} 件同时被他人更新，请重跑 / changed by someone else "
            f"meanwhile, run again: {', '.join(summary.conflicts[:10])}"
        )
    emit(args, doc, text)
    return 0 if not summary.conflicts else 1


def cmd_assign(args: argparse.Namespace, settings: Settings) -> int:
    if args.all:
        return _assign_all(args, settings)
    if not args.out:
        raise ValueError("请用 --out 指定输出文件 / say where to write with --out OUT")
    src, out = Path(args.csv), Path(args.out)
    frame = _read_csv(src, args.encoding)
    clash = sorted(set(COLUMNS) & set(frame.columns))
    if clash:
        raise ValueError(
            f"输入已含列 {', '.join(clash)}，请改名或删去后重试 / the input already has columns "
            f"{', '.join(clash)}; rename or drop them first"
        )
    lon_col = _column(frame, args.lon, LON_NAMES, "lon")
    lat_col = _column(frame, args.lat, LAT_NAMES, "lat")
    lon = pd.to_numeric(frame[lon_col].str.strip(), errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(frame[lat_col].str.strip(), errors="coerce").to_numpy(dtype=float)
    lon, lat = to_wgs84(lon, lat, args.coords)
    log(f"读取 / read {len(frame):,} rows from {src}; building the trinity index …")
    found = _index(settings).assign(lon, lat)
    result = frame.copy()
    for col in COLUMNS:
        values = found[col]
        result[col] = values.round(1) if col == "station_distance_m" else values.array
    with replacing([out]) as stage:  # a failed write leaves the earlier file whole
        result.to_csv(stage(out), index=False, encoding="utf-8-sig")  # BOM: Excel reads Chinese

    invalid_code = coordinate_reasons(lon, lat)
    reasons = found["reason"].value_counts()
    assigned = int(found["reason"].isna().sum())
    outside = int((found["reason"] == OUTSIDE_TOWN).sum())
    invalid = int((invalid_code != 0).sum())
    doc: dict[str, Any] = {
        "ok": True,
        "out": str(out),
        "rows": len(frame),
        "assigned": assigned,
        "outside": outside,
        "invalid": invalid,
        "incomplete": len(frame) - assigned - outside - invalid,
        "reasons": {str(k): int(v) for k, v in reasons.items() if v},
    }
    lines = [
        f"已写入 / written {out}",
        f"  行数 rows                  {doc['rows']:>8,}",
        f"  已分配 assigned            {doc['assigned']:>8,}",
        f"  镇域外 outside the town    {doc['outside']:>8,}",
        f"  坐标无效 invalid           {doc['invalid']:>8,}",
    ]
    if doc["incomplete"]:
        lines.append(f"  图层缺口 gaps in layers    {doc['incomplete']:>8,}")
    for code in np.unique(invalid_code[invalid_code != 0]):
        count = int((invalid_code == code).sum())
        lines.append(f"    {reason_text(REASON_CODES[code])}: {count:,}")
    emit(args, doc, "\n".join(lines))
    return 0


def add_assign_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember assign``."""
    p = sub.add_parser(
        "assign",
        help="trinity codes 网格+警格+消防站 for lon/lat rows",
        description="为 CSV 每行坐标添加网格、警格、消防站 / add grid cell, police beat and fire "
        "station columns to every lon/lat row of a CSV",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--csv", metavar="IN", help="CSV with lon, lat columns")
    what.add_argument(
        "--all", action="store_true", help="re-assign stored incidents after layers changed"
    )
    p.add_argument("--dry-run", action="store_true", help="with --all: count changes only")
    p.add_argument("--out", metavar="OUT", help="CSV to write (UTF-8 with BOM)")
    p.add_argument("--lon", metavar="COL", help="longitude column (default: lon, lng, 经度 …)")
    p.add_argument("--lat", metavar="COL", help="latitude column (default: lat, 纬度 …)")
    p.add_argument(
        "--coords", choices=CRS_NAMES, default="wgs84", help="what the lon/lat values are"
    )
    p.add_argument("--encoding", help="input text encoding (default: UTF-8, else GB18030)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_assign)


__all__ = ["add_assign_commands"]
