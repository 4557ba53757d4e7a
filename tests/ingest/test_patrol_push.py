"""Hostile patrol reports (grid officers' JSON), found by review: each row stored, or
quarantined with a bilingual reason naming its field and kept to be fixed and replayed; never a
crashed import. On both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.pipeline import IngestContext, ingest_file
from ingest.retry import retry_entry
from store import IncidentStore, Scope
from tests.ingest.conftest import balanced, stored_id

EVERYONE = Scope.everything("test", personal_data=True)
POINT = {"lon": 120.075055, "lat": 29.002925}  # in the demo town


def report(sid: str, **fields: Any) -> dict[str, Any]:
    """A patrol report as the officers' app sends it, ``fields`` changed."""
    base = {
        "id": sid,
        "officer_id": "W000",
        "time": "2026-01-05T07:25:25+08:00",
        "point": POINT,
        "category": "劳资纠纷",
        "description": "试用期被辞退不给工资",
        "address": "演示镇芝头村宏达杯业有限公司",
    }
    return {**base, **fields}


def lines(path: Path, *reports: dict[str, Any]) -> Path:
    """``reports`` as JSON lines at ``path`` (``\\u`` escapes as JSON writes them)."""
    path.write_text("\n".join(json.dumps(r) for r in reports) + "\n", encoding="utf-8")
    return path


