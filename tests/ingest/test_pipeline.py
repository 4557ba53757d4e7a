"""The ingest pipeline on the fixture files, on both store backends: nothing lost, nothing
doubled, every bad row quarantined with a bilingual reason and where it was."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from incidents.model import State
from ingest.pipeline import IngestContext, ingest_file
from store import IncidentQuery, IncidentStore, Scope
from tests.ingest.conftest import DATA, balanced, stored_id

EVERYONE = Scope.everything("test", personal_data=True)


def _events(store: IncidentStore, source_id: str, source: str = "110") -> list[Any]:
    return store.events(stored_id(store, source_id, source), Scope.everything("test"))


def _rows(name: str, encoding: str = "utf-8") -> list[dict[str, str]]:
    text = (DATA / name).read_bytes().decode(encoding, errors="replace")
    return list(csv.DictReader(io.StringIO(text)))


def _write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def test_gbk_file(store: IncidentStore, ctx: IngestContext, town: dict[str, Any]) -> None:
    s = balanced(ingest_file(DATA / "110_gbk.csv", "110", store, ctx))
    assert s.encoding == "gb18030" and (s.read, s.stored, s.quarantined) == (20, 20, 0)
    assert s.from_coordinates == 10 and s.geocoded == 10
    rows = _rows("110_gbk.csv", "gbk")
    stored = store.query_incidents(IncidentQuery(), EVERYONE).set_index("source_id")
    for r in rows:
        got = stored.loc[r["警情编号"]]
        assert got["address"] == r["报警地址"] and got["description"] == r["简要警情"]
        assert got["caller_phone"] == r["联系电话"] and got["state"] == State.RECEIVED
        assert got["grid_code"] is not None and got["category"] != "other"
    # a time without a zone is Asia/Shanghai
    first = stored.loc[rows[0]["警情编号"]]
    local = pd.Timestamp(rows[0]["报警时间"]).tz_localize("Asia/Shanghai")
    assert first["received_at"] == local.tz_convert("UTC")


def test_utf8_bom_work_orders(store: IncidentStore, ctx: IngestContext) -> None:
    s = balanced(ingest_file(DATA / "12345_utf8bom.csv", "12345", store, ctx))
    assert s.encoding == "utf-8-sig" and s.stored == 15 and s.geocoded == 15
    rows = _rows("12345_utf8bom.csv", "utf-8-sig")
    rec = store.get_incident(stored_id(store, rows[0]["工单编号"], "12345"), EVERYONE)
    assert rec.incident.source == "12345" and rec.incident.deadline is not None
    assert rec.events[0].data["request_type"] == "投诉"
    assert rec.events[0].data["unit"] == "演示镇综治中心"
    # low-confidence geocodes are stored, and flagged for manual placement
    from geo.geocode import REVIEW_THRESHOLD

    assert s.needs_placement >= 1
    flagged = [store.get_incident(stored_id(store, r["工单编号"], "12345"), EVERYONE) for r in rows]
    flagged = [f for f in flagged if f.events[0].data.get("needs_placement")]
    assert len(flagged) == s.needs_placement
    assert all((f.incident.geocode_confidence or 0) < REVIEW_THRESHOLD for f in flagged)


def test_bad_rows_of_every_kind(store: IncidentStore, ctx: IngestContext) -> None:
    s = balanced(ingest_file(DATA / "110_bad_rows.csv", "110", store, ctx))
    assert (s.read, s.stored, s.quarantined) == (14, 6, 8)
    entries = {e.line: e for e in store.quarantine_list()}
    expected = {
        4: ("missing_id", "警情编号"),
        5: ("bad_time", "报警时间"),
        6: ("missing_time", "报警时间"),
        7: ("no_location", "报警地址"),
        8: ("no_location", "报警地址"),  # (0, 0) rejected, and the address matches nothing
        9: ("swapped_outside", "经度/纬度"),
        14: ("bad_encoding", "报警地址"),
        15: ("bad_shape", None),
    }
    assert {line: (e.code, e.column) for line, e in entries.items()} == expected
    raw = _rows("110_bad_rows.csv")  # lines 2..; the GBK row is last but one
    phones = {r["联系电话"] for r in raw if r["联系电话"] and len(r["联系电话"]) >= 7}
    assert len(phones) >= 10
    for e in entries.values():
        assert e.file == "110_bad_rows.csv" and e.source == "110"
        assert e.reason_zh and e.reason_en and e.reason_zh != e.reason_en
        assert not any(p in e.reason for p in phones)  # never echo personal data
        assert e.raw  # the row as read
    assert "坐标为 (0, 0)" in entries[8].reason_zh
    assert "\ufffd" in entries[14].raw["报警地址"]
    assert s.unmapped_categories == {"无法归类的怪事": 1} and s.phones_invalid == 1
    (weird,) = [r for r in raw if r["警情类别"] == "无法归类的怪事"]
    rec = store.get_incident(stored_id(store, weird["警情编号"]), EVERYONE)
    assert rec.incident.category == "other"


def test_same_file_twice_is_all_duplicates(store: IncidentStore, ctx: IngestContext) -> None:
    first = balanced(ingest_file(DATA / "110_bad_rows.csv", "110", store, ctx))
    n_events = len(store.query_incidents(IncidentQuery(), EVERYONE))
    again = balanced(ingest_file(DATA / "110_bad_rows.csv", "110", store, ctx))
    assert (again.stored, again.updated, again.duplicates) == (0, 0, first.stored)
    assert again.quarantined == first.quarantined and again.quarantine_added == 0
    assert len(store.query_incidents(IncidentQuery(), EVERYONE)) == n_events
    assert len(store.quarantine_list()) == first.quarantined


def test_changed_redelivery_is_an_update(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    rows = _rows("110_gbk.csv", "gbk")
    balanced(ingest_file(_write(tmp_path / "a.csv", rows), "110", store, ctx))
    changed = [dict(r) for r in rows]
    changed[3]["简要警情"] += "（补充：双方已到场）"
    changed[5]["警情类别"] = "噪音扰民"
    s = balanced(ingest_file(_write(tmp_path / "b.csv", changed), "110", store, ctx))
    assert (s.stored, s.updated, s.duplicates) == (0, 2, 18)
    evs = _events(store, rows[5]["警情编号"])
    assert [e.action for e in evs] == ["receive", "amend"]
    assert evs[1].data["category"] == "noise" and evs[1].data["content_hash"]
    rec = store.get_incident(stored_id(store, rows[5]["警情编号"]), EVERYONE)
    assert rec.status.category == "noise" and rec.status.version == 2
    # the changed file again, and the original again (an older version): nothing new
    for name in ("b.csv", "a.csv"):
        path = _write(tmp_path / name, changed if name == "b.csv" else rows)
        s = balanced(ingest_file(path, "110", store, ctx))
        assert (s.stored, s.updated, s.duplicates) == (0, 0, 20)


def test_changed_redelivery_moves_the_point(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A corrected point, address or description in a re-delivery is what the map and the
    queries show afterwards; the incident as received stays in the intake and the events."""
    rows = _rows("110_gbk.csv", "gbk")
    balanced(ingest_file(_write(tmp_path / "a.csv", rows), "110", store, ctx))
    i = next(
        k for k, r in enumerate(rows) if r["经度"] and r.get("坐标系", "WGS84") in ("", "WGS84")
    )
    changed = [dict(r) for r in rows]
    lon, lat = float(rows[i]["经度"]) + 0.002, float(rows[i]["纬度"]) + 0.001
    changed[i].update(经度=f"{lon:.6f}", 纬度=f"{lat:.6f}", 简要警情="地址更正后重新推送")
    s = balanced(ingest_file(_write(tmp_path / "b.csv", changed), "110", store, ctx))
    assert (s.stored, s.updated) == (0, 1)
    sid = rows[i]["警情编号"]
    stored = store.query_incidents(IncidentQuery(), EVERYONE).set_index("source_id")
    point = stored.loc[sid].geometry
    assert point.x == pytest.approx(lon, abs=1e-7) and point.y == pytest.approx(lat, abs=1e-7)
    assert stored.loc[sid]["description"] == "地址更正后重新推送"
    rec = store.get_incident(stored_id(store, sid), EVERYONE)
    assert rec.status.lon == pytest.approx(lon) and rec.status.version == 2
    assert rec.incident.lon == pytest.approx(float(rows[i]["经度"]))  # as received
    assert rec.incident.description == rows[i]["简要警情"]
    # the point moved in the bounding-box index too
    near = store.query_incidents(
        IncidentQuery(bbox=(lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4)), EVERYONE
    )
    assert sid in set(near["source_id"])


