"""Deadlines, the callback schedule, overdue flags and supervision (scalar and vectorised)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from incidents import sla
from incidents.frame import status_frame
from incidents.lifecycle import IncidentStatus
from incidents.sla import SlaPolicy
from tests.incidents._helpers import Recorder, at


def handled(category: str = "noise", priority: str = "normal", **resolve: object) -> Recorder:
    """Received 2 March 09:00, dispatched 09:02, on scene 09:09, resolved 2 March 11:00."""
    r = Recorder("E1")
    r.add("receive", "2026-03-02T09:00", category=category, priority=priority)
    r.add("dispatch", "2026-03-02T09:02", team_code="T01")
    r.add("arrive", "2026-03-02T09:09")
    r.add("resolve", "2026-03-02T11:00", **resolve)
    return r


def test_resolution_deadlines_by_category_subcategory_and_explicit() -> None:
    p = sla.DEFAULT_POLICY
    t = at("2026-03-02T09:00")
    assert p.resolution_deadline("wage", t) == t + timedelta(days=15)
    assert p.resolution_deadline("wage", t, "group") == t + timedelta(days=3)
    assert p.resolution_deadline("noise", t, "renovation") == t + timedelta(days=1)
    assert p.resolution_deadline("unheard-of", t) == t + p.default_resolve
    assert p.resolution_deadline("wage", t, explicit=t + timedelta(hours=5)) == t + timedelta(
        hours=5
    )
    custom = SlaPolicy(resolve={"wage": timedelta(days=5)}, default_resolve=timedelta(days=2))
    assert custom.resolution_deadline("wage", t) == t + timedelta(days=5)
    assert custom.resolution_deadline("noise", t) == t + timedelta(days=2)
    with pytest.raises(ValueError):
        SlaPolicy(key_callback_every=0)
    with pytest.raises(ValueError):
        SlaPolicy(supervise_on=frozenset({"lunch"}))


def test_vectorised_deadlines_agree_with_scalar() -> None:
    t = at("2026-03-02T09:00")
    frame = pd.DataFrame({
        "received_at": [t] * 4,
        "category": ["wage", "wage", "help", "nope"],
        "subcategory": [None, "group", None, None],
        "deadline": [None, None, t + timedelta(hours=2), None],
    })  # fmt: skip
    got = sla.deadlines(frame).tolist()
    p = sla.DEFAULT_POLICY
    cols = frame[["category", "subcategory", "deadline"]].itertuples(index=False)
    want = [p.resolution_deadline(c, t, s, d if pd.notna(d) else None) for c, s, d in cols]
    assert got == [pd.Timestamp(w) for w in want]


def test_subcategory_periods_apply_to_names_as_stored() -> None:
    """Ingest stores a subcategory as its Chinese path (婚恋家庭纠纷/家庭暴力), the demo as its
    name (家庭暴力): both get the subcategory's own period, as its code does."""
    p = sla.DEFAULT_POLICY
    t = at("2026-03-02T09:00")
    for sub in ("violence", "家庭暴力", "婚恋家庭纠纷/家庭暴力", "family.violence", "家暴"):
        assert p.resolution_deadline("family", t, sub) == t + timedelta(days=1), sub
    for sub in ("group", "群体讨薪", "劳资纠纷/群体讨薪", "Group wage claim"):
        assert p.resolution_deadline("wage", t, sub) == t + timedelta(days=3), sub
    # a subcategory without a period of its own, or of another category: the category's
    assert p.resolution_deadline("wage", t, "劳资纠纷/拖欠工资") == t + timedelta(days=15)
    assert p.resolution_deadline("wage", t, "家庭暴力") == t + timedelta(days=15)
    assert p.resolution_deadline("family", t, "婚恋家庭纠纷/夫妻矛盾") == t + timedelta(days=3)
    status = Recorder("E1").add(
        "receive", "2026-03-02T09:00", category="family", subcategory="婚恋家庭纠纷/家庭暴力"
    )
    assert sla.deadline(status) == t + timedelta(days=1)


def test_vectorised_deadlines_resolve_subcategory_names_as_scalar() -> None:
    t = at("2026-03-02T09:00")
    frame = pd.DataFrame({
        "received_at": [t] * 8,
        "category": ["family", "family", "family", "wage", "wage", "wage", None, "family"],
        "subcategory": ["婚恋家庭纠纷/家庭暴力", "家庭暴力", "violence", "劳资纠纷/群体讨薪",
                        "群体讨薪", "劳资纠纷/拖欠工资", "家庭暴力", None],
    })  # fmt: skip
    got = sla.deadlines(frame)
    days = [1, 1, 1, 3, 3, 15, 7, 3]
    assert got.tolist() == [t + timedelta(days=d) for d in days]
    p = sla.DEFAULT_POLICY
    cols = frame[["category", "subcategory"]].itertuples(index=False)
    assert got.tolist() == [pd.Timestamp(p.resolution_deadline(c, t, s)) for c, s in cols]
    status = Recorder("E1").add(
        "receive", "2026-03-02T09:00", category="family", subcategory="婚恋家庭纠纷/家庭暴力"
    )
    assert status_frame([status])["deadline"].tolist() == [t + timedelta(days=1)]


def test_ordinary_callback_is_next_day_and_done_once_reached() -> None:
    r = handled()
    assert sla.callback_schedule(r.status) == (date(2026, 3, 3),)  # type: ignore[arg-type]
    s = r.add("callback", "2026-03-03T10:00", satisfaction="满意", result="continue")
    assert sla.callback_schedule(s) == ()


