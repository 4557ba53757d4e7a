"""``ember geocode``: Chinese addresses to points against the store's gazetteer.

``ember geocode ADDRESS …`` prints, for each address, the parse, the match and the candidates.
With no address it reads one address a line from stdin. ``--json`` writes one JSON object a line
(address, lon, lat, level, confidence, grid_code, needs_review, …) in input order, one line per
input line (blank lines too), and nothing else on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import geopandas as gpd

from app._cli_io import log
from app.config import Settings
from geo.geocode import REVIEW_THRESHOLD, Geocoder, GeocodeResult
from store import LayerNotFound, open_store

#: Distinct addresses remembered while reading stdin (repeats are geocoded once).
MEMO = 100_000

LEVEL_ZH = {
    "house": "门牌",
    "poi": "地名/建筑",
    "road": "道路",
    "group": "村民小组",
    "village": "村社区",
    "town": "镇",
}
PART_ZH = {
    "province": "省",
    "city": "市",
    "county": "县/市/区",
    "town": "镇/乡/街道",
    "village": "村/社区",
    "group_no": "组",
    "road": "道路",
    "house_no": "门牌号",
    "poi": "地名/建筑",
    "detail": "楼栋/单元",
    "rest": "其他",
}


def load_geocoder(settings: Settings) -> Geocoder:
    """A geocoder over the store's gazetteer, with grid codes when the store has grid cells."""
    store = open_store(settings.db, create=False)
    try:
        gazetteer = store.read_layer("gazetteer")
    except LayerNotFound:
        raise ValueError(
            "数据库中没有标准地址图层（先运行 ember demo 或导入 gazetteer）/ the store has no "
            "gazetteer layer (run `ember demo` or `ember layers import … --kind gazetteer`)"
        ) from None
    if not isinstance(gazetteer, gpd.GeoDataFrame) or len(gazetteer) == 0:
        raise ValueError(
            "标准地址图层为空或没有坐标 / the gazetteer layer is empty or has no points"
        )
    try:
        cells = store.read_layer("grid_cells")
    except LayerNotFound:
        cells = None
    return Geocoder(gazetteer, cells if isinstance(cells, gpd.GeoDataFrame) else None)


def describe(r: GeocodeResult) -> str:
    """The parse, the match and the candidates of one result, Chinese first."""
    lines = [f"地址 address: {r.address}"]
    if r.normalised:
        hint = f"（位置提示 hint: {r.hint}）" if r.hint else ""
        lines.append(f"  规范化 normalised: {r.normalised}{hint}")
    parts = r.parts.as_dict()
    shown = [f"{PART_ZH[k]} {k}={parts[k]}" for k in PART_ZH if k in parts]
    if shown:
        lines.append("  解析 parse: " + " · ".join(shown))
    if r.level is None:
        lines.append(f"  匹配 match: 无 none — {r.reason}")
    else:
        where = f"{r.lon:.6f}, {r.lat:.6f}" if r.lon is not None and r.lat is not None else "—"
        grid = f" · 网格 grid {r.grid_code}" if r.grid_code else ""
        lines.append(
            f"  匹配 match: {r.matched} [{LEVEL_ZH[r.level]} {r.level}] "
            f"置信度 confidence {r.confidence:.2f} · {where}{grid}"
        )
        if r.needs_review:
            lines.append(f"  需人工定位 needs review: {r.reason}")
    if r.candidates:
        lines.append("  候选 candidates:")
        for i, c in enumerate(r.candidates, start=1):
            lines.append(
                f"    {i}. {c.address}  {LEVEL_ZH[c.level]} {c.level}  {c.score:.2f}  "
                f"{c.lon:.6f}, {c.lat:.6f}"
            )
    return "\n".join(lines)


def _stdin_lines() -> Iterator[str]:
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:  # a stray non-UTF-8 byte must not end the whole run
        reconfigure(errors="replace")
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def cmd_geocode(args: argparse.Namespace, settings: Settings) -> int:
    geocoder = load_geocoder(settings)
    if not args.addresses and sys.stdin.isatty():
        log("从标准输入读取地址，每行一个（Ctrl-D 结束）/ reading addresses from stdin, one a line")
    texts = iter(args.addresses) if args.addresses else _stdin_lines()
    memo: dict[str, GeocodeResult] = {}  # repeated addresses are geocoded once
    n = review = 0
    for text in texts:
        r = memo.get(text)
        if r is None:
            if len(memo) >= MEMO:
                memo.clear()
            r = memo[text] = geocoder.geocode(text)
        n += 1
        review += r.needs_review
        if args.json:
            sys.stdout.write(json.dumps(r.as_record(), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(describe(r) + "\n")
        sys.stdout.flush()  # one answer per line read, for a caller reading in lockstep
    log(
        f"已处理 {n} 条地址，{review} 条需人工定位（阈值 {REVIEW_THRESHOLD}）/ "
        f"{n} address(es), {review} for manual geocoding (threshold {REVIEW_THRESHOLD})"
    )
    return 0


def add_geocode_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember geocode``."""
    p = sub.add_parser(
        "geocode",
        help="geocode addresses 地址匹配",
        description="地址匹配：参数中的地址，或标准输入每行一个 / geocode the addresses given, "
        "or one a line from stdin",
    )
    p.add_argument("addresses", nargs="*", metavar="ADDRESS", help="地址 address(es)")
    p.add_argument(
        "--json", action="store_true", help="one JSON object a line, in input order 每行一个JSON"
    )
    p.set_defaults(handler=cmd_geocode)


__all__ = ["add_geocode_commands", "describe", "load_geocoder"]
