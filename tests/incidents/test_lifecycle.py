"""The state machine table, next_state, apply/fold and their typed, bilingual errors."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

import pytest

from incidents.lifecycle import (
    TRANSITIONS,
    IllegalTransition,
    IncidentStatus,
    InvalidEvent,
    SequenceError,
    allowed_actions,
    apply,
    callback_result,
    fold,
    next_state,
)
from incidents.model import Event, Incident, Party, State
from tests.incidents._helpers import Recorder, at

T0 = at("2026-03-02T09:00")

#: The expected table, written out independently of TRANSITIONS (from-state → action → to).
EXPECTED: dict[State | None, dict[str, State]] = {
    None: {"receive": State.RECEIVED},
    State.RECEIVED: {"dispatch": State.DISPATCHED, "return": State.RETURNED,
                     "escalate": State.ESCALATED},
    State.DISPATCHED: {"arrive": State.ON_SCENE, "return": State.RETURNED,
                       "escalate": State.ESCALATED},
    State.ON_SCENE: {"resolve": State.RESOLVED, "return": State.RETURNED,
                     "escalate": State.ESCALATED},
    State.RESOLVED: {"queue_callback": State.CALLBACK_DUE, "callback": State.CLOSED,
                     "close": State.CLOSED, "reopen": State.REOPENED},
    State.CALLBACK_DUE: {"callback": State.CLOSED, "close": State.CLOSED,
                         "reopen": State.REOPENED},
    State.CLOSED: {"reopen": State.REOPENED},
    State.RETURNED: {},
    State.REOPENED: {"dispatch": State.DISPATCHED, "resolve": State.RESOLVED,
                     "escalate": State.ESCALATED},
    State.ESCALATED: {"dispatch": State.DISPATCHED, "resolve": State.RESOLVED,
                      "escalate": State.ESCALATED},
}  # fmt: skip
NON_TRANSITIONS_OPEN = ("amend", "reassign", "supervise", "unsupervise", "link", "note")
NON_TRANSITIONS_ANY = ("amend", "link", "note")


def ev(action: str, seq: int = 1, minutes: int = 0, **data: object) -> Event:
    return Event("E1", seq, action, T0 + timedelta(minutes=minutes), "坐席01", data=data)


@pytest.mark.parametrize("state", [None, *State])
@pytest.mark.parametrize("action", [*TRANSITIONS, "teleport"])
def test_next_state_matches_the_written_table(state: State | None, action: str) -> None:
    expected = dict(EXPECTED[state])
    if state is not None:
        stays = NON_TRANSITIONS_OPEN if state.is_open else NON_TRANSITIONS_ANY
        expected.update({a: state for a in stays})
    e = ev(action)
    if action in expected:
        assert next_state(state, e) == expected[action]
        assert action in allowed_actions(state)
    else:
        with pytest.raises(IllegalTransition) as exc:
            next_state(state, e)
        err = exc.value
        assert (err.state, err.action) == (state, action)
        assert set(err.allowed) == set(expected)
        message = str(err)
        assert " / " in message  # Chinese first, then English
        if state is not None:
            assert state.zh in message and repr(state.value) in message
        for a in err.allowed:
            assert a in message and TRANSITIONS[a].zh in message


def test_illegal_transition_is_a_value_error() -> None:
    assert issubclass(IllegalTransition, ValueError)
    assert issubclass(SequenceError, InvalidEvent) and issubclass(InvalidEvent, ValueError)


def test_every_state_reachable_and_every_open_state_can_finish() -> None:
    edges: dict[State | None, set[State]] = {}
    for t in TRANSITIONS.values():
        if t.to is None:
            continue  # non-transitions keep the state
        callback = {State.CLOSED, State.CALLBACK_DUE, State.REOPENED}
        for s in t.sources:
            edges.setdefault(s, set()).update(callback if t.action == "callback" else {t.to})
    seen: set[State] = set()
    queue: deque[State | None] = deque([None])
    while queue:
        for nxt in edges.get(queue.popleft(), set()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == set(State)
    for s in State:
        if s.is_open:  # some path to closed or returned
            frontier: set[State] = {s}
            found: set[State] = set()
            for _ in range(len(State)):
                frontier = {n for f in frontier for n in edges.get(f, set())} - found
                found |= frontier
            assert found & {State.CLOSED, State.RETURNED}, s


def test_callback_result_rules() -> None:
    assert callback_result({}) == "close"
    assert callback_result({"satisfaction": "基本满意"}) == "close"
    assert callback_result({"satisfaction": "不满意"}) == "reopen"
    assert callback_result({"satisfaction": "dissatisfied"}) == "reopen"
    assert callback_result({"kept": False}) == "reopen"
    assert callback_result({"checks": [{"index": 0, "kept": False}]}) == "reopen"
    assert callback_result({"reached": False}) == "continue"
    assert callback_result({"satisfaction": "不满意", "result": "continue"}) == "continue"
    with pytest.raises(ValueError):
        callback_result({"result": "maybe"})
    with pytest.raises(ValueError):
        callback_result({"satisfaction": "还行"})


def test_first_event_must_be_receive_and_fold_needs_events() -> None:
    with pytest.raises(IllegalTransition) as exc:
        apply(None, ev("dispatch"))
    assert exc.value.state is None and exc.value.allowed == ("receive",)
    assert "尚无事件" in str(exc.value) and "no events yet" in str(exc.value)
    with pytest.raises(InvalidEvent):
        fold([])


def test_sequence_must_be_contiguous() -> None:
    s = apply(None, ev("receive"))
    with pytest.raises(SequenceError, match="seq must be 2"):
        apply(s, ev("dispatch", seq=3, minutes=1))
    with pytest.raises(SequenceError):
        fold([ev("receive", seq=2)])
    with pytest.raises(SequenceError):
        fold([ev("receive"), ev("dispatch", 2, 1), ev("arrive", 2, 2)])


def test_events_must_be_aware_belong_to_the_incident_and_not_go_back() -> None:
    with pytest.raises(InvalidEvent, match="timezone"):
        apply(None, Event("E1", 1, "receive", datetime(2026, 3, 2, 9), "x"))
    s = apply(None, ev("receive"))
    with pytest.raises(InvalidEvent, match="not of incident"):
        apply(s, Event("E2", 2, "dispatch", T0, "x"))
    with pytest.raises(InvalidEvent, match="before the incident was received"):
        apply(s, ev("note", 2, -5))
    s = apply(s, ev("dispatch", 2, 10))
    with pytest.raises(InvalidEvent, match="earlier than the last"):
        apply(s, ev("arrive", 3, 5))
    # a non-transition may be recorded late, with its true (earlier) time
    s = apply(s, ev("note", 3, 5, text="补录"))
    assert s.last_event_at == T0 + timedelta(minutes=10)


def test_apply_does_not_change_the_status_it_was_given() -> None:
    s1 = apply(None, ev("receive", category="noise"))
    snapshot = IncidentStatus(**{k: getattr(s1, k) for k in s1.__dataclass_fields__})
    with pytest.raises(IllegalTransition):
        apply(s1, ev("close", 2, 1))
    s2 = apply(s1, ev("dispatch", 2, 1, team_code="T02"))
    assert s1 == snapshot and s1.state == State.RECEIVED and s1.team_code is None
    assert (s2.state, s2.team_code, s2.version) == (State.DISPATCHED, "T02", 2)


def test_incident_seeds_the_status_and_receive_or_amend_override() -> None:
    inc = Incident(
        id="E1", source="12345", source_id="GD20260302000123", received_at=T0,
        category="rental", priority="key", deadline=T0 + timedelta(days=2), grid_code="G1",
        team_code="T03", parties=(Party("罗小明", "13812345678"),),
    )  # fmt: skip
    s = fold([ev("receive")], incident=inc)
    assert (s.category, s.priority, s.deadline, s.grid_code, s.team_code) == (
        "rental", "key", T0 + timedelta(days=2), "G1", "T03",
    )  # fmt: skip
    s = apply(s, ev("amend", 2, 3, category="consumer", deadline=None, grid_code="G2"))
    assert (s.category, s.deadline, s.grid_code, s.state) == (
        "consumer",
        None,
        "G2",
        State.RECEIVED,
    )
    with pytest.raises(InvalidEvent):
        apply(s, ev("amend", 3, 4, priority="urgent"))
    with pytest.raises(InvalidEvent):
        fold([ev("receive")], incident=Incident("E9", "110", "J1", T0, "wage"))


def test_supervision_escalation_and_links() -> None:
    r = Recorder("E1")
    r.add("receive", "2026-03-02T09:00", category="neighbour")
    s = r.add("supervise", "2026-03-02T09:30", reason="超时未派")
    assert s.supervised and s.supervision_count == 1 and s.supervised_at == at("2026-03-02T09:30")
    with pytest.raises(InvalidEvent, match="already under supervision"):
        r.add("supervise", "2026-03-02T09:31")
    s = r.add("escalate", "2026-03-02T10:00", level=1)
    assert (s.state, s.escalation_level) == (State.ESCALATED, 1)
    with pytest.raises(InvalidEvent, match="up a level"):
        r.add("escalate", "2026-03-02T10:05", level=1)
    with pytest.raises(InvalidEvent, match="1, 2 or 3"):
        r.add("escalate", "2026-03-02T10:05", level=4)
    s = r.add("escalate", "2026-03-02T11:00")  # default: one level up
    assert s.escalation_level == 2 and s.escalated_at == at("2026-03-02T10:00")
    s = r.add("link", "2026-03-02T11:05", repeat_of="E0")
    s = r.add("link", "2026-03-02T11:06", related="E7")
    assert s.repeat_of == "E0" and s.related == ("E0", "E7")
    with pytest.raises(InvalidEvent):
        r.add("link", "2026-03-02T11:07", related="E1")  # itself
    s = r.add("dispatch", "2026-03-02T12:00", team_code="T01")
    s = r.add("arrive", "2026-03-02T12:09")
    s = r.add("resolve", "2026-03-02T15:00")
    s = r.add("callback", "2026-03-03T10:00", satisfaction="满意")
    assert s.state == State.CLOSED and not s.supervised  # closing ends supervision
    with pytest.raises(IllegalTransition):
        r.add("unsupervise", "2026-03-03T10:01")
    s = r.add("reopen", "2026-03-04T08:00", cause="repeat_call")
    assert (s.state, s.reopen_count, s.closed_at, s.resolved_at) == (State.REOPENED, 1, None, None)


def test_unreached_callbacks_keep_waiting_and_count_as_attempts() -> None:
    r = Recorder("E1")
    for action, when in (("receive", "09:00"), ("dispatch", "09:02"), ("arrive", "09:09"),
                         ("resolve", "10:00")):  # fmt: skip
        r.add(action, f"2026-03-02T{when}")
    s = r.add("callback", "2026-03-03T10:00", reached=False)
    assert (s.state, s.callback_attempts, s.callback_count, s.callback_at) == (
        State.CALLBACK_DUE, 1, 0, None,
    )  # fmt: skip
    with pytest.raises(InvalidEvent, match="unreached"):
        r.add("callback", "2026-03-03T11:00", reached=False, satisfaction="满意")
    s = r.add("callback", "2026-03-03T15:00", satisfaction="基本满意")
    assert (s.state, s.callback_count, s.satisfaction) == (State.CLOSED, 1, "基本满意")
    assert s.callback_at == at("2026-03-03T15:00")


def test_return_is_terminal_and_records_its_time() -> None:
    r = Recorder("E1")
    r.add("receive", "2026-03-02T09:00", category="other")
    s = r.add("return", "2026-03-02T09:05", to="110", reason="属警务事项")
    assert s.state == State.RETURNED and s.returned_at == at("2026-03-02T09:05")
    assert not s.is_open and s.allowed_actions == ("amend", "link", "note")
    with pytest.raises(IllegalTransition):
        r.add("dispatch", "2026-03-02T09:06")


def test_bad_payloads_are_typed_errors() -> None:
    r = Recorder("E1")
    r.add("receive", "2026-03-02T09:00")
    r.add("dispatch", "2026-03-02T09:01")
    r.add("arrive", "2026-03-02T09:05")
    for bad in ("not a list", [{"who": "甲"}], [{"who": "甲", "what": "x", "due": "tomorrow"}],
                [{"who": "甲", "what": "x", "due": "2026-03-05", "amount": -1}]):  # fmt: skip
        with pytest.raises(InvalidEvent):
            r.add("resolve", "2026-03-02T10:00", commitments=bad)
    due = {"who": "甲", "what": "赔偿", "due": "2026-03-05", "amount": 500}
    r.add("resolve", "2026-03-02T10:00", commitments=[due])
    for data in ({"checks": [{"index": 3, "kept": True}]}, {"checks": [{"index": 0}]},
                 {"kept": "yes"}, {"reached": "no"}):  # fmt: skip
        with pytest.raises(InvalidEvent):
            r.add("callback", "2026-03-06T10:00", **data)
    assert r.status is not None and r.status.version == 4 and r.status.state == State.RESOLVED