def test_redelivery_within_one_file(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    rows = _rows("110_gbk.csv", "gbk")[:4]
    again = dict(rows[1], 简要警情=rows[1]["简要警情"] + "（更正）")
    path = _write(tmp_path / "x.csv", [*rows, dict(rows[0]), again])
    s = balanced(ingest_file(path, "110", store, ctx, batch_size=2))
    assert (s.read, s.stored, s.updated, s.duplicates) == (6, 4, 1, 1)
    assert [e.action for e in _events(store, rows[1]["警情编号"])] == ["receive", "amend"]


def test_swapped_lat_lon(store: IncidentStore, ctx: IngestContext) -> None:
    s = balanced(ingest_file(DATA / "110_swapped.csv", "110", store, ctx))
    assert (s.stored, s.quarantined, s.swapped_corrected) == (2, 1, 2)
    rows = _rows("110_swapped.csv")
    for r in rows[:2]:
        rec = store.get_incident(stored_id(store, r["警情编号"]), EVERYONE)
        # stored where the data meant: the columns swapped back
        assert rec.incident.lon == pytest.approx(float(r["纬度"]), abs=1e-9)
        assert rec.incident.lat == pytest.approx(float(r["经度"]), abs=1e-9)
        assert "swapped_corrected" in rec.events[0].data["notes"]  # noted on the incident
        assert rec.incident.grid_code is not None
    (e,) = store.quarantine_list()
    assert e.code == "swapped_outside" and e.line == 4


def test_gcj02_and_bd09_converted(
    store: IncidentStore, ctx: IngestContext, town: dict[str, Any]
) -> None:
    s = balanced(ingest_file(DATA / "110_gcj02.csv", "110", store, ctx))
    assert s.stored == 8 and s.converted == {"gcj02": 6, "bd09": 2}
    truth = town["incidents"].set_index("source_id")
    stored = store.query_incidents(IncidentQuery(), EVERYONE)
    for _, r in stored.iterrows():
        t = truth.loc[r["source_id"][1:] if r["source_id"] not in truth.index else r["source_id"]]
        dx = (r.geometry.x - t.geometry.x) * 111_320 * np.cos(np.radians(t.geometry.y))
        dy = (r.geometry.y - t.geometry.y) * 110_574
        assert np.hypot(dx, dy) < 1.0  # metres: back on the WGS84 point
        assert r["grid_code"] == t["grid_code"]


def test_patrol_json_lines(store: IncidentStore, ctx: IngestContext) -> None:
    s = balanced(ingest_file(DATA / "patrol.jsonl", "patrol", store, ctx))
    assert (s.read, s.stored, s.quarantined, s.from_coordinates) == (6, 5, 1, 5)
    (e,) = store.quarantine_list()
    assert e.code == "bad_json" and e.line == 3 and e.raw == {"_raw": '{"id": "P-broken", "time": '}
    rec = store.query_incidents(IncidentQuery(sources=("patrol",)), EVERYONE)
    first = store.get_incident(rec["id"].iloc[0], EVERYONE)
    assert first.events[0].data["officer_id"].startswith("W")
    assert "photo/" in first.events[0].data["photos"]


def test_xlsx(store: IncidentStore, ctx: IngestContext, tmp_path: Path) -> None:
    import openpyxl

    rows = _rows("110_gbk.csv", "gbk")[:6]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(rows[0]))
    for r in rows:
        values: list[Any] = list(r.values())
        values[1] = pd.Timestamp(values[1]).to_pydatetime()  # a real Excel date
        values[3] = int(values[3])  # phone typed as a number
        sheet.append(values)
    book.save(tmp_path / "110.xlsx")
    s = balanced(ingest_file(tmp_path / "110.xlsx", "110", store, ctx))
    assert (s.encoding, s.stored) == ("xlsx", 6)
    again = balanced(ingest_file(DATA / "110_gbk.csv", "110", store, ctx))
    assert (again.duplicates, again.stored) == (6, 14)  # same content as the CSV: same hash