def test_a_nul_or_a_lone_surrogate_quarantines_its_report_only(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """Valid JSON escapes no store can keep: a NUL made PostgreSQL refuse the whole batch and
    a lone surrogate made either backend's import fail ('utf-8' codec can't encode), nothing
    stored and nothing quarantined."""
    path = lines(
        tmp_path / "p.jsonl",
        report("C1"),
        report("C2", description="工资\u0000拖欠"),
        report("C\u00003"),
        report("C4", description="押金\ud800被扣"),
    )
    s = balanced(ingest_file(path, "patrol", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (4, 1, 3)
    held = {e.line: e for e in store.quarantine_list()}
    assert {n: (e.code, e.column) for n, e in held.items()} == {
        2: ("bad_char", "description"),
        3: ("bad_char", "id"),
        4: ("bad_char", "description"),
    }
    assert "NUL" in held[2].reason_en and "description" in held[2].reason_zh
    assert held[4].raw["description"] == "押金\ufffd被扣"  # kept, storable, shown
    fixed = retry_entry(store, held[4], ctx, fixes={"description": "押金被扣"})
    assert fixed.ok and fixed.outcome == "stored"
    record = store.get_incident(stored_id(store, "C4", "patrol"), EVERYONE)
    assert record.incident.description == "押金被扣"


def test_a_time_in_the_future_is_quarantined(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A report dated 2099 (or one hour and more ahead: a zone mistaken) was stored as
    received then, its deadlines and the KPIs of its day with it; a minute ahead (a clock that
    drifts) is stored."""
    now = pd.Timestamp.now(tz="Asia/Shanghai").floor("s")
    path = lines(
        tmp_path / "f.jsonl",
        report("F1", time="2099-01-01T00:00:00+08:00"),
        report("F2", time=(now + pd.Timedelta(hours=8)).isoformat()),
        report("F3", time=(now + pd.Timedelta(minutes=1)).isoformat()),
        report("F4"),
    )
    s = balanced(ingest_file(path, "patrol", store, ctx))
    assert (s.stored, s.quarantined) == (2, 2)
    held = {e.line: e for e in store.quarantine_list()}
    assert {n: (e.code, e.column) for n, e in held.items()} == {
        1: ("future_time", "time"),
        2: ("future_time", "time"),
    }
    assert "2099-01-01" in held[1].reason_en and "future" in held[1].reason_en
    fixed = retry_entry(store, held[1], ctx, fixes={"time": "2026-01-01T00:00:00+08:00"})
    assert fixed.ok and fixed.outcome == "stored"


def test_a_time_before_2000_is_quarantined(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """An export's blank written as a date — Excel's day zero, the Unix epoch — was stored as
    a call received a century back; the first day of 2000 (Beijing time) is taken."""
    path = lines(
        tmp_path / "e.jsonl",
        report("E1", time="1899-12-30 00:00:00"),
        report("E2", time="1970-01-01T08:00:00+08:00"),
        report("E3", time="1999-12-31T23:59:59+08:00"),
        report("E4", time="2000-01-01 00:00:00"),
    )
    s = balanced(ingest_file(path, "patrol", store, ctx))
    assert (s.stored, s.quarantined) == (1, 3)
    held = {e.line: e for e in store.quarantine_list()}
    assert {n: (e.code, e.column) for n, e in held.items()} == {
        n: ("early_time", "time") for n in (1, 2, 3)
    }
    assert "1899-12-30" in held[1].reason_zh and "before 2000" in held[1].reason_en
    fixed = retry_entry(store, held[3], ctx, fixes={"time": "2009-12-31T23:59:59+08:00"})
    assert fixed.ok and fixed.outcome == "stored"


def test_a_point_in_no_known_shape_is_noted_not_dropped(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A point sent as text was dropped without a word: the report was placed by its address
    alone, nothing saying the officer's point was refused (or, without a usable address,
    quarantined without naming the point)."""
    path = lines(
        tmp_path / "s.jsonl",
        report("S1", point="120.075055,29.002925"),
        report("S2", point=[120.075055], address="火星基地一号"),
    )
    s = balanced(ingest_file(path, "patrol", store, ctx))
    assert (s.stored, s.quarantined) == (1, 1)
    notes = store.get_incident(stored_id(store, "S1", "patrol"), EVERYONE).events[0].data["notes"]
    assert "coordinates_rejected: 坐标不是数字 / coordinates are not numbers" in notes
    (held,) = store.quarantine_list()
    assert held.code == "no_location" and "coordinates are not numbers" in held.reason_en


def test_a_report_naming_a_field_twice_is_quarantined_as_given(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """``{"time": …, "time": …}`` was stored with the last value, silently; which one the
    officer meant is unclear. Kept as given (both values) and said, in JSON lines and in an
    array; the rest of the file goes through."""
    good = json.dumps(report("D2"))
    twice = good.replace('"time": ', '"time": "2026-01-04T07:00:00+08:00", "time": ', 1)
    inner = json.dumps(report("D3")).replace('"point": {"lon": ', '"point": {"lon": 1, "lon": ')
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join([twice.replace('"D2"', '"D1"'), good, inner]) + "\n", "utf-8")
    s = balanced(ingest_file(path, "patrol", store, ctx))
    assert (s.stored, s.quarantined) == (1, 2)
    held = {e.line: e for e in store.quarantine_list()}
    assert {n: e.code for n, e in held.items()} == {1: "duplicate_key", 3: "duplicate_key"}
    assert "time" in held[1].reason_en and "point.lon" in held[3].reason_zh
    assert held[1].raw["_raw"].count('"time"') == 2  # as given, both values
    again = retry_entry(store, held[1], ctx)  # replayed unfixed: still refused, not guessed
    assert not again.ok and "time" in (again.reason or "")
    fixed = retry_entry(store, held[1], ctx, fixes={"_raw": good.replace('"D2"', '"D1"')})
    assert fixed.ok and fixed.outcome == "stored"

    array = tmp_path / "d.json"
    array.write_text(f"[{twice.replace('D2', 'A1')}, {good.replace('D2', 'A2')}]", "utf-8")
    s = balanced(ingest_file(array, "patrol", store, ctx))
    assert (s.stored, s.quarantined) == (1, 1)
    (entry,) = [e for e in store.quarantine_list() if e.file == "d.json"]
    assert entry.code == "duplicate_key" and entry.raw["_raw"].count('"time"') == 2
