"""The lifecycle state machine as data, its typed errors and the queries on it.

:data:`TRANSITIONS` maps each action to the states it may start from and the state it leads to;
:func:`allowed_actions`, :func:`next_state` and :func:`callback_result` answer questions about
it. :class:`IllegalTransition`, :class:`InvalidEvent` and :class:`SequenceError` (all
:class:`EventError`) carry bilingual messages. Pure data and functions, no status fields: the
fold lives in :mod:`incidents.lifecycle`, which re-exports everything public here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from incidents.model import Event, State
from incidents.status import CallbackResult, normalise_satisfaction

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
