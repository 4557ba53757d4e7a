"""The benchmark table in docs/benchmarks.md reads back (a partial `python -m bench --only …`
on a fresh clone keeps the rows it did not run from there)."""

from __future__ import annotations

from bench.__main__ import BEGIN, DOC, END, _rows_in_doc, _table


def test_the_doc_table_reads_back_and_writes_the_same_rows() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = _rows_in_doc(text)
    names = [r.name for r in rows]
    assert {"wall first render", "ingest 110 CSV (GeoPackage)", "trinity assignment"} <= set(names)
    assert len(names) == len(set(names)) and all(r.ours_s > 0 and r.peer_s > 0 for r in rows)
    assert all(r.note for r in rows)  # every row keeps its note
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    again = _table(rows, "stamp")
    for r in rows:  # the same figures, to the digits printed
        line = next(x for x in table.splitlines() if x.startswith(f"| {r.name} |"))
        assert (
            line.split("|")[3:6]
            == next(x for x in again.splitlines() if x.startswith(f"| {r.name} |")).split("|")[3:6]
        )
        assert f"- **{r.name}**: {r.note}" in again