def test_xlsx_cell_beyond_the_header_is_quarantined_not_dropped(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    import openpyxl

    rows = _rows("110_gbk.csv", "gbk")[:3]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*rows[0], ""])  # an empty header cell at the end: no column
    sheet.append([*rows[0].values(), ""])  # trailing empty cell: fine
    sheet.append([*rows[1].values(), "", "补充：对方已离开"])  # a note beyond the header
    sheet.append(list(rows[2].values())[:5])  # trailing cells left out, as Excel does
    book.save(tmp_path / "110.xlsx")
    s = balanced(ingest_file(tmp_path / "110.xlsx", "110", store, ctx))
    assert (s.stored, s.quarantined) == (2, 1)
    (q,) = store.quarantine_list()
    assert q.code == "bad_shape" and q.line == 3
    assert q.raw["_extra_14"] == "补充：对方已离开"


def test_dry_run_writes_nothing(store: IncidentStore, ctx: IngestContext) -> None:
    s = balanced(ingest_file(DATA / "110_bad_rows.csv", "110", store, ctx, dry_run=True))
    assert s.dry_run and (s.stored, s.quarantined) == (6, 8)
    assert len(store.query_incidents(IncidentQuery(), EVERYONE)) == 0
    assert store.quarantine_list() == []


def test_dry_run_says_how_many_rows_the_quarantine_would_add(
    store: IncidentStore, ctx: IngestContext
) -> None:
    """A dry run's "newly quarantined" was always 0: it says what the run would add (a row
    the quarantine holds already, or one met in an earlier batch of the run, is not)."""
    path = DATA / "110_bad_rows.csv"
    dry = balanced(ingest_file(path, "110", store, ctx, dry_run=True, batch_size=3))
    real = balanced(ingest_file(path, "110", store, ctx, batch_size=3))
    assert dry.quarantine_added == real.quarantine_added > 0
    again = balanced(ingest_file(path, "110", store, ctx, dry_run=True, batch_size=3))
    assert again.quarantined == real.quarantined and again.quarantine_added == 0


