"""Hostile feed files, found by review: each once crashed a whole import, lost rows or kept a
value the source did not give. On both backends: every row stored or quarantined, the
invariant held, nothing made up."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ingest.normalise import normalise_phones, parse_times
from ingest.pipeline import IngestContext, ingest_file
from ingest.read import read_csv
from ingest.retry import retry_entry
from store import IncidentQuery, IncidentStore, Scope
from tests.ingest.conftest import balanced, stored_id

HEADER = "警情编号,报警时间,报警人,联系电话,报警地址,警情类别,简要警情,流转时间,管辖单位"
EVERYONE = Scope.everything("test", personal_data=True)


def _row(sid: str, time: str = "2025-01-02 03:04:05", phone: str = "13800138000") -> str:
    return f"{sid},{time},张三,{phone},演示镇枫川社区,纠纷,描述{sid},,城东派出所"


def _file(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join((HEADER, *lines)) + "\n").encode(encoding))
    return path


def _quarantined(store: IncidentStore) -> dict[int | None, str]:
    return {e.line: e.code for e in store.quarantine_list()}


def test_times_need_a_date_and_zone_words_are_read() -> None:
    """A time of day, a year or a word is no receive time (it was made today's date, 1 January
    or the clock's now); UTC and UTC+8 are read as written; what a parser guesses with a zone
    or out of range is NaT, not an exception for the whole file."""
    values = {
        "2025-01-02 03:04:05 UTC": "2025-01-02 03:04:05",
        "2025-01-02 11:04:05 UTC+8": "2025-01-02 03:04:05",
        "2025-01-02 11:04:05 GMT+08:00": "2025-01-02 03:04:05",
        "2025-01-02 11:04:05+08": "2025-01-02 03:04:05",
        "2025-01-02 3:04 PM": "2025-01-02 07:04:00",
        "2025/1/2 11:04": "2025-01-02 03:04:00",
        "25/01/2025 11:04": "2025-01-25 03:04:00",
        "01/01/2025 11:04": "2025-01-01 03:04:00",
        "02/01/2025 11:04": None,  # 2 January or 1 February
        "3:04": None, "03:04:05": None, "18:00": None, "now": None, "today": None,
        "2025": None, "2025-01": None, "3时4分": None, "January": None,
        "2025-01-02 03:04:05 CST": None, "2025-01-02 25:00": None,
    }  # fmt: skip
    got = parse_times(pd.Series(list(values), dtype=object))
    for (text, want), t in zip(values.items(), got, strict=True):
        assert pd.isna(t) if want is None else str(t.tz_convert(None)) == want, text


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2025/01/02 11:04:05.5", "2025-01-02 03:04:05.500"),  # its fraction was made a zone
        ("2025/1/2 11:04:05.000", "2025-01-02 03:04:05"),
        ("2025-01-02 11:04:05+8", "2025-01-02 03:04:05"),  # a one-digit offset
        ("2025-01-02T11:04:05 +8", "2025-01-02 03:04:05"),
        ("2025-01-02 03:04:05-5", "2025-01-02 08:04:05"),
    ],
)
def test_a_time_the_naive_ones_took_for_zoned_does_not_fail_the_file(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, text: str, want: str
) -> None:
    """ISO 8601 parsing read an offset in these (a fraction after a / date became one): among
    naive times it failed the whole file (mixed zones), alone too (already tz-aware)."""
    for batch in ([text], [text, "2025-01-02 03:04:05"]):
        got = parse_times(pd.Series(batch, dtype=object))[0]
        assert str(got.tz_convert(None)) == pd.Timestamp(want).isoformat(sep=" "), batch
    path = _file(tmp_path / "z.csv", _row("Z1", text), _row("Z2"))
    assert balanced(ingest_file(path, "110", store, ctx)).stored == 2


def test_a_bad_time_quarantines_its_row_only(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    path = _file(
        tmp_path / "t.csv",
        _row("T1", "2025-01-02 03:04:05 UTC"), _row("T2", "3时4分"), _row("T3", "3:04"),
        _row("T4", "now"), _row("T5", "2025-01-02 11:04:05 UTC+8"),
    )  # fmt: skip
    s = balanced(ingest_file(path, "110", store, ctx))
    assert (s.stored, s.quarantined) == (2, 3)
    assert _quarantined(store) == {3: "bad_time", 4: "bad_time", 5: "bad_time"}
    for sid in ("T1", "T5"):
        rec = store.get_incident(stored_id(store, sid), EVERYONE)
        assert rec.incident.received_at == pd.Timestamp("2025-01-02 03:04:05", tz="UTC")


@pytest.mark.parametrize("column", range(9))
def test_undecodable_bytes_in_any_column_quarantine_the_row(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, column: int
) -> None:
    """GBK bytes in a UTF-8 file, in each column in turn: the row is quarantined as
    bad_encoding, the others stored (it crashed the file for five of the nine columns)."""
    cells = [c.encode() for c in _row("B2").split(",")]
    cells[column] += "坏".encode("gbk")
    path = _file(tmp_path / "e.csv", _row("B1"), _row("B3"))
    path.write_bytes(path.read_bytes() + b",".join(cells) + b"\n")
    s = balanced(ingest_file(path, "110", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (3, 2, 1)
    assert _quarantined(store) == {4: "bad_encoding"}


@pytest.mark.parametrize("where", ["last", "middle"])
def test_a_stray_quote_does_not_swallow_the_rows_after_it(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, where: str
) -> None:
    """An opening quote never closed took every later row into one field (at the end: stored
    as one incident, the invariant "held"); the line is quarantined as bad_quote and the rows
    after it are read. A quoted field with a line break in a good row stays one field."""
    bad = _row("Q1").replace(",城东派出所", ',"城东派出所') if where == "last" else (
        _row("Q1").replace(",演示镇", ',"演示镇')
    )  # fmt: skip
    multi = _row("Q4").replace("描述Q4", '"描述\n第二行"')
    path = _file(tmp_path / "q.csv", bad, _row("Q2"), _row("Q3"), multi, _row("Q5"))
    s = balanced(ingest_file(path, "110", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (5, 4, 1)
    assert _quarantined(store) == {2: "bad_quote"}
    found = store.query_incidents(IncidentQuery(columns=("source_id", "description")), EVERYONE)
    assert dict(zip(found["source_id"], found["description"], strict=True))["Q4"] == "描述\n第二行"


def test_a_stray_quotes_row_is_not_replayed_misplaced(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """The cells after a stray quote are read as one (under 报警地址 here), the columns after
    it empty: a retry without fixes stored that row, its category and 简要警情 in the address."""
    bad = _row("Q1").replace(",演示镇", ',"演示镇')
    balanced(ingest_file(_file(tmp_path / "q.csv", bad, _row("Q2")), "110", store, ctx))
    (entry,) = store.quarantine_list()
    assert entry.raw["报警地址"].startswith("演示镇枫川社区,纠纷") and entry.raw["简要警情"] == ""
    again = retry_entry(store, entry, ctx)
    assert not again.ok and again.reason and "--set" in again.reason
    assert not store.source_keys("110", ["Q1"]) and store.quarantine_list() == [entry]
    fixes = {"报警地址": "演示镇枫川社区", "警情类别": "纠纷", "简要警情": "描述Q1"}
    assert retry_entry(store, entry, ctx, fixes=fixes).ok
    rec = store.get_incident(stored_id(store, "Q1"), EVERYONE)
    assert (rec.incident.address, rec.incident.description) == ("演示镇枫川社区", "描述Q1")


@pytest.mark.parametrize("cell", ["stray", "long"])
def test_a_field_past_the_csv_modules_limit_is_read(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, cell: str
) -> None:
    """A stray quote early in a file of a few thousand rows swallows more than the csv
    module's 128 KiB field limit (as does one long 简要警情): its csv.Error failed the whole
    file. The stray quote's line is quarantined and the rest stored; the long cell is kept."""
    rows = [_row(f"F{i}") for i in range(2500)]
    if cell == "stray":
        rows[0] = rows[0].replace(",演示镇", ',"演示镇')
    else:
        rows[0] = rows[0].replace("描述F0", "长" * 140_000)
    s = balanced(ingest_file(_file(tmp_path / "f.csv", *rows), "110", store, ctx))
    if cell == "stray":
        assert (s.stored, s.quarantined) == (2499, 1) and _quarantined(store) == {2: "bad_quote"}
    else:
        assert (s.stored, s.quarantined) == (2500, 0)
        rec = store.get_incident(stored_id(store, "F0"), EVERYONE)
        assert rec.incident.description == "长" * 140_000


def test_csv_lines_of_a_stray_quote() -> None:
    """The reader alone: line numbers after a swallowed stretch are the file's own."""
    text = "\n".join((HEADER, _row("A").replace(",城东", ',"城东'), _row("B"), _row("C"))) + "\n"
    path = Path(__file__).parent / "_stray.csv"
    try:
        path.write_text(text, encoding="utf-8")
        rows = read_csv(path).rows
    finally:
        path.unlink()
    assert [(r.line, r.values[0], r.error and r.error[0]) for r in rows] == [
        (2, "A", "bad_quote"), (3, "B", None), (4, "C", None),
    ]  # fmt: skip


def test_a_column_named_twice_is_kept_whole_in_the_quarantine(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """The first 联系电话 is the phone, in the run and in a retry; the second is kept in the
    quarantined row (it overwrote the first there, so a retry stored the other number)."""
    path = tmp_path / "d.csv"
    path.write_text(
        f"{HEADER},联系电话\n{_row('D1')},13900139000\n{_row('D2', '')},13900139000\n",
        encoding="utf-8",
    )
    balanced(ingest_file(path, "110", store, ctx))
    (entry,) = store.quarantine_list()
    assert entry.raw["联系电话"] == "13800138000" and entry.raw["联系电话#10"] == "13900139000"
    fixed = retry_entry(store, entry, ctx, fixes={"报警时间": "2025-01-02 05:00"})
    assert fixed.ok
    rec = store.get_incident(stored_id(store, "D2"), EVERYONE)
    assert rec.incident.parties[0].phone == "13800138000"


def test_full_width_phone_digits() -> None:
    phones, bad = normalise_phones(
        pd.Series(["１３８００１３８０００", "＋８６ １３８-００１３-８０００"])
    )
    assert phones.tolist() == ["13800138000", "13800138000"] and not bad.any()


def test_a_changed_redelivery_keeps_what_the_source_now_says(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A new time or phone in a re-delivery changed the content hash (an update) but was kept
    nowhere; the amend now carries them (the incident keeps its first receive time)."""
    balanced(ingest_file(_file(tmp_path / "a.csv", _row("R1")), "110", store, ctx))
    again = _file(tmp_path / "b.csv", _row("R1", "2025-01-03 09:00:00", "13900139000"))
    assert balanced(ingest_file(again, "110", store, ctx)).updated == 1
    amend = store.events(stored_id(store, "R1"), EVERYONE)[-1]
    assert amend.action == "amend" and amend.data["reported_at"] == "2025-01-03T01:00:00+00:00"
    assert amend.data["caller"] == {"name": "张三", "phone": "13900139000"}
    masked = store.events(stored_id(store, "R1"), Scope.everything("test"))[-1]
    assert masked.data["caller"] == {"name": "张某", "phone": "139****9000"}


@pytest.mark.parametrize("column", [0, 4, 6, 8])
def test_a_nul_character_quarantines_its_row(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, column: int
) -> None:
    """A NUL in a cell (PostgreSQL's text and jsonb hold none: the whole file failed there) is
    quarantined, naming its column, the raw row kept with U+FFFD in its place; a retry with
    the cell fixed stores it."""
    cells = _row("N2").split(",")
    cells[column] = cells[column][:1] + "\x00" + cells[column][1:]
    path = _file(tmp_path / "n.csv", _row("N1"), ",".join(cells), _row("N3"))
    s = balanced(ingest_file(path, "110", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (3, 2, 1)
    (entry,) = store.quarantine_list()
    name = HEADER.split(",")[column]
    assert (entry.line, entry.code) == (3, "bad_char") and name in entry.reason_zh
    assert name in entry.reason_en and "\ufffd" in entry.raw[name]
    fixed = cells[column].replace("\x00", "")
    assert retry_entry(store, entry, ctx, fixes={name: fixed}).ok
    assert store.source_keys("110", ["N2"])


def test_a_nul_character_in_a_patrol_report(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    path = tmp_path / "p.jsonl"
    report = {"time": "2025-01-02 03:04:05", "lon": 120.06, "lat": 29.0}
    lines = [
        json.dumps({"id": f"P{i}", "description": d, **report})
        for i, d in ((1, "ok"), (2, "坏\x00"))
    ]
    assert "\\u0000" in lines[1]  # as JSON writes it
    path.write_text("\n".join(lines) + "\n")
    s = balanced(ingest_file(path, "patrol", store, ctx))
    assert (s.read, s.quarantined) == (2, 1) and _quarantined(store) == {2: "bad_char"}


def test_a_row_shifted_by_a_comma_is_not_replayed_with_one_column_fixed(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """An unquoted comma in an address shifts the cells after it, the last beyond the header:
    a retry fixing the address alone stored the category, the description and the unit one
    column off and dropped the last cell. Each cell beyond the header must be moved or
    cleared."""
    cells = _row("S2").split(",")
    cells[4] = "演示镇枫川社区3号,4号"  # the comma unquoted: one cell more
    path = _file(tmp_path / "s.csv", _row("S1"), ",".join(cells))
    balanced(ingest_file(path, "110", store, ctx))
    (entry,) = store.quarantine_list()
    assert entry.code == "bad_shape" and entry.raw["_extra_10"] == "城东派出所"
    fixes = {"报警地址": "演示镇枫川社区3号,4号"}
    refused = retry_entry(store, entry, ctx, fixes=fixes)
    assert not refused.ok and "_extra_10" in (refused.reason or "")
    assert not store.source_keys("110", ["S2"])
    names = HEADER.split(",")
    shifted = {n: entry.raw[n] for n in names[5:]}  # each one column to the right
    fixes.update({names[5]: shifted[names[6]], names[6]: shifted[names[7]]})
    fixes.update({names[7]: shifted[names[8]], names[8]: "城东派出所", "_extra_10": ""})
    assert retry_entry(store, entry, ctx, fixes=fixes).ok
    record = store.get_incident(stored_id(store, "S2"), EVERYONE).incident
    assert record.address == "演示镇枫川社区3号,4号" and record.description == "描述S2"
