"""Output helpers shared by the CLI commands: JSON on stdout, people's text on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from layers._schema import Problem
from layers.importer import problems_table


def emit(args: argparse.Namespace, doc: dict[str, Any], text: str) -> None:
    """Print ``doc`` as one JSON document with --json, else the human-readable ``text``."""
    if getattr(args, "json", False):
        json.dump(doc, sys.stdout, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print(text)


def log(message: str) -> None:
    """Progress for people: always on stderr, so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


def report_problems(args: argparse.Namespace, problems: list[Problem], **extra: Any) -> None:
    """Print problems: a table on stderr, or one JSON document on stdout with --json."""
    table = problems_table(problems)
    if getattr(args, "json", False):
        doc = {"ok": False, "problems": table.to_dict(orient="records"), **extra}
        emit(args, doc, "")
        return
    print(f"发现 {len(problems)} 个问题 / {len(problems)} problem(s):", file=sys.stderr)
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    for key, value in extra.items():
        print(f"{key}: {value}", file=sys.stderr)
