"""Run every benchmark: ``python -m bench [--quick] [--only NAME]``."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from bench._timing import Result

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _modules(only: str | None) -> list[str]:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    return [n for n in names if only is None or only in n]


def _table(results: list[Result], stamp: str, doc_lines: Mapping[str, str] | None = None) -> str:
    lines = [
        f"Latest figures (table written {stamp}) on {platform.machine()}, 2 cores, "
        f"{platform.python_implementation()} {platform.python_version()}: medians; ratio = peer "
        "time / Ember time; each note says when its row was measured.",
        "",
        "| benchmark | workload | Ember (s) | peer | peer (s) | ratio |",
        "|---|---|---:|---|---:|---:|",
    ]
    for r in results:
        # Six significant digits: a partial run reads the rows it did not run back from here.
        line = (
            f"| {r.name} | {r.workload} | {r.ours_s:.6g} | {r.peer} | {r.peer_s:.6g} | "
            f"{r.ratio:.1f}× |"
        )
        # A row whose figures are those of the doc keeps its line as written: a ratio computed
        # again from printed figures can differ in its last digit (older rows have 4 decimals).
        was = (doc_lines or {}).get(r.name)
        lines.append(was if was is not None and _cells(was)[:5] == _cells(line)[:5] else line)
    notes = [f"- **{r.name}**: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_in_doc(text: str) -> str:
    """The table (and its notes) between the markers of ``docs/benchmarks.md``; "" without."""
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0]


def _lines_in_doc(text: str) -> dict[str, str]:
    """Each row's line in the table now in ``docs/benchmarks.md``, by benchmark name."""
    lines = _table_in_doc(text).splitlines()
    return {_cells(x)[0]: x for x in lines if len(_cells(x)) == 6}


def _rows_in_doc(text: str) -> list[Result]:
    """The rows (with their notes) of the table now in ``docs/benchmarks.md``: what a partial
    run keeps of benchmarks it did not run when ``var/bench.json`` lacks them (a fresh clone)."""
    table = _table_in_doc(text)
    notes = dict(re.findall(r"^- \*\*(.+?)\*\*: (.*)$", table, re.M))
    rows = []
    for line in table.splitlines():
        cells = _cells(line)
        if len(cells) != 6 or cells[0] in ("benchmark", "---") or cells[2].startswith("-"):
            continue
        name, workload, ours, peer, peer_s, _ratio = cells
        try:
            row = Result(name, workload, float(ours), peer, float(peer_s), notes.get(name, ""))
        except ValueError:
            continue
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller workloads (smoke test)")
    parser.add_argument("--only", help="run benchmarks whose module name contains this")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for name in _modules(args.only):
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        for r in module.run(quick=args.quick):
            results.append(r)
            print(
                f"{r.name:<28} ours {r.ours_s:9.4f} s   {r.peer:<34} {r.peer_s:9.4f} s   "
                f"ratio {r.ratio:6.1f}×",
                flush=True,
            )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for r in results:
        r.note = f"{r.note} (run {stamp})" if r.note else f"run {stamp}"
    out = ROOT / "var" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.only:
        # A partial run replaces its own rows and keeps the latest figures of the others: from
        # var/bench.json, else (a fresh clone) from the table in the doc, in the doc's order.
        fresh = {r.name: r for r in results}
        saved = json.loads(out.read_text()) if out.exists() else []
        kept = {d["name"]: Result(**{k: v for k, v in d.items() if k != "ratio"}) for d in saved}
        in_doc = _rows_in_doc(DOC.read_text(encoding="utf-8")) if DOC.exists() else []
        for r in in_doc:
            kept.setdefault(r.name, r)
        order = [r.name for r in in_doc] + [n for n in kept if n not in {r.name for r in in_doc}]
        merged = [fresh.get(n) or kept[n] for n in order if n in kept or n in fresh]
        results = merged + [r for n, r in fresh.items() if n not in order]
    out.write_text(json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False))
    if not args.no_doc and not args.quick and DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            table = _table(results, stamp, _lines_in_doc(text))
            DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
