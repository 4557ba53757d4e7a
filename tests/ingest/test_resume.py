"""Crash safety: a run killed mid-file (the process dies inside a write transaction) and run
again ends with the same store as a run that was never interrupted — on both backends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from ingest.pipeline import IngestContext, ingest_file
from store import IncidentQuery, IncidentStore, Scope, open_store
from tests.ingest.conftest import balanced, gbk_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]
BATCH = 5

KILLER = textwrap.dedent(
    """
    import os, sys
    import store.base as base
    from ingest.pipeline import IngestContext, ingest_file
    from layers.demo import build_demo
    from store import open_store
    from tests.ingest.make_fixtures import N, SEED

    path, url, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = IngestContext.from_frames(build_demo(SEED, n_incidents=N))
    seen = {"n": 0}

    def die(point):
        if point == "add_incidents":
            seen["n"] += 1
            if seen["n"] == kill_at:
                os._exit(137)  # killed inside the transaction: nothing of this batch commits

    base.before_commit = die
    ingest_file(path, "110", open_store(url), ctx, batch_size=int(sys.argv[4]))
    print("finished")
    """
)


def _feed(tmp_path: Path) -> Path:
    """20 good rows, a bad one, a re-delivery with a change, an exact repeat; UTF-8."""
    rows = gbk_rows()
    bad = dict(rows[4], 警情编号="")
    changed = dict(rows[2], 简要警情=rows[2]["简要警情"] + "（补充）")
    return write_csv([*rows[:8], bad, *rows[8:], changed, dict(rows[0])], tmp_path / "feed.csv")


def snapshot(store: IncidentStore) -> dict[str, Any]:
    """Everything ingest writes, without wall-clock times (amend events are stamped 'now')."""
    scope = Scope.everything("test", personal_data=True)
    frame = store.query_incidents(IncidentQuery(), scope).sort_values("id")
    frame["wkt"] = frame.geometry.to_wkt()
    incidents = frame.drop(columns="geometry").astype(str).to_dict(orient="records")
    events = {
        i: [(e.seq, e.action, e.actor, e.data, None if e.action == "amend" else e.at)
            for e in store.events(i, scope)]
        for i in frame["id"]
    }  # fmt: skip
    quarantine = [(e.source, e.file, e.line, e.code, e.raw_hash) for e in store.quarantine_list()]
    return {"incidents": incidents, "events": events, "quarantine": quarantine}


def test_killed_and_resumed_equals_uninterrupted(
    store_url: str, reference_url: str, tmp_path: Path, ctx: IngestContext
) -> None:
    feed = _feed(tmp_path)
    # the reference: one uninterrupted run into a second store of the same backend
    ref = open_store(reference_url)
    try:
        full = balanced(ingest_file(feed, "110", ref, ctx, batch_size=BATCH))
        assert (full.read, full.stored, full.updated, full.duplicates, full.quarantined) == (
            23,
            20,
            1,
            1,
            1,
        )
        expected = snapshot(ref)
    finally:
        ref.close()

    # killed while writing the third batch
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(feed), store_url, "3", str(BATCH)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 137, done.stderr[-2000:]
    assert "finished" not in done.stdout
    store = open_store(store_url)
    try:
        partial = store.query_incidents(IncidentQuery(), Scope.everything("test"))
        assert 0 < len(partial) < 20  # some batches committed, the killed one did not
        resumed = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH))
        assert resumed.read == 23 and resumed.duplicates >= len(partial)
        assert snapshot(store) == expected
        again = balanced(ingest_file(feed, "110", store, ctx, batch_size=BATCH))
        assert (again.stored, again.updated) == (0, 0)
        assert snapshot(store) == expected
    finally:
        store.close()
