"""KPI definitions (docs/kpi.md): windows, areas, pending outcomes, comparisons and speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from incidents.frame import COLUMNS, prepare, status_frame
from incidents.kpi import (
    KPIS,
    Area,
    KpiInputError,
    Window,
    as_records,
    compare,
    compute,
    compute_by,
)
from tests.incidents._helpers import Recorder

TZ = "Asia/Shanghai"


def ts(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ) if text else pd.NaT  # type: ignore[return-value]


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    """A KPI frame from partial rows (defaults: ids E1, E2, …; noise; received 1 March)."""
    base = []
    for i, r in enumerate(rows, 1):
        row = {"id": f"E{i}", "category": "noise", "state": "received",
               "received_at": "2026-03-01T00:00", **r}  # fmt: skip
        for k, v in row.items():
            if k.endswith("_at") or k in ("deadline", "commitment_due"):
                row[k] = ts(v)  # type: ignore[arg-type]
        base.append(row)
    return prepare(pd.DataFrame(base))


def pair(v: object) -> tuple[object, object]:
    return (v.numerator, v.denominator)  # type: ignore[attr-defined]


MARCH = Window.month(2026, 3)
AS_OF = ts("2026-04-15T00:00")


def test_arrival_counts_misses_and_leaves_pending_and_returned_out() -> None:
    f = frame(
        {"dispatched_at": "2026-03-02T09:00", "on_scene_at": "2026-03-02T09:10"},  # hit (= 10)
        {"dispatched_at": "2026-03-02T09:00", "on_scene_at": "2026-03-02T09:10:01"},  # miss
        {"dispatched_at": "2026-03-02T09:00"},  # never arrived, 10 min passed: miss
        {"dispatched_at": "2026-03-02T09:00", "returned_at": "2026-03-02T09:05",
         "state": "returned"},  # returned before arriving: out
        {"dispatched_at": "2026-03-31T23:55"},  # pending at as_of below: out
        {"dispatched_at": "2026-04-01T00:00", "on_scene_at": "2026-04-01T00:05"},  # April
    )  # fmt: skip
    v = compute(f, MARCH, as_of=ts("2026-04-01T00:01"))["arrival_10min"]
    assert pair(v) == (1, 3) and v.value == pytest.approx(1 / 3)
    later = compute(f, MARCH, as_of=AS_OF)["arrival_10min"]
    assert pair(later) == (1, 4)


def test_on_time_resolution_by_deadline_window() -> None:
    f = frame(
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T20:00", "state": "resolved"},
        {"received_at": "2026-03-02T09:00", "resolved_at": "2026-03-03T10:00", "state": "resolved"},
        {"received_at": "2026-03-03T09:00"},  # deadline 4 March passed, unresolved: miss
        {"received_at": "2026-03-30T12:00"},  # deadline 31 March 12:00, as_of before: pending
        {"received_at": "2026-03-30T12:00", "resolved_at": "2026-03-30T13:00",
         "state": "resolved"},  # resolved early: counted
        {"received_at": "2026-03-04T09:00", "state": "returned"},  # returned: out
        {"received_at": "2026-03-05T09:00", "deadline": "2026-04-02T00:00"},  # April deadline
    )  # fmt: skip
    v = compute(f, MARCH, as_of=ts("2026-03-31T00:00"))["on_time"]
    assert pair(v) == (2, 4)
    assert pair(compute(f, MARCH, as_of=AS_OF)["on_time"]) == (2, 5)


def test_callback_rate_waits_until_the_callback_day_is_over() -> None:
    f = frame(
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T12:00",
         "callback_at": "2026-03-02T10:00", "state": "closed", "closed_at": "2026-03-02T10:00"},
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T12:00",
         "state": "callback_due"},  # due 2 March, not made: miss once 3 March starts
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T12:00",
         "commitment_due": "2026-03-20", "state": "resolved"},  # due 21 March
    )  # fmt: skip
    assert pair(compute(f, MARCH, as_of=ts("2026-03-02T23:59"))["callback"]) == (1, 1)
    assert pair(compute(f, MARCH, as_of=ts("2026-03-03T00:00"))["callback"]) == (1, 2)
    assert pair(compute(f, MARCH, as_of=ts("2026-03-22T00:00"))["callback"]) == (1, 3)


def test_satisfaction_repeat_return_reopen_and_handling() -> None:
    f = frame(
        {"received_at": "2026-03-01T08:00", "callback_at": "2026-03-02T10:00",
         "satisfaction": "满意", "closed_at": "2026-03-02T10:00", "state": "closed"},
        {"received_at": "2026-03-01T08:00", "callback_at": "2026-03-02T10:00",
         "satisfaction": "基本满意", "closed_at": "2026-03-03T08:00", "state": "closed"},
        {"received_at": "2026-03-01T08:00", "callback_at": "2026-03-02T10:00",
         "satisfaction": "不满意", "state": "reopened", "reopen_count": 1,
         "resolved_at": "2026-03-01T09:00", "first_resolved_at": "2026-03-01T09:00"},
        {"received_at": "2026-03-01T08:00", "callback_at": "2026-03-02T10:00"},  # unrated
        {"received_at": "2026-03-05T08:00", "repeat_of": "E1", "state": "returned"},
        {"received_at": "2026-02-28T08:00", "repeat_of": "E1"},  # February
    )  # fmt: skip
    k = compute(f, MARCH, as_of=AS_OF)
    assert pair(k["satisfaction"]) == (2, 3)
    assert pair(k["repeat"]) == (1, 5) and pair(k["return"]) == (1, 5)
    assert pair(k["reopen"]) == (1, 1)
    assert k["handling_hours"].denominator == 2
    assert k["handling_hours"].value == pytest.approx((26 + 48) / 2)
    assert k["handling_hours"].numerator == pytest.approx(74.0)


def test_open_and_overdue_snapshots_at_the_window_end() -> None:
    f = frame(
        {"received_at": "2026-03-10T09:00"},  # open, noise deadline 11 March: overdue
        {"received_at": "2026-03-31T09:00"},  # open, deadline 1 April: not overdue
        {"received_at": "2026-03-10T09:00", "resolved_at": "2026-03-10T10:00",
         "state": "resolved"},  # open (awaiting callback), resolved in time
        {"received_at": "2026-03-10T09:00", "closed_at": "2026-03-20T09:00", "state": "closed"},
        {"received_at": "2026-03-10T09:00", "closed_at": "2026-04-02T09:00", "state": "closed"},
        {"received_at": "2026-04-01T00:00"},  # after the window
    )  # fmt: skip
    k = compute(f, MARCH, as_of=AS_OF)
    assert (k["open"].value, k["overdue"].value) == (4.0, 2.0)  # E1, E2, E3, E5; E1, E5
    assert k["open"].denominator is None
    early = compute(f, MARCH, as_of=ts("2026-03-15T00:00"))  # snapshot at as_of
    # E1, E3, E4 (closed later), E5 open; E1, E4, E5 past their 11 March deadline
    assert (early["open"].numerator, early["overdue"].numerator) == (4, 3)


def test_area_filters_and_compute_by() -> None:
    f = frame(
        {"received_at": "2026-03-01T08:00", "village_code": "V1", "grid_code": "G1"},
        {"received_at": "2026-03-01T08:00", "village_code": "V1", "grid_code": "G2",
         "repeat_of": "E1"},
        {"received_at": "2026-03-01T08:00", "village_code": "V2", "grid_code": "G3",
         "team_code": "T1"},
        {"received_at": "2026-03-01T08:00"},  # no codes
    )  # fmt: skip
    assert pair(compute(f, MARCH, as_of=AS_OF, area=Area.of("village", "V1"))["repeat"]) == (1, 2)
    assert pair(compute(f, MARCH, as_of=AS_OF, area=Area.of("grid", "G1", "G3"))["repeat"]) == (
        0, 2,
    )  # fmt: skip
    assert pair(compute(f, MARCH, as_of=AS_OF, area=Area.of("team", "T1"))["repeat"]) == (0, 1)
    by = compute_by(f, MARCH, "village", as_of=AS_OF)
    assert by.index.tolist() == ["V1", "V2"]
    assert by.loc["V1", "repeat"] == 0.5 and by.loc["V1", "repeat_den"] == 2
    assert by.loc["V2", "satisfaction"] is None or np.isnan(by.loc["V2", "satisfaction"])
    assert by.loc["V1", "open"] == 2
    with pytest.raises(KpiInputError):
        Area.of("county", "X")


def test_windows_and_comparisons() -> None:
    w = Window.month(2026, 3)
    assert (w.start, w.end) == (ts("2026-03-01"), ts("2026-04-01"))
    assert w.previous() == Window.month(2026, 2)  # 环比: the previous calendar month
    assert w.year_earlier() == Window.month(2025, 3)  # 同比
    d = Window.day("2026-03-31")
    assert d.previous() == Window.day("2026-03-30") and d.year_earlier() == Window.day("2025-03-31")
    wk = Window.week("2026-03-04")  # a Wednesday
    assert wk.start == ts("2026-03-02") and wk.previous().start == ts("2026-02-23")
    leap = Window.day("2028-02-29").year_earlier()
    assert leap.start == ts("2027-02-28")
    any_ = Window.between("2026-03-10", "2026-03-13")
    assert any_.previous() == Window.between("2026-03-07", "2026-03-10")
    with pytest.raises(KpiInputError):
        Window.between("2026-03-13", "2026-03-10")

    with pytest.raises(KpiInputError):
        Window(pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02"))

    rows: list[dict[str, object]] = [
        {"received_at": f"2026-03-0{i}T08:00", "repeat_of": "E0" if i < 3 else None}
        for i in range(1, 5)
    ]
    rows += [{"received_at": "2026-02-10T08:00", "repeat_of": "E0"},
             {"received_at": "2025-03-10T08:00"}, {"received_at": "2025-03-11T08:00"}]  # fmt: skip
    c = compare(frame(*rows), w, as_of=AS_OF)["repeat"]
    assert pair(c.current) == (2, 4) and pair(c.previous) == (1, 1)
    assert pair(c.year_earlier) == (0, 2)
    assert c.mom_change == pytest.approx(-0.5) and c.yoy_change == pytest.approx(0.5)
    assert c.mom_pct == pytest.approx(-0.5) and c.yoy_pct is None  # base 0
    recs = as_records(compute(frame(*rows), w, as_of=AS_OF))
    assert [r["name"] for r in recs] == list(KPIS) and recs[0]["zh"] == "十分钟到场率"


def test_a_period_so_far_is_compared_with_the_same_stretch_before() -> None:
    today = Window.day("2026-03-31").to_date(ts("2026-03-31 00:46"))
    assert (today.start, today.end, today.unit) == (ts("2026-03-31"), ts("2026-03-31 00:46"), "day")
    assert today.previous() == Window(ts("2026-03-30"), ts("2026-03-30 00:46"), "day")
    assert today.year_earlier() == Window(ts("2025-03-31"), ts("2025-03-31 00:46"), "day")
    week = Window.week("2026-03-04").to_date(ts("2026-03-04 12:00"))  # Wednesday noon
    assert week.previous() == Window(ts("2026-02-23"), ts("2026-02-25 12:00"), "week")
    month = Window.month(2026, 3).to_date(ts("2026-03-10 08:00"))
    assert month.previous() == Window(ts("2026-02-01"), ts("2026-02-10 08:00"), "month")
    # over, or not begun: the whole window; just begun: its first millisecond
    assert Window.day("2026-03-30").to_date(ts("2026-03-31 00:46")) == Window.day("2026-03-30")
    begun = Window.day("2026-03-31").to_date(ts("2026-03-31"))
    assert begun.end - begun.start == pd.Timedelta(milliseconds=1)
    # the counts: 1 call so far today against 1 in the same stretch of yesterday (of 6)
    times = ["2026-03-30T00:10", *(f"2026-03-30T1{h}:00" for h in range(5)), "2026-03-31T00:20"]
    calls = frame(*({"received_at": t} for t in times))
    at = ts("2026-03-31 00:46")
    got = compare(calls, Window.day("2026-03-31").to_date(at), as_of=at)["repeat"]
    assert (got.current.denominator, got.previous.denominator) == (1, 1)
    whole = compare(calls, Window.day("2026-03-31"), as_of=at)["repeat"]
    assert whole.previous.denominator == 6  # the whole of yesterday: what the wall showed


def test_input_checks() -> None:
    with pytest.raises(KpiInputError, match="lacks columns"):
        compute(pd.DataFrame({"id": ["E1"]}), MARCH, as_of=AS_OF)
    f = frame({"received_at": "2026-03-01T08:00"})
    with pytest.raises(KpiInputError, match="aware"):
        compute(f, MARCH, as_of=pd.Timestamp("2026-04-01"))
    with pytest.raises(ValueError, match="lacks columns"):
        prepare(pd.DataFrame({"id": ["E1"]}))
    empty = compute(f.iloc[0:0], MARCH, as_of=AS_OF)
    assert all(v.value is None or v.value == 0 for v in empty.values())


def test_status_frame_and_prepare_give_the_same_columns() -> None:
    r = Recorder("E1")
    r.add("receive", "2026-03-02T09:00", category="help", village_code="V1")
    s = r.add("dispatch", "2026-03-02T09:02")
    f = status_frame([s])
    assert list(f.columns) == list(COLUMNS)
    again = prepare(f)
    pd.testing.assert_frame_equal(again, f)
    assert f.loc[0, "deadline"] == ts("2026-03-03T09:00")


def test_prepare_reads_the_standing_resolution() -> None:
    """A store frame's ``resolved_at`` is the first resolution and ``standing_resolved_at`` the
    standing one; a frame with only the first (the demo layer) has no standing resolution
    outside the resolved states. Resolved on time, reopened, then re-resolved late or not at
    all: misses (docs/kpi.md)."""
    rows = [
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T10:00",
         "standing_resolved_at": "2026-03-04T10:00", "state": "resolved"},  # re-resolved late
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T10:00",
         "standing_resolved_at": None, "state": "reopened"},  # not re-resolved
        {"received_at": "2026-03-01T09:00", "resolved_at": "2026-03-01T10:00",
         "standing_resolved_at": "2026-03-01T10:00", "state": "closed"},  # on time
    ]  # fmt: skip
    store_like = frame(*rows)
    assert "standing_resolved_at" not in store_like
    assert store_like["first_resolved_at"].tolist() == [ts("2026-03-01T10:00")] * 3
    assert store_like["resolved_at"].iloc[0] == ts("2026-03-04T10:00")
    assert pd.isna(store_like["resolved_at"].iloc[1])
    k = compute(store_like, MARCH, as_of=AS_OF)
    assert pair(k["on_time"]) == (1, 3)
    snap = compute(store_like, Window.day(ts("2026-03-03").date()), as_of=AS_OF)
    assert snap["overdue"].value == 2  # at 4 March 00:00: E1 not yet re-resolved, E2 reopened
    pd.testing.assert_frame_equal(prepare(store_like), store_like)  # prepared stays prepared
    demo_like = frame(*({k: v for k, v in r.items() if k != "standing_resolved_at"} for r in rows))
    assert pd.isna(demo_like["resolved_at"].iloc[1])  # reopened: no standing resolution
    assert demo_like["resolved_at"].iloc[0] == ts("2026-03-01T10:00")  # the first stands in
    assert pair(compute(demo_like, MARCH, as_of=AS_OF)["on_time"]) == (2, 3)


def test_demo_layer_through_prepare(demo_town: dict) -> None:
    """The demo's incidents layer works as KPI input, and its seed case reads as expected."""
    from layers.demo.incidents import make_incidents

    layer, meta = make_incidents(demo_town, seed=7, n=400)
    f = prepare(pd.DataFrame(layer.drop(columns="geometry")))
    as_of = pd.Timestamp(meta["end"])
    year = Window.between(meta["start"], meta["end"])
    k = compute(f, year, as_of=as_of)
    assert k["return"].denominator == len(layer)
    assert k["return"].numerator == int((layer["state"] == "returned").sum())
    assert k["repeat"].numerator == int(layer["repeat_of"].notna().sum())
    assert 0.8 < (k["arrival_10min"].value or 0) <= 1
    seed = f.loc[f["id"] == meta["seed_case"]["id"]]
    day = Window.day(seed["dispatched_at"].iloc[0].tz_convert(TZ).date())
    ks = compute(seed, day, as_of=as_of)
    assert pair(ks["arrival_10min"]) == (1, 1)
    assert seed["reopen_count"].iloc[0] == 1 and seed["satisfaction"].iloc[0] == "不满意"


def test_a_city_year_is_fast() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    received = ts("2026-01-01") + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    disp = received + pd.to_timedelta(rng.uniform(1, 5, n), unit="min")
    f = prepare(pd.DataFrame({
        "id": [f"E{i}" for i in range(n)], "category": rng.choice(list(KPIS)[:8], n),
        "state": rng.choice(["closed", "resolved", "received"], n), "received_at": received,
        "dispatched_at": disp, "on_scene_at": disp + pd.to_timedelta(rng.gamma(2, 4, n), "min"),
        "village_code": rng.choice([f"V{i}" for i in range(20)], n),
    }))  # fmt: skip
    start = time.perf_counter()
    c = compare(f, Window.month(2026, 6), as_of=ts("2027-01-01"), area=Area.of("village", "V3"))
    by = compute_by(f, Window.month(2026, 6), "village", as_of=ts("2027-01-01"))
    elapsed = time.perf_counter() - start
    assert (c["arrival_10min"].current.denominator or 0) > 0 and len(by) == 20
    assert elapsed < 3, f"took {elapsed:.2f} s"
