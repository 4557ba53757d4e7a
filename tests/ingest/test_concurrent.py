"""Two writers of the same rows at once (two watchers on one inbox, a push and a file that
overlap): the store ends as if one had written them, the other finding them there."""

from __future__ import annotations

from typing import Any

import pytest

from ingest import _run
from ingest.pipeline import IngestContext, ingest_file
from store import IncidentQuery, Scope, open_store
from tests.ingest.conftest import DATA, balanced


@pytest.mark.parametrize("parallel", [False, True])
def test_rows_stored_by_another_writer_after_the_lookup_are_duplicates(
    store_url: str,
    ctx: IngestContext,
    monkeypatch: pytest.MonkeyPatch,
    parallel: bool,
) -> None:
    """Another writer stores the file's rows after this run looked its keys up and before it
    reads the repeat candidates: each new row was linked to itself as a repeat (found among
    the candidates under its own id) and the write refused as invalid, not redone."""
    feed = DATA / "110_gbk.csv"
    real = _run._Run.prepare
    beaten: list[int] = []

    def prepare(self: Any, start: int, rows: Any) -> Any:
        b = real(self, start, rows)
        if not beaten:  # after the first lookup, before the first batch's candidates are read
            beaten.append(start)
            elsewhere = open_store(store_url)
            try:
                assert balanced(ingest_file(feed, "110", elsewhere, ctx)).stored == 20
            finally:
                elsewhere.close()
        return b

    monkeypatch.setattr(_run._Run, "prepare", prepare)
    store = open_store(store_url)
    try:
        s = balanced(ingest_file(feed, "110", store, ctx, batch_size=8, parallel=parallel))
        assert beaten == [0]
        assert (s.stored, s.duplicates) == (0, 20)
        found = store.query_incidents(IncidentQuery(), Scope.everything("test"))
        assert len(found) == 20 and found["source_id"].is_unique
    finally:
        store.close()
