"""Re-deliveries from an export whose columns changed, on both store backends: the same rows are
duplicates, and a store's rows hashed the way they were before 2026-12-06 still match (those
with an empty field when delivered again in the same columns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import _batch
from ingest.pipeline import IngestContext, ingest_file
from store import IncidentStore, Scope, open_store
from tests.ingest.conftest import balanced, gbk_rows, stored_id, write_csv


def _without(rows: list[dict[str, str]], column: str) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != column} for r in rows]


def test_an_empty_column_gained_or_lost_changes_nothing(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    rows = gbk_rows()
    assert all(r["管辖单位"] for r in rows)

    def ingest(export: list[dict[str, str]]) -> tuple[int, int, int]:
        s = balanced(ingest_file(write_csv(export, tmp_path / "x.csv"), "110", store, ctx))
        return s.stored, s.updated, s.duplicates

    assert ingest(_without(rows, "管辖单位")) == (20, 0, 0)
    # the export gains the column, empty: the same rows again; and loses it again
    assert ingest([{**r, "管辖单位": ""} for r in rows]) == (0, 0, 20)
    assert ingest(_without(rows, "管辖单位")) == (0, 0, 20)
    # filled in, it is a change: an amend each, once
    assert ingest(rows) == (0, 20, 0)
    assert ingest(rows) == (0, 0, 20)
    evs = store.events(stored_id(store, rows[0]["警情编号"]), Scope.everything("test"))
    assert [e.action for e in evs] == ["receive", "amend"]
    assert evs[1].data["unit"] == rows[0]["管辖单位"]


def test_rows_stored_with_the_earlier_hash_are_still_duplicates(
    store: IncidentStore,
    ctx: IngestContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference_url: str,
) -> None:
    """A store written before 2026-12-06 holds each row's hash over every column of its file
    (``_batch.file_hashes``, the code of that release): its rows with an empty field, delivered
    again unchanged, are duplicates; a changed one is an update."""
    rows = gbk_rows()
    path = write_csv(rows, tmp_path / "a.csv")
    gaps = [r["警情编号"] for r in rows if not all(r.values())]
    assert 5 <= len(gaps) < len(rows)  # rows geocoded from the address: no coordinates
    with monkeypatch.context() as m:
        m.setattr(_batch, "content_hashes", _batch.file_hashes)
        balanced(ingest_file(path, "110", store, ctx))
    # the same file into an empty store now: the rows with an empty field hash otherwise
    ref = open_store(reference_url)
    try:
        balanced(ingest_file(path, "110", ref, ctx))
        ids = [r["警情编号"] for r in rows]
        now, then = ref.source_keys("110", ids), store.source_keys("110", ids)
    finally:
        ref.close()
    differ = {k for k in ids if now[k].content_hashes != then[k].content_hashes}
    assert differ == set(gaps)
    s = balanced(ingest_file(path, "110", store, ctx))
    assert (s.stored, s.updated, s.duplicates) == (0, 0, 20)
    changed = [dict(r) for r in rows]
    at = next(i for i, r in enumerate(rows) if r["警情编号"] == gaps[0])
    changed[at]["简要警情"] += "（补充）"
    s = balanced(ingest_file(write_csv(changed, tmp_path / "b.csv"), "110", store, ctx))
    assert (s.stored, s.updated, s.duplicates) == (0, 1, 19)


def test_rows_stored_with_the_earlier_hash_and_a_column_added(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored the earlier way from an export without a column, then delivered again with it
    empty: a row that gave every field then is a duplicate (its hash is the same either way);
    one with an empty field cannot be matched (its earlier hash named the old columns) and is
    an update, as every such row was before 2026-12-06."""
    rows = _without(gbk_rows(), "管辖单位")
    full = {r["警情编号"] for r in rows if all(r.values())}
    assert 5 <= len(full) < len(rows)
    with monkeypatch.context() as m:
        m.setattr(_batch, "content_hashes", _batch.file_hashes)
        balanced(ingest_file(write_csv(rows, tmp_path / "a.csv"), "110", store, ctx))
    emptied = [{**r, "管辖单位": ""} for r in rows]
    s = balanced(ingest_file(write_csv(emptied, tmp_path / "b.csv"), "110", store, ctx))
    assert (s.stored, s.updated, s.duplicates) == (0, len(rows) - len(full), len(full))
