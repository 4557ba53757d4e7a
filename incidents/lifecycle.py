"""The lifecycle state machine (受理 → 派遣 → 到场 → 处置完毕 → 待回访 → 办结) and its fold.

State is never stored: :func:`fold` derives an :class:`IncidentStatus` from an incident's events,
validating every one against :data:`TRANSITIONS`. :func:`apply` does the same for one new event
on top of a known status, which is what a store does before appending.

Errors are typed and bilingual: :class:`IllegalTransition` when an action is not allowed in the
current state, :class:`InvalidEvent` (and :class:`SequenceError`) when the event itself is bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from incidents._time import is_aware
from incidents._transitions import (
    TRANSITIONS,
    EventError,
    IllegalTransition,
    InvalidEvent,
    SequenceError,
    Transition,
    allowed_actions,
    callback_result,
    next_state,
)
from incidents._updates import apply_event, seed
from incidents.model import Event, Incident, State
from incidents.status import (
    SATISFACTION,
    SATISFIED,
    IncidentStatus,
    normalise_satisfaction,
)

__all__ = ["SATISFACTION", "SATISFIED", "TRANSITIONS", "EventError", "IllegalTransition",
           "IncidentStatus", "InvalidEvent", "SequenceError", "Transition", "allowed_actions",
           "apply", "callback_result", "fold", "next_state", "normalise_satisfaction"]  # fmt: skip


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
        raise InvalidEvent(
            event, "事件不属于该事项", f"event is not of incident {s['incident_id']}"
        )
    if not isinstance(event.at, datetime) or not is_aware(event.at):
        raise InvalidEvent(event, "事件时间须带时区", "event time must be timezone-aware")
    to = next_state(None if s is None else s["state"], event)
    if s is not None:
        if event.at < s["received_at"]:
            raise InvalidEvent(
                event, "事件时间早于受理时间", "event time is before the incident was received"
            )
        last = s["_last_transition_at"]
        if TRANSITIONS[event.action].to and last and event.at < last:
            raise InvalidEvent(
                event, "状态变更时间不能倒退", "a transition cannot be earlier than the last one"
            )
    return to


def _step(s: dict[str, Any] | None, event: Event, incident: Incident | None) -> dict[str, Any]:
    """The status fields after ``event``; ``s`` is updated in place (callers pass a copy)."""
    to = _check(s, event)
    if s is None:
        s = seed(event, incident)
        s.update(state=None, last_event_at=event.at)
    apply_event(s, event, to)
    s.update(state=to, version=event.seq, last_event_at=max(event.at, s["last_event_at"]))
    return s


_NAMES = tuple(f.name for f in fields(IncidentStatus))


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