@pytest.mark.parametrize("amended", ["in the run", "stored before"])
def test_dry_run_links_repeats_of_an_amended_incident_as_a_run_does(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path, amended: str
) -> None:
    """A changed re-delivery moves an incident; a later batch's call repeats it where it is
    now. A dry run read the amended incident again from the store, where it is not (new in
    the run: no longer a candidate) or not moved: it reported fewer repeat links."""
    rows = _rows("110_gbk.csv", "gbk")
    first, there = rows[0], next(r for r in rows[1:] if r["经度"] and r["报警地址"])
    moved = dict(first, 报警地址=there["报警地址"], 经度=there["经度"], 纬度=there["纬度"])
    later = dict(moved, 警情编号=first["警情编号"] + "R")
    later["报警时间"] = str(pd.Timestamp(first["报警时间"]) + pd.Timedelta(hours=1))
    if amended == "stored before":
        balanced(ingest_file(_write(tmp_path / "0.csv", [first]), "110", store, ctx))
    path = _write(tmp_path / "1.csv", [first, moved, later])
    dry = balanced(ingest_file(path, "110", store, ctx, batch_size=1, dry_run=True)).as_dict()
    real = balanced(ingest_file(path, "110", store, ctx, batch_size=1)).as_dict()
    assert real["repeats_linked"] == 1 and real["updated"] == 1
    for key in ("dry_run", "seconds", "rows_per_s"):
        del dry[key], real[key]
    assert dry == real


def test_encoding_override(store: IncidentStore, ctx: IngestContext) -> None:
    from ingest.formats import FormatError

    s = balanced(ingest_file(DATA / "110_gbk.csv", "110", store, ctx, encoding="gbk"))
    assert s.stored == 20 and s.encoding == "gbk"
    with pytest.raises(FormatError, match="encoding"):
        ingest_file(DATA / "110_gbk.csv", "110", store, ctx, encoding="utf-8")


def test_missing_required_column(store: IncidentStore, ctx: IngestContext, tmp_path: Path) -> None:
    from ingest.formats import FormatError

    rows = [{k: v for k, v in r.items() if k != "报警时间"} for r in _rows("110_gbk.csv", "gbk")]
    with pytest.raises(FormatError, match="报警时间"):
        ingest_file(_write(tmp_path / "x.csv", rows), "110", store, ctx)


