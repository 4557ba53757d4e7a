"""The lifecycle state machine (受理 → 派遣 → 到场 → 处置完毕 → 待回访 → 办结) and its fold.

State is never stored: :func:`fold` derives an :class:`IncidentStatus` from an incident's events,
validating every one against :data:`TRANSITIONS`. :func:`apply` does the same for one new event
on top of a known status, which is what a store does before appending.

Errors are typed and bilingual: :class:`IllegalTransition` when an action is not allowed in the
current state, :class:`InvalidEvent` (and :class:`SequenceError`) when the event itself is bad.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import Any

from incidents._time import is_aware, parse_time
from incidents.commitments import CommitmentRecord, apply_checks, parse_commitments
from incidents.model import Event, Incident, State
from incidents.status import (
    SATISFACTION,
    SATISFIED,
    CallbackResult,
    IncidentStatus,
    normalise_satisfaction,
)

__all__ = ["SATISFACTION", "SATISFIED", "TRANSITIONS", "EventError", "IllegalTransition",
           "IncidentStatus", "InvalidEvent", "SequenceError", "Transition", "allowed_actions",
           "apply", "callback_result", "fold", "next_state", "normalise_satisfaction"]  # fmt: skip

OPEN_STATES = frozenset(s for s in State if s.is_open)
ALL_STATES = frozenset(State)
_RESULT_STATE: dict[str, State] = {
    "close": State.CLOSED,
    "continue": State.CALLBACK_DUE,
    "reopen": State.REOPENED,
}


@dataclass(frozen=True)
class Transition:
    """One action of the state machine.

    ``to`` is the state after the action; ``None`` keeps the state (a non-transition such as
    ``amend``). ``callback`` is the one action whose target depends on its data
    (:func:`callback_result`): ``to`` then holds its most common target.
    """

    action: str
    zh: str
    sources: frozenset[State | None]
    to: State | None


S = State
#: The state machine as data: action -> (allowed from-states, to-state). Order is display order.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("receive", "受理", frozenset({None}), S.RECEIVED),
        Transition(
            "dispatch", "派遣", frozenset({S.RECEIVED, S.REOPENED, S.ESCALATED}), S.DISPATCHED
        ),
        Transition("arrive", "到场", frozenset({S.DISPATCHED}), S.ON_SCENE),
        Transition(
            "resolve", "处置完毕", frozenset({S.ON_SCENE, S.REOPENED, S.ESCALATED}), S.RESOLVED
        ),
        Transition("queue_callback", "待回访", frozenset({S.RESOLVED}), S.CALLBACK_DUE),
        Transition("callback", "回访", frozenset({S.RESOLVED, S.CALLBACK_DUE}), S.CLOSED),
        Transition("close", "办结", frozenset({S.RESOLVED, S.CALLBACK_DUE}), S.CLOSED),
        Transition("return", "退回", frozenset({S.RECEIVED, S.DISPATCHED, S.ON_SCENE}), S.RETURNED),
        Transition("reopen", "重开", frozenset({S.RESOLVED, S.CALLBACK_DUE, S.CLOSED}), S.REOPENED),
        Transition(
            "escalate",
            "会商",
            frozenset({S.RECEIVED, S.DISPATCHED, S.ON_SCENE, S.REOPENED, S.ESCALATED}),
            S.ESCALATED,
        ),
        Transition("amend", "更正", frozenset(ALL_STATES), None),
        Transition("reassign", "改派", frozenset(OPEN_STATES), None),
        Transition("supervise", "督办", frozenset(OPEN_STATES), None),
        Transition("unsupervise", "撤销督办", frozenset(OPEN_STATES), None),
        Transition("link", "关联", frozenset(ALL_STATES), None),
        Transition("note", "备注", frozenset(ALL_STATES), None),
    )
}
#: Fields an ``amend`` (or the ``receive`` event) may set from ``data``.
AMENDABLE = ("category", "subcategory", "priority", "deadline", "town_code", "village_code",
             "grid_code", "beat_code", "station_code")  # fmt: skip
#: Where and what the incident is: seeded from the incident, corrected by a later ``amend``
#: (a changed re-delivery, a dispatcher placing a low-confidence geocode on the map).
PLACE = ("lon", "lat", "address", "description", "geocode_level", "geocode_confidence")


class EventError(ValueError):
    """An event cannot be applied (base class; the message is bilingual)."""


class IllegalTransition(EventError):
    """The action is not allowed in the current state.

    Attributes
    ----------
    state : State or None
        The current state (``None``: no events yet).
    action : str
        The action attempted.
    allowed : tuple of str
        The actions allowed in ``state``.
    """

    def __init__(self, state: State | None, action: str, allowed: Sequence[str]) -> None:
        self.state = state
        self.action = action
        self.allowed = tuple(allowed)
        known = TRANSITIONS.get(action)
        zh_action = f"「{known.zh} {action}」" if known else f"未知动作「{action}」"
        zh_state = f"「{state.zh} {state.value}」" if state else "「尚无事件」"
        zh_allowed = "、".join(f"{TRANSITIONS[a].zh} {a}" for a in self.allowed) or "无"
        en_state = state.value if state else "no events yet"
        super().__init__(
            f"当前状态{zh_state}不能执行{zh_action}，允许：{zh_allowed} / "
            f"action {action!r} is not allowed in state {en_state!r}; "
            f"allowed: {', '.join(self.allowed) or 'none'}"
        )


class InvalidEvent(EventError):
    """The event is malformed or contradicts the incident (bad data, time, incident id)."""

    def __init__(self, event: Event | None, zh: str, en: str) -> None:
        self.event = event
        where = f" [{event.incident_id}#{event.seq} {event.action}]" if event else ""
        super().__init__(f"{zh} / {en}{where}")


class SequenceError(InvalidEvent):
    """Event numbers are not 1..n without gaps (a lost or concurrent write)."""


def allowed_actions(state: State | None) -> tuple[str, ...]:
    """Actions the state machine allows in ``state`` (``None``: no events yet), in table order."""
    return tuple(a for a, t in TRANSITIONS.items() if state in t.sources)


def callback_result(data: Mapping[str, Any]) -> CallbackResult:
    """The result of a callback: ``data["result"]`` if given, else derived from its outcome.

    Unreached → ``continue``; unsatisfied (不满意) or a broken commitment (``kept`` False or a
    failed check) → ``reopen``; otherwise ``close``.
    """
    result = data.get("result")
    if result is not None:
        if result not in _RESULT_STATE:
            raise ValueError(f"回访结果无效 / result must be close, continue or reopen: {result!r}")
        return result  # type: ignore[no-any-return]
    if data.get("reached", True) is False:
        return "continue"
    checks = data.get("checks") or ()
    broken = data.get("kept") is False or any(
        isinstance(c, Mapping) and c.get("kept") is False for c in checks
    )
    if broken or normalise_satisfaction(data.get("satisfaction")) == "不满意":
        return "reopen"
    return "close"


def next_state(state: State | None, event: Event) -> State:
    """The state after ``event`` in ``state`` (``None``: no events yet; must be ``receive``).

    Raises
    ------
    IllegalTransition
        The action is unknown or not allowed in ``state``.
    InvalidEvent
        A callback's data names no valid result.
    """
    t = TRANSITIONS.get(event.action)
    if t is None or state not in t.sources:
        raise IllegalTransition(state, event.action, allowed_actions(state))
    if event.action == "callback":
        try:
            return _RESULT_STATE[callback_result(event.data)]
        except ValueError as exc:
            raise InvalidEvent(event, "回访数据无效", str(exc)) from None
    if t.to is None:
        assert state is not None  # non-transitions never start from "no events"
        return state
    return t.to


def _bad(event: Event, zh: str, en: str) -> InvalidEvent:
    return InvalidEvent(event, zh, en)


def _code(event: Event, key: str) -> str | None:
    value = event.data.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(event, f"{key} 须为字符串", f"{key} must be a string")
    return value


def _set_fields(s: dict[str, Any], event: Event, keys: Sequence[str]) -> None:
    """Copy the ``keys`` present in ``event.data`` into the status under construction."""
    for key in keys:
        if key not in event.data:
            continue
        if key == "deadline":
            value = event.data[key]
            try:
                s[key] = None if value is None else parse_time(value)
            except ValueError as exc:
                raise _bad(event, "期限无效", str(exc)) from None
        elif key == "priority":
            if event.data[key] not in ("normal", "key"):
                raise _bad(event, "等级须为 normal 或 key", "priority must be 'normal' or 'key'")
            s[key] = event.data[key]
        else:
            s[key] = _code(event, key)


def _number(event: Event, key: str, low: float, high: float) -> float | None:
    value = event.data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise _bad(
            event, f"{key} 须为 {low}–{high} 之间的数", f"{key} must be a number in {low}..{high}"
        )
    return float(value)


#: Geocode levels that come from a point someone gave (a person on the map, the source's own
#: coordinates): an automatic guess from the address never moves such a point.
_GIVEN_POINT = ("manual", "coordinates")


def _set_place(s: dict[str, Any], event: Event) -> None:
    """Copy a corrected point, address or description from ``event.data``: lon and lat only
    together (a point is never half-moved). A point placed by hand (``geocode_level``
    ``manual``) is kept when a later amend only brings a point geocoded from the address (a
    re-delivered 110 row with a changed description must not undo the dispatcher's placement);
    the source's own coordinates or another manual placement still move it."""
    data = event.data
    lon, lat = _number(event, "lon", -180, 180), _number(event, "lat", -90, 90)
    if (lon is None) != (lat is None):
        raise _bad(event, "经度和纬度须同时给出", "lon and lat must be given together")
    level = _code(event, "geocode_level") if "geocode_level" in data else s.get("geocode_level")
    keep = s.get("geocode_level") == "manual" and level not in _GIVEN_POINT
    if ("lon" in data or "lat" in data) and not keep:
        s["lon"], s["lat"] = lon, lat
    if not keep:
        if "geocode_level" in data:
            s["geocode_level"] = level
        if "geocode_confidence" in data:
            s["geocode_confidence"] = _number(event, "geocode_confidence", 0, 1)
    for key in ("address", "description"):
        if key in data:
            s[key] = _code(event, key)


def _start(event: Event, incident: Incident | None) -> dict[str, Any]:
    s = _defaults()
    s.update(incident_id=event.incident_id, received_at=event.at)
    if incident is not None:
        if incident.id != event.incident_id:
            raise _bad(event, "事件不属于该事项", f"event is not of incident {incident.id}")
        for key in (*AMENDABLE, *PLACE, "team_code", "department_code"):
            s[key] = getattr(incident, key, None)
        s["related"] = tuple(incident.related)
    return s


def _apply(s: dict[str, Any], event: Event, to: State) -> None:
    """Update the status fields ``s`` (a mutable copy) for an accepted ``event``."""
    action, at, data = event.action, event.at, event.data
    if action in ("receive", "amend"):
        _set_fields(s, event, AMENDABLE)
        _set_place(s, event)
    if action in ("receive", "dispatch", "reassign"):
        _set_fields(s, event, ("team_code", "department_code"))
    if action == "dispatch":
        s["dispatched_at"] = s.get("dispatched_at") or at
        s["last_dispatched_at"] = at
    elif action == "arrive":
        s["on_scene_at"] = s.get("on_scene_at") or at
    elif action == "resolve":
        try:
            made = parse_commitments(data.get("commitments"))
        except ValueError as exc:
            raise _bad(event, "承诺无效", str(exc)) from None
        old: tuple[CommitmentRecord, ...] = s.get("commitments", ())
        new = (CommitmentRecord(len(old) + i, c, at, event.seq) for i, c in enumerate(made))
        s["commitments"] = (*old, *new)
        s["first_resolved_at"] = s.get("first_resolved_at") or at
        s["resolved_at"] = at
    elif action == "callback":
        _apply_callback(s, event, to)
    elif action == "close":
        if any(c.status == "open" for c in s.get("commitments", ())):
            raise _bad(event, "尚有未兑现的承诺，不能办结", "open commitments: cannot close")
    elif action == "return":
        s["returned_at"] = at
    elif action == "reopen":
        pass
    elif action == "escalate":
        level = data.get("level", s.get("escalation_level", 0) + 1)
        if not isinstance(level, int) or not 1 <= level <= 3:
            raise _bad(event, "会商级别须为 1–3", f"level must be 1, 2 or 3: {level!r}")
        if s.get("state") == State.ESCALATED and level <= s.get("escalation_level", 0):
            raise _bad(event, "会商级别只能提高", "an escalated incident can only go up a level")
        s["escalation_level"] = max(level, s.get("escalation_level", 0))
        s["escalated_at"] = s.get("escalated_at") or at
    elif action == "supervise":
        if s.get("supervised"):
            raise _bad(event, "已在督办中", "already under supervision")
        s["supervised"], s["supervised_at"] = True, at
        s["supervision_count"] = s.get("supervision_count", 0) + 1
    elif action == "unsupervise":
        if not s.get("supervised"):
            raise _bad(event, "未在督办中", "not under supervision")
        s["supervised"] = False
    elif action == "link":
        _apply_link(s, event)
    if action == "receive" and "repeat_of" in data:
        _apply_link(s, event)
    if to == State.REOPENED and s.get("state") != State.REOPENED:
        s["reopen_count"] = s.get("reopen_count", 0) + 1
        s["reopened_at"] = at
        s["resolved_at"] = None
        s["closed_at"] = None
    if to == State.CLOSED:
        s["closed_at"] = at
    if not to.is_open:
        s["supervised"] = False
    if TRANSITIONS[action].to is not None:
        s["_last_transition_at"] = at


def _apply_callback(s: dict[str, Any], event: Event, to: State) -> None:
    data, at = event.data, event.at
    try:
        result = callback_result(data)
        satisfaction = normalise_satisfaction(data.get("satisfaction"))
        records, broken = apply_checks(s.get("commitments", ()), data, at)
    except ValueError as exc:
        raise _bad(event, "回访数据无效", str(exc)) from None
    reached = data.get("reached", True)
    if not isinstance(reached, bool):
        raise _bad(event, "reached 须为布尔值", "data['reached'] must be a bool")
    if not reached and (satisfaction is not None or result != "continue"):
        raise _bad(event, "未接通的回访只能继续回访", "an unreached callback can only continue")
    if result == "close":
        if satisfaction == "不满意" or broken:
            raise _bad(event, "不满意或承诺未兑现，不能办结", "unsatisfied or broken: cannot close")
        if any(c.status == "open" for c in records):
            raise _bad(event, "尚有未兑现的承诺，不能办结", "open commitments: cannot close")
    s["commitments"] = records
    s["callback_attempts"] = s.get("callback_attempts", 0) + 1
    if reached:
        s["callback_count"] = s.get("callback_count", 0) + 1
        s["callback_at"] = s.get("callback_at") or at
        s["last_callback_at"] = at
        if satisfaction is not None:
            if s.get("satisfaction") is None and s.get("callback_count") == 1:
                s["satisfaction"] = satisfaction
            s["last_satisfaction"] = satisfaction


def _apply_link(s: dict[str, Any], event: Event) -> None:
    repeat_of, related = event.data.get("repeat_of"), event.data.get("related")
    if repeat_of is None and related is None:
        raise _bad(event, "关联须有 repeat_of 或 related", "link needs repeat_of or related")
    for other in (repeat_of, related):
        if other is not None and (not isinstance(other, str) or other == event.incident_id):
            raise _bad(event, "关联事项无效", f"cannot link to {other!r}")
    if repeat_of is not None:
        s["repeat_of"] = repeat_of
    links = tuple(s.get("related", ()))
    for other in (repeat_of, related):
        if other is not None and other not in links:
            links = (*links, other)
    s["related"] = links


def _check(s: dict[str, Any] | None, event: Event) -> State:
    """Check ``event`` against the status fields ``s`` (None: no events) and return the next state.

    In order: sequence number, incident, time zone, the state machine, then times (so that an
    illegal action is reported as such even when its time is also wrong).
    """
    expected = 1 if s is None else s["version"] + 1
    if event.seq != expected:
        raise SequenceError(
            event, f"事件序号应为 {expected}", f"event seq must be {expected}, got {event.seq}"
        )
    if s is not None and event.incident_id != s["incident_id"]:
        raise _bad(event, "事件不属于该事项", f"event is not of incident {s['incident_id']}")
    if not isinstance(event.at, datetime) or not is_aware(event.at):
        raise _bad(event, "事件时间须带时区", "event time must be timezone-aware")
    to = next_state(None if s is None else s["state"], event)
    if s is not None:
        if event.at < s["received_at"]:
            raise _bad(
                event, "事件时间早于受理时间", "event time is before the incident was received"
            )
        last = s["_last_transition_at"]
        if TRANSITIONS[event.action].to and last and event.at < last:
            raise _bad(
                event, "状态变更时间不能倒退", "a transition cannot be earlier than the last one"
            )
    return to


def _step(s: dict[str, Any] | None, event: Event, incident: Incident | None) -> dict[str, Any]:
    """The status fields after ``event``; ``s`` is updated in place (callers pass a copy)."""
    to = _check(s, event)
    if s is None:
        s = _start(event, incident)
        s.update(state=None, last_event_at=event.at)
    _apply(s, event, to)
    s.update(state=to, version=event.seq, last_event_at=max(event.at, s["last_event_at"]))
    return s


_DEFAULTS = tuple((f.name, f.default) for f in fields(IncidentStatus) if f.default is not MISSING)
_NAMES = tuple(f.name for f in fields(IncidentStatus))


def _defaults() -> dict[str, Any]:
    return dict(_DEFAULTS)  # the defaults are immutable (None, tuples, numbers)


def apply(
    status: IncidentStatus | None, event: Event, incident: Incident | None = None
) -> IncidentStatus:
    """The status after one more event (``status`` None: ``event`` must be the first).

    ``incident`` (first event only) seeds category, priority, deadline, codes and team. Nothing
    is modified: on error the caller still holds the unchanged ``status``.

    Raises
    ------
    IllegalTransition, InvalidEvent, SequenceError
    """
    s = None if status is None else {name: getattr(status, name) for name in _NAMES}
    return IncidentStatus(**_step(s, event, incident))


def fold(events: Sequence[Event], incident: Incident | None = None) -> IncidentStatus:
    """Derive the status of one incident from all its events (seq 1..n, first ``receive``).

    Raises
    ------
    InvalidEvent
        No events at all.
    IllegalTransition, InvalidEvent, SequenceError
        The first offending event (see :func:`apply`).
    """
    if not events:
        raise InvalidEvent(None, "没有事件", "an incident needs at least its receive event")
    s: dict[str, Any] | None = None
    for e in events:
        s = _step(s, e, incident)
    assert s is not None
    return IncidentStatus(**s)
