"""The pipeline's fast path (new incidents written as columns, ``add_received``) stores exactly
what the careful path (an Incident, an Event and a fold per row, ``add_incidents``) stores, on
every fixture file and both backends: incidents, events, audit lines, quarantine, R-tree."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.pipeline import IngestContext, ingest_file
from tests.ingest.conftest import DATA, balanced, gbk_rows, write_csv
from tests.store.conftest import snapshot

FILES = [
    ("110_gbk.csv", "110"),
    ("110_bad_rows.csv", "110"),
    ("110_gcj02.csv", "110"),
    ("110_swapped.csv", "110"),
    ("12345_utf8bom.csv", "12345"),
    ("patrol.jsonl", "patrol"),
]


def _changed_copy(tmp_path: Path) -> Path:
    """The GBK file again with two descriptions changed (amends) and a new row."""
    rows = gbk_rows()
    rows[1]["简要警情"] += "（补充）"
    rows[3]["简要警情"] += "（再补充）"
    rows.append(dict(rows[0], 警情编号=rows[0]["警情编号"] + "X"))
    return write_csv(rows, tmp_path / "changed.csv")


def test_fast_path_stores_what_the_careful_path_stores(
    two_stores: Any, ctx: IngestContext, tmp_path: Path
) -> None:
    fast, careful, raw = two_stores
    start = datetime.now(UTC)
    feeds = [(DATA / name, fmt) for name, fmt in FILES] + [(_changed_copy(tmp_path), "110")]
    for store, columnar in ((fast, True), (careful, False)):
        path_ctx = replace(ctx, columnar=columnar)
        for path, fmt in feeds:
            for batch in (7, 1000):  # several batches (links across them), then all duplicates
                balanced(ingest_file(path, fmt, store, path_ctx, batch_size=batch))
    got, want = snapshot(fast, raw, start), snapshot(careful, raw, start)
    assert got == want
    incidents, events = got[0], got[1]
    assert len(incidents) > 40 and len(events) > len(incidents)  # amends among them
