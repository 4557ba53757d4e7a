"""The benchmark table in docs/benchmarks.md reads back (a partial `python -m bench --only …`
on a fresh clone keeps the rows it did not run from there)."""

from __future__ import annotations

from bench.__main__ import BEGIN, DOC, END, _lines_in_doc, _rows_in_doc, _table


def test_the_doc_table_reads_back_and_writes_the_same_rows() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = _rows_in_doc(text)
    names = [r.name for r in rows]
    assert {"wall first render", "ingest 110 CSV (GeoPackage)", "trinity assignment"} <= set(names)
    assert len(names) == len(set(names)) and all(r.ours_s > 0 and r.peer_s > 0 for r in rows)
    assert all(r.note for r in rows)  # every row keeps its note
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    again = _table(rows, "stamp", _lines_in_doc(text))
    for r in rows:  # the same lines, ratios included (computed again, one was a digit off)
        line = next(x for x in table.splitlines() if x.startswith(f"| {r.name} |"))
        assert line in again.splitlines()
        assert f"- **{r.name}**: {r.note}" in again


def test_a_row_run_again_gets_a_new_line() -> None:
    text = DOC.read_text(encoding="utf-8")
    row = _rows_in_doc(text)[0]
    row.ours_s *= 2
    line = next(
        x for x in _table([row], "stamp", _lines_in_doc(text)).splitlines() if row.name in x
    )
    assert f"| {row.ours_s:.6g} |" in line and f"| {row.ratio:.1f}× |" in line
