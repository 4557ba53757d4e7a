"""The seed wage case (劳资纠纷), event by event, and its KPIs.

7,000 yuan promised in two payments by 31 May; the 1 June callback finds only 3,000 paid → the
incident is reopened → a new promise of the remaining 4,000 within 3 days → paid → closed on
3 June. Times are Asia/Shanghai, as in the demo's seed case.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from incidents import sla
from incidents.frame import status_frame
from incidents.kpi import Area, Window, compute
from incidents.lifecycle import IllegalTransition, InvalidEvent, fold
from incidents.model import State
from tests.incidents._helpers import Recorder, at

FACTORY = "某五金厂负责人"


@pytest.fixture()
def case() -> Recorder:
    return Recorder("E0000042")


def run_seed_case(r: Recorder) -> None:
    """Record the whole case, asserting the state after every event."""
    s = r.add(
        "receive",
        "2026-05-25T10:12",
        category="wage",
        subcategory="arrears",
        priority="normal",
        village_code="330784199201",
        grid_code="330784199201001",
        beat_code="330784199B01",
    )
    assert (s.state, s.version, s.received_at) == (State.RECEIVED, 1, at("2026-05-25T10:12"))

    s = r.add("dispatch", "2026-05-25T10:15", team_code="T01", department_code="D07")
    assert (s.state, s.team_code, s.department_code) == (State.DISPATCHED, "T01", "D07")

    s = r.add("arrive", "2026-05-25T10:23")
    assert s.state == State.ON_SCENE
    assert s.on_scene_at and s.dispatched_at
    assert s.on_scene_at - s.dispatched_at == pd.Timedelta(minutes=8)

    s = r.add(
        "resolve",
        "2026-05-26T16:40",
        commitments=[
            {"who": FACTORY, "what": "第一笔工资", "amount": 3000, "due": "2026-05-31T00:00+08:00"},
            {"who": FACTORY, "what": "第二笔工资", "amount": 4000, "due": "2026-05-31T00:00+08:00"},
        ],
    )
    assert s.state == State.RESOLVED
    assert [c.commitment.amount for c in s.open_commitments] == [3000.0, 4000.0]
    # ordinary matter with commitments: callback the day after the due date, not next day
    assert sla.callback_schedule(s) == (date(2026, 6, 1),)
    assert sla.first_callback_day(s) == date(2026, 6, 1)

    s = r.add("queue_callback", "2026-06-01T00:00")
    assert s.state == State.CALLBACK_DUE

    s = r.add(
        "callback",
        "2026-06-01T10:05",
        satisfaction="不满意",
        checks=[{"index": 0, "kept": True, "paid": 3000}, {"index": 1, "kept": False, "paid": 0}],
    )
    assert s.state == State.REOPENED
    assert (s.reopen_count, s.resolved_at, s.satisfaction) == (1, None, "不满意")
    assert [c.status for c in s.commitments] == ["kept", "broken"]
    assert sum(c.paid or 0 for c in s.commitments) == 3000
    assert sla.callback_schedule(s) == ()

    s = r.add(
        "resolve",
        "2026-06-01T16:30",
        commitments=[{"who": FACTORY, "what": "补足余款", "amount": 4000, "due": "2026-06-04"}],
    )
    assert s.state == State.RESOLVED
    assert s.first_resolved_at == at("2026-05-26T16:40")
    assert s.resolved_at == at("2026-06-01T16:30")
    assert sla.callback_schedule(s) == (date(2026, 6, 5),)

    s = r.add("callback", "2026-06-03T15:30", satisfaction="满意", kept=True, paid=4000)
    assert s.state == State.CLOSED
    assert s.closed_at == at("2026-06-03T15:30")
    assert s.open_commitments == ()
    assert [c.status for c in s.commitments] == ["kept", "broken", "kept"]
    assert (s.callback_count, s.satisfaction, s.last_satisfaction) == (2, "不满意", "满意")
    assert sla.callback_schedule(s) == ()
    assert s.version == len(r.events) == 8


def test_seed_case_event_by_event(case: Recorder) -> None:
    run_seed_case(case)
    assert fold(case.events) == case.status


def test_seed_case_refuses_what_does_not_fit(case: Recorder) -> None:
    case.add("receive", "2026-05-25T10:12", category="wage")
    with pytest.raises(IllegalTransition) as exc:
        case.add("resolve", "2026-05-25T10:13")  # not before a team is on scene
    assert exc.value.state == State.RECEIVED and "dispatch" in exc.value.allowed
    case.add("dispatch", "2026-05-25T10:15")
    case.add("arrive", "2026-05-25T10:23")
    due = {"who": FACTORY, "what": "工资", "amount": 7000, "due": "2026-05-31"}
    case.add("resolve", "2026-05-26T16:40", commitments=[due])
    with pytest.raises(InvalidEvent, match="open commitments"):
        case.add("close", "2026-05-27T09:00")
    with pytest.raises(InvalidEvent, match="open commitments"):
        case.add("callback", "2026-05-27T09:00", satisfaction="满意", result="close")
    # a callback before the due date that finds nothing paid breaks nothing yet
    s = case.add("callback", "2026-05-27T09:00", kept=False, result="continue")
    assert s.state == State.CALLBACK_DUE and s.open_commitments
    assert case.status is not None and case.status.version == 5


def test_seed_case_overdue_callback_triggers_supervision(case: Recorder) -> None:
    run_seed_case(case)
    before_callback = fold(case.events[:5])  # callback due on 1 June, not yet made
    assert not sla.overdue(before_callback, at("2026-06-01T23:59")).any
    late = sla.overdue(before_callback, at("2026-06-02T00:01"))
    assert late.flags == ("callback",) and late.needs_supervision


def test_seed_case_kpis(case: Recorder) -> None:
    run_seed_case(case)
    assert case.status is not None
    frame = status_frame([case.status])
    as_of = at("2026-06-30T00:00")
    may = compute(frame, Window.month(2026, 5), as_of=as_of)
    june = compute(frame, Window.month(2026, 6), as_of=as_of)

    # arrival: dispatched 25 May 10:15, on scene 10:23 → within 10 minutes
    assert (may["arrival_10min"].numerator, may["arrival_10min"].denominator) == (1, 1)
    assert may["arrival_10min"].value == 1.0
    # first resolved 26 May: called back (1 June) and reopened once
    assert (may["callback"].numerator, may["callback"].denominator) == (1, 1)
    assert (may["reopen"].numerator, may["reopen"].denominator) == (1, 1)
    assert (may["repeat"].numerator, may["repeat"].denominator) == (0, 1)
    assert (may["return"].numerator, may["return"].denominator) == (0, 1)
    # satisfaction is that of the first callback (1 June): 不满意
    assert (june["satisfaction"].numerator, june["satisfaction"].denominator) == (0, 1)
    assert june["satisfaction"].value == 0.0
    assert may["satisfaction"].denominator == 0 and may["satisfaction"].value is None
    # deadline 15 days after receipt (9 June): standing resolution 1 June is on time
    assert (june["on_time"].numerator, june["on_time"].denominator) == (1, 1)
    # handling: 25 May 10:12 → 3 June 15:30 = 9 d 5 h 18 min
    assert june["handling_hours"].denominator == 1
    assert june["handling_hours"].value == pytest.approx(9 * 24 + 5 + 18 / 60)
    # open at the end of May, not overdue; nothing open at the end of June
    assert (may["open"].value, may["overdue"].value) == (1.0, 0.0)
    assert (june["open"].value, june["overdue"].value) == (0.0, 0.0)
    # the area filter: the case's village has it, another village does not
    village = compute(
        frame, Window.month(2026, 5), as_of=as_of, area=Area.of("village", "330784199201")
    )
    other = compute(
        frame, Window.month(2026, 5), as_of=as_of, area=Area.of("village", "330784199202")
    )
    assert village["arrival_10min"].denominator == 1
    assert other["arrival_10min"].denominator == 0 and other["arrival_10min"].value is None
