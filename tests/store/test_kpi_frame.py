"""The KPI frame the reports and the wall build from a store query agrees with the one folded
from the events (docs/kpi.md), on every backend: on-time resolution and overdue are judged by
the *standing* resolution (a reopen clears it), and a return counts from when it happened.

The store's ``resolved_at`` is the first resolution (the layer's 处置完毕时间); before its
``standing_resolved_at`` reached the frames, an incident resolved on time, reopened and
re-resolved late counted as on time, one reopened and never re-resolved was never overdue, and
a returned incident was gone from the open count from the moment it was received.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from app import reports, wall_data
from incidents import kpi
from incidents.frame import status_frame
from incidents.lifecycle import fold
from incidents.model import Incident
from store import IncidentQuery, IncidentStore, Scope
from tests.store.conftest import event, make_incident

ALL = Scope.everything("test")
DAY = 24 * 60  # minutes
#: Local day of the two noise incidents' deadlines (received 1 May 10:00 and 11:00, +1 day).
DEADLINE_DAY = date(2026, 5, 2)


def _scenario(store: IncidentStore) -> tuple[list[Incident], pd.Timestamp]:
    """E1 resolved on time, reopened, resolved again two days late; E2 resolved on time,
    reopened, not resolved again; E3 returned two days after it was received. Returns the
    incidents and "now" (six days after the first was received)."""
    e1, e2, e3 = (make_incident(n, category="noise") for n in (1, 2, 3))
    store.add_incidents([e1, e2, e3])
    for inc, steps in (
        (e1, [("dispatch", 5), ("arrive", 15), ("resolve", 60), ("reopen", 120),
              ("resolve", 3 * DAY)]),
        (e2, [("dispatch", 5), ("arrive", 15), ("resolve", 60), ("reopen", 120)]),
        (e3, [("dispatch", 5), ("return", 2 * DAY)]),
    ):  # fmt: skip
        for seq, (action, minutes) in enumerate(steps, 2):
            store.append_event(event(inc, seq, action, minutes), seq - 1, ALL)
    return [e1, e2, e3], pd.Timestamp(e1.received_at) + pd.Timedelta(days=6)


def _folded(store: IncidentStore, incidents: list[Incident]) -> pd.DataFrame:
    """The KPI frame from folding each incident's stored events (the definition's input)."""
    return status_frame(fold(store.events(i.id, ALL), i) for i in incidents)


def _on_time_and_overdue(frame: pd.DataFrame, window: kpi.Window, as_of: pd.Timestamp) -> tuple:
    k = kpi.compute(frame, window, as_of=as_of)
    return (k["on_time"].numerator, k["on_time"].denominator), k["overdue"].value, k["open"].value


def test_report_and_wall_frames_judge_the_standing_resolution(store: IncidentStore) -> None:
    incidents, now = _scenario(store)
    folded = _folded(store, incidents)
    report = reports.load_frame(store, ALL)
    wall = wall_data._kpi_frame(store.query_incidents(IncidentQuery(), wall_data.SCOPE))
    # Up to now: E1 re-resolved late and E2 never re-resolved both miss; E2 is overdue; E1
    # (resolved, awaiting its callback) and E2 are open.
    until_now = kpi.Window.between("2026-04-01", "2026-06-01")
    expected = _on_time_and_overdue(folded, until_now, now)
    assert expected == ((0, 2), 1.0, 2.0)
    # The deadlines' day: at its end E1 was not resolved again yet and E3 not yet returned.
    day = kpi.Window.day(DEADLINE_DAY)
    expected_day = _on_time_and_overdue(folded, day, now)
    assert expected_day == ((0, 2), 3.0, 3.0)
    for frame in (report, wall):
        assert _on_time_and_overdue(frame, until_now, now) == expected
        assert _on_time_and_overdue(frame, day, now) == expected_day
        by_id = frame.set_index("id")
        for col in ("first_resolved_at", "resolved_at", "returned_at", "reopen_count",
                    "closed_at", "deadline"):  # fmt: skip
            got, want = by_id.loc[folded["id"], col].tolist(), folded[col].tolist()
            assert [None if pd.isna(v) else v for v in got] == [
                None if pd.isna(v) else v for v in want
            ], col


def test_daily_report_lists_the_reopened_as_overdue(store: IncidentStore) -> None:
    incidents, now = _scenario(store)
    rep = reports.build_report(store, "daily", DEADLINE_DAY, scope=ALL, as_of=now)
    on_time = rep.levels["town"][0].kpis["on_time"].current
    assert (on_time.numerator, on_time.denominator) == (0, 2)
    assert sorted(rep.overdue["id"]) == [i.id for i in incidents]
    folded = _folded(store, incidents)
    assert (
        rep.levels["town"][0].kpis["overdue"].current.value
        == kpi.compute(folded, kpi.Window.day(DEADLINE_DAY), as_of=now)["overdue"].value
    )
