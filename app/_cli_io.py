"""Output helpers shared by the CLI commands: JSON on stdout, people's text on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from layers._schema import Problem
from layers.importer import problems_table
from store import IncidentStore, open_store


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


def open_to_add(url: str) -> IncidentStore:
    """The store for a command that adds the first record of a new install (``users add``,
    ``apikey create``): a GeoPackage that does not exist is made, and that is said on stderr,
    so that a mistyped path shows. Commands that need an existing store use
    ``open_store(url, create=False)``."""
    if not url.startswith(("postgresql://", "postgres://")) and not Path(url).is_file():
        log(f"新建存储 / creating a new store: {url}")
    return open_store(url)


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
