"""Property-based tests: random event sequences against the state machine, and KPIs against
brute-force counts over the same rows (definitions: docs/kpi.md)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.frame import status_frame
from incidents.kpi import KPIS, Area, Window, compute
from incidents.lifecycle import (
    SATISFIED,
    TRANSITIONS,
    EventError,
    IllegalTransition,
    IncidentStatus,
    allowed_actions,
    apply,
    fold,
    next_state,
    normalise_satisfaction,
)
from incidents.model import Event, State
from incidents.sla import DEFAULT_POLICY
from tests.incidents._helpers import at

T0 = at("2026-03-01T08:00")
ACTIONS = [*TRANSITIONS, "teleport"]
WEIGHTS = {"return": 0.5, "reopen": 1.5, "escalate": 1.5}
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)


def random_data(rnd: random.Random, action: str, now: datetime) -> dict[str, Any]:
    """Plausible, sometimes invalid, data for an action."""
    pick = rnd.choice
    if action in ("receive", "amend"):
        data: dict[str, Any] = {"category": pick(["wage", "noise", "help", "rental"])}
        if rnd.random() < 0.3:
            data["priority"] = pick(["normal", "key", "urgent"])
        if rnd.random() < 0.2:
            data["deadline"] = (now + timedelta(hours=rnd.randint(1, 100))).isoformat()
        data["village_code"] = pick(["V1", "V2", None])
        return data
    if action in ("dispatch", "reassign"):
        return {"team_code": pick(["T1", "T2"])}
    if action == "resolve":
        n = pick([0, 0, 1, 2])
        due = [(now + timedelta(days=rnd.randint(0, 5))).date().isoformat() for _ in range(n)]
        return {
            "commitments": [{"who": "甲", "what": "付款", "due": d, "amount": 100} for d in due]
        }
    if action == "callback":
        if rnd.random() < 0.5:  # a well-formed outcome
            return {
                "satisfaction": pick(["满意", "基本满意", "不满意"]),
                "kept": pick([True, False]),
            }
        data = {}
        for key, options in (
            ("reached", [None, True, False]),
            ("satisfaction", [None, "满意", "基本满意", "不满意", "satisfied"]),
            ("kept", [None, True, False]),
            ("result", [None, None, "close", "continue", "reopen"]),
        ):
            value = pick(options)
            if value is not None:
                data[key] = value
        return data
    if action == "escalate":
        return {} if rnd.random() < 0.5 else {"level": rnd.randint(0, 4)}
    if action == "link":
        return pick([{"repeat_of": "E9"}, {"related": "E8"}, {}])
    return {}


Attempts = tuple[list[Event], list[tuple[Event, BaseException]]]


def walk(
    rnd: random.Random, incident_id: str, steps: int, start: datetime, legal_bias: float = 0.75
) -> Attempts:
    """A random walk of attempted events: (accepted events, rejected (event, error))."""
    accepted: list[Event] = []
    rejected: list[tuple[Event, BaseException]] = []
    status: IncidentStatus | None = None
    now = start
    for i in range(steps):
        state = None if status is None else status.state
        allowed = allowed_actions(state)
        if allowed and (i == 0 or rnd.random() < legal_bias):
            # lean towards moving on: transitions 4x as likely as notes, returns rare
            weights = [WEIGHTS.get(a, 4 if TRANSITIONS[a].to else 1) for a in allowed]
            action = rnd.choices(allowed, weights)[0]
        else:
            action = rnd.choice(ACTIONS)
        r = rnd.random()
        gap = rnd.randint(1, 15) if r < 0.45 else rnd.randint(10, 3000) if r < 0.9 else -5
        when = now + timedelta(minutes=gap)
        e = Event(
            incident_id, len(accepted) + 1, action, when, "x", data=random_data(rnd, action, when)
        )
        before = status
        try:
            status = apply(status, e)
        except EventError as exc:
            assert status is before  # nothing changed
            rejected.append((e, exc))
            check_rejection(state, e, exc)
            continue
        accepted.append(e)
        now = max(now, when)
        check_invariants(status, accepted)
    return accepted, rejected


def check_rejection(state: State | None, e: Event, exc: EventError) -> None:
    legal = e.action in allowed_actions(state)
    if isinstance(exc, IllegalTransition):
        assert not legal
        assert (exc.state, exc.action, exc.allowed) == (state, e.action, allowed_actions(state))
    else:  # bad data or time: only for actions the state machine allows
        assert legal


def check_invariants(s: IncidentStatus, events: list[Event]) -> None:
    """What the status says must follow from the events, by independent counting."""
    assert s.version == len(events) == events[-1].seq
    assert fold(events) == s
    state: State | None = None
    reopens, arrivals, dispatches, resolves, reached = 0, [], [], [], []
    for e in events:
        new = next_state(state, e)
        reopens += new == State.REOPENED and state != State.REOPENED
        state = new
        if e.action == "arrive":
            arrivals.append(e.at)
        if e.action == "dispatch":
            dispatches.append(e.at)
        if e.action == "resolve":
            resolves.append(e)
        if e.action == "callback" and e.data.get("reached", True):
            reached.append(e)
    assert s.state == state
    assert s.reopen_count == reopens
    assert s.on_scene_at == (arrivals[0] if arrivals else None)
    assert s.dispatched_at == (dispatches[0] if dispatches else None)
    assert s.last_dispatched_at == (dispatches[-1] if dispatches else None)
    assert s.first_resolved_at == (resolves[0].at if resolves else None)
    assert s.callback_count == len(reached)
    first_rating = normalise_satisfaction(reached[0].data.get("satisfaction")) if reached else None
    assert s.satisfaction == first_rating
    assert len(s.commitments) == sum(len(e.data.get("commitments") or []) for e in resolves)
    assert (s.state == State.CLOSED) == (s.closed_at is not None)
    assert (s.state == State.RETURNED) == (s.returned_at is not None)
    assert (s.state in (State.RESOLVED, State.CALLBACK_DUE, State.CLOSED)) == (
        s.resolved_at is not None
    )
    if s.state == State.CLOSED:
        assert not s.open_commitments and not s.supervised
    if s.supervised:
        assert s.state.is_open
    assert 0 <= s.escalation_level <= 3
    assert (s.escalation_level > 0) == any(e.action == "escalate" for e in events)
    assert s.received_at == events[0].at and s.last_event_at == max(e.at for e in events)
    if s.dispatched_at and s.on_scene_at:
        assert s.received_at <= s.dispatched_at <= s.on_scene_at


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 40))
def test_random_sequences_keep_status_consistent(seed: int, steps: int) -> None:
    walk(random.Random(seed), "E1", steps, T0)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_mostly_illegal_sequences_are_refused_cleanly(seed: int) -> None:
    accepted, rejected = walk(random.Random(seed), "E1", 30, T0, legal_bias=0.1)
    assert not accepted or accepted[0].action == "receive"
    assert all(isinstance(exc, IllegalTransition) for e, exc in rejected if e.action == "teleport")
    assert len(accepted) + len(rejected) == 30


# --- KPIs against brute force ------------------------------------------------------------------


def brute_force(rows: list[dict[str, Any]], w: Window, as_of: pd.Timestamp) -> dict[str, tuple]:
    """docs/kpi.md, row by row, with plain Python comparisons."""

    def t(r: dict[str, Any], c: str) -> pd.Timestamp | None:
        v = r[c]
        return None if pd.isna(v) else v

    def within(r: dict[str, Any], c: str) -> bool:
        v = t(r, c)
        return v is not None and w.start <= v < w.end

    def before(r: dict[str, Any], c: str, when: pd.Timestamp) -> bool:
        v = t(r, c)
        return v is not None and v < when

    ten = pd.Timedelta(DEFAULT_POLICY.arrival)
    out: dict[str, list[float]] = {k: [0, 0] for k in KPIS}
    snap = min(w.end, as_of)
    for r in rows:
        d, o = t(r, "dispatched_at"), t(r, "on_scene_at")
        if within(r, "dispatched_at") and (o is not None or (
                t(r, "returned_at") is None and as_of - d > ten)):  # type: ignore[operator]  # fmt: skip
            out["arrival_10min"][1] += 1
            out["arrival_10min"][0] += o is not None and o - d <= ten  # type: ignore[operator]
        res, dl = t(r, "resolved_at"), t(r, "deadline")
        if (
            within(r, "deadline")
            and t(r, "returned_at") is None
            and (res is not None or dl <= as_of)
        ):
            out["on_time"][1] += 1
            out["on_time"][0] += res is not None and res <= dl
        if within(r, "first_resolved_at"):
            called = t(r, "callback_at") is not None
            if called or r["callback_due_at"] + pd.Timedelta(days=1) <= as_of:
                out["callback"][1] += 1
                out["callback"][0] += called
            out["reopen"][1] += 1
            out["reopen"][0] += r["reopen_count"] > 0
        if within(r, "callback_at") and r["satisfaction"] is not None:
            out["satisfaction"][1] += 1
            out["satisfaction"][0] += r["satisfaction"] in SATISFIED
        if within(r, "received_at"):
            for k, c in (("repeat", "repeat_of"), ("return", "returned_at")):
                out[k][1] += 1
                out[k][0] += not pd.isna(r[c])
        if within(r, "closed_at"):
            out["handling_hours"][1] += 1
            out["handling_hours"][0] += (r["closed_at"] - r["received_at"]).total_seconds() / 3600
        is_open = (
            before(r, "received_at", snap)
            and not before(r, "closed_at", snap)
            and not before(r, "returned_at", snap)
        )
        out["open"][0] += is_open
        out["overdue"][0] += (
            is_open and before(r, "deadline", snap) and not before(r, "resolved_at", snap)
        )
    return {k: tuple(v) for k, v in out.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 25),
    start_day=st.integers(-5, 40),
    length=st.integers(1, 45),
    as_of_day=st.integers(0, 90),
    village=st.sampled_from([None, "V1", "V2"]),
)
def test_kpis_are_exact_counts_and_rates_in_unit_interval(
    seed: int, n: int, start_day: int, length: int, as_of_day: int, village: str | None
) -> None:
    rnd = random.Random(seed)
    statuses = []
    for i in range(n):
        start = T0 + timedelta(days=rnd.uniform(0, 40))
        events, _ = walk(rnd, f"E{i}", rnd.randint(1, 14), start, legal_bias=0.9)
        if events:  # the first receive may have been refused for its data
            statuses.append(fold(events))
    frame = status_frame(statuses)
    w = Window(pd.Timestamp(T0) + pd.Timedelta(days=start_day),
               pd.Timestamp(T0) + pd.Timedelta(days=start_day + length))  # fmt: skip
    as_of = pd.Timestamp(T0) + pd.Timedelta(days=as_of_day)
    area = Area.of("village", village) if village else None
    got = compute(frame, w, as_of=as_of, area=area)
    rows = frame[frame["village_code"] == village] if village else frame
    want = brute_force(rows.to_dict("records"), w, as_of)
    for name, v in got.items():
        kind = KPIS[name].kind
        num, den = want[name]
        if kind == "count":
            assert v.numerator == num and v.denominator is None and v.value == num
            continue
        assert v.denominator == den, name
        if den == 0:
            assert v.value is None, name
            continue
        assert v.value is not None and v.denominator is not None
        if kind == "rate":
            assert v.numerator == num, name
            assert 0.0 <= v.value <= 1.0 and v.numerator <= v.denominator
        else:
            assert abs(v.numerator - num) < 1e-6 * max(1.0, abs(num)), name
            assert v.value >= 0