def test_alias_map(store: IncidentStore, ctx: IngestContext, tmp_path: Path) -> None:
    rows = [
        {("接处警编号" if k == "警情编号" else k): v for k, v in r.items()}
        for r in _rows("110_gbk.csv", "gbk")[:3]
    ]
    path = _write(tmp_path / "city.csv", rows, "gbk")
    s = balanced(ingest_file(path, "110", store, ctx, aliases={"接处警编号": "source_id"}))
    assert s.stored == 3


def test_repeat_calls_linked(store: IncidentStore, ctx: IngestContext, tmp_path: Path) -> None:
    rows = _rows("110_gbk.csv", "gbk")
    first = dict(rows[0])
    later = dict(
        first,
        警情编号=first["警情编号"] + "R",
        报警时间=str(pd.Timestamp(first["报警时间"]) + pd.Timedelta(days=1)),
    )
    balanced(ingest_file(_write(tmp_path / "1.csv", [first]), "110", store, ctx))
    s = balanced(ingest_file(_write(tmp_path / "2.csv", [later]), "110", store, ctx))
    assert s.repeats_linked == 1
    rec = store.get_incident(stored_id(store, later["警情编号"]), EVERYONE)
    assert rec.status.repeat_of == stored_id(store, first["警情编号"])


def _close(store: IncidentStore, incident_id: str, at: pd.Timestamp) -> None:
    """Dispatch, arrive and resolve an hour after receipt, then close at ``at``."""
    from incidents.model import Event

    rec = store.get_incident(incident_id, EVERYONE)
    t = pd.Timestamp(rec.incident.received_at)
    steps = [("dispatch", t + pd.Timedelta(minutes=5)), ("arrive", t + pd.Timedelta(minutes=9)),
             ("resolve", t + pd.Timedelta(hours=1)), ("close", at)]  # fmt: skip
    version = rec.status.version
    for action, when in steps:
        e = Event(incident_id, version + 1, action, when.to_pydatetime(), actor="坐席01")
        version = store.append_event(e, version, EVERYONE).version


@pytest.mark.parametrize(
    ("closed_days_before", "linked"), [(None, True), (6, True), (8, False)]
)  # fmt: skip
def test_repeat_of_a_matter_received_long_before(
    store: IncidentStore,
    ctx: IngestContext,
    tmp_path: Path,
    closed_days_before: int | None,
    linked: bool,
) -> None:
    """A call repeats a matter still open, or closed at most 7 days before it, however long
    before the call that matter was received (here 10 days: ingest read only the incidents
    received in the last 8 days)."""
    first = dict(_rows("110_gbk.csv", "gbk")[0])
    later = dict(
        first,
        警情编号=first["警情编号"] + "R",
        报警时间=str(pd.Timestamp(first["报警时间"]) + pd.Timedelta(days=10)),
    )
    balanced(ingest_file(_write(tmp_path / "1.csv", [first]), "110", store, ctx))
    first_id = stored_id(store, first["警情编号"])
    if closed_days_before is not None:
        called = pd.Timestamp(later["报警时间"]).tz_localize("Asia/Shanghai")
        _close(store, first_id, called - pd.Timedelta(days=closed_days_before))
    s = balanced(ingest_file(_write(tmp_path / "2.csv", [later]), "110", store, ctx))
    assert (s.stored, s.repeats_linked) == (1, int(linked))
    rec = store.get_incident(stored_id(store, later["警情编号"]), EVERYONE)
    assert rec.status.repeat_of == (first_id if linked else None)


def test_family_violence_gets_its_one_day_deadline(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A 110 call classified 家庭暴力 is stored with the subcategory's Chinese path; its
    deadline is the subcategory's 1 day, not the family category's 3 days."""
    from incidents import sla
    from incidents.frame import prepare

    row = dict(_rows("110_gbk.csv", "gbk")[1], 警情类别="家庭暴力")
    balanced(ingest_file(_write(tmp_path / "dv.csv", [row]), "110", store, ctx))
    rec = store.get_incident(stored_id(store, row["警情编号"]), EVERYONE)
    assert (rec.incident.category, rec.incident.subcategory) == ("family", "婚恋家庭纠纷/家庭暴力")
    received = rec.incident.received_at
    assert sla.deadline(rec.status) == received + pd.Timedelta(days=1)
    frame = prepare(store.query_incidents(IncidentQuery(), EVERYONE))
    assert frame["deadline"].tolist() == [pd.Timestamp(received) + pd.Timedelta(days=1)]