def test_key_matters_every_n_days_until_closed() -> None:
    r = handled("family", priority="key")
    s = r.status
    assert isinstance(s, IncidentStatus)
    assert sla.callback_schedule(s) == (date(2026, 3, 3),)
    until = date(2026, 3, 20)
    assert sla.callback_schedule(s, until=until) == (
        date(2026, 3, 3), date(2026, 3, 10), date(2026, 3, 17),
    )  # fmt: skip
    s = r.add("callback", "2026-03-03T10:00", satisfaction="基本满意", result="continue")
    assert sla.next_callback(s) == date(2026, 3, 10)
    s = r.add("callback", "2026-03-11T10:00", satisfaction="满意", result="continue")  # late
    assert sla.next_callback(s) == date(2026, 3, 17)
    every3 = SlaPolicy(key_callback_every=3)
    assert sla.callback_schedule(s, every3, until=until) == (
        date(2026, 3, 12), date(2026, 3, 15), date(2026, 3, 18),
    )  # fmt: skip
    s = r.add("callback", "2026-03-12T10:00", satisfaction="满意")
    assert sla.callback_schedule(s, until=until) == ()


def test_commitments_schedule_the_day_after_each_due_date() -> None:
    promises = [
        {"who": "房东", "what": "退押金一半", "due": "2026-03-05", "amount": 500},
        {"who": "房东", "what": "退押金余款", "due": "2026-03-10", "amount": 500},
    ]
    r = handled("rental", commitments=promises)
    s = r.status
    assert isinstance(s, IncidentStatus)
    assert sla.callback_schedule(s) == (date(2026, 3, 6), date(2026, 3, 11))
    assert sla.first_callback_day(s) == date(2026, 3, 6)
    s = r.add(
        "callback", "2026-03-06T10:00", checks=[{"index": 0, "kept": True}], result="continue"
    )
    assert sla.callback_schedule(s) == (date(2026, 3, 11),)
    # a key matter with commitments gets both rhythms
    r = handled("rental", priority="key", commitments=promises[1:])
    assert isinstance(r.status, IncidentStatus)
    assert sla.callback_schedule(r.status) == (date(2026, 3, 3), date(2026, 3, 11))


def test_overdue_flags_at_a_given_now() -> None:
    r = Recorder("E1")
    s = r.add("receive", "2026-03-02T09:00", category="noise")  # 1-day resolution period
    assert sla.overdue(s, at("2026-03-03T08:59")).flags == ()
    late = sla.overdue(s, at("2026-03-03T09:01"))
    assert late.flags == ("resolution",) and late.needs_supervision
    s = r.add("dispatch", "2026-03-02T09:02")
    assert not sla.overdue(s, at("2026-03-02T09:12")).arrival
    assert sla.overdue(s, at("2026-03-02T09:12:01")).arrival
    s = r.add("supervise", "2026-03-02T09:20")
    o = sla.overdue(s, at("2026-03-02T09:30"))
    assert o.arrival and not o.needs_supervision  # already supervised
    s = r.add("arrive", "2026-03-02T09:31")
    s = r.add("resolve", "2026-03-02T11:00")
    assert sla.overdue(s, at("2026-03-03T23:59")).flags == ()  # resolved: not resolution-late
    assert sla.overdue(s, at("2026-03-04T00:00")).flags == ("callback",)
    only_arrival = SlaPolicy(supervise_on=frozenset({"arrival"}))
    s = r.add("unsupervise", "2026-03-03T08:00")
    assert not sla.overdue(s, at("2026-03-04T00:00"), only_arrival).needs_supervision
    assert sla.overdue(s, at("2026-03-04T00:00")).needs_supervision
    s = r.add("callback", "2026-03-04T09:00", satisfaction="满意")
    assert sla.overdue(s, at("2026-04-01T00:00")) == sla.Overdue()


def test_overdue_frame_agrees_with_scalar_overdue() -> None:
    statuses = []
    r = Recorder("A")
    statuses.append(r.add("receive", "2026-03-02T09:00", category="noise"))
    r = Recorder("B")
    r.add("receive", "2026-03-02T09:00", category="wage")
    statuses.append(r.add("dispatch", "2026-03-02T09:01"))
    statuses.append(handled().status)  # type: ignore[arg-type]
    r = handled("family", priority="key")
    statuses.append(r.add("callback", "2026-03-03T10:00", satisfaction="满意", result="continue"))
    r = Recorder("C")
    r.add("receive", "2026-03-02T09:00", category="help")
    r.add("supervise", "2026-03-02T09:00")
    statuses.append(r.add("return", "2026-03-02T09:03"))
    frame = status_frame(s for s in statuses if s is not None)
    for now in ("2026-03-02T09:05", "2026-03-02T09:30", "2026-03-03T12:00", "2026-03-04T00:00",
                "2026-03-11T00:00", "2026-03-20T00:00"):  # fmt: skip
        flags = sla.overdue_frame(frame, at(now))
        for i, s in enumerate(statuses):
            assert s is not None
            o = sla.overdue(s, at(now))
            row = flags.iloc[i]
            assert (row["arrival"], row["resolution"], row["callback"]) == (
                o.arrival, o.resolution, o.callback,
            ), (now, s.incident_id)  # fmt: skip
            assert row["needs_supervision"] == o.needs_supervision
            assert row["any"] == o.any
    with pytest.raises(ValueError):
        sla.overdue_frame(frame, pd.Timestamp("2026-03-04"))
