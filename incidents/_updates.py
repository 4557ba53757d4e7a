"""How an accepted event changes the status fields of an incident.

:func:`seed` starts the fields from the first event and the incident; :func:`apply_event`
applies one accepted event per action (dispatch and arrival times, commitments, callbacks,
escalation, supervision, links, reopening) and validates the event data it reads (codes,
deadline, priority, place, numbers), raising :class:`~incidents.lifecycle.InvalidEvent`. Both
work on a plain dict of :class:`~incidents.status.IncidentStatus` fields; the fold in
:mod:`incidents.lifecycle` checks each event against the state machine, then calls them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, fields
from typing import Any

from incidents._time import parse_time
from incidents._transitions import TRANSITIONS, InvalidEvent, callback_result
from incidents.commitments import CommitmentRecord, apply_checks, parse_commitments
from incidents.model import Event, Incident, State
from incidents.status import IncidentStatus, normalise_satisfaction

#: Fields an ``amend`` (or the ``receive`` event) may set from ``data``.
AMENDABLE = ("category", "subcategory", "priority", "deadline", "town_code", "village_code",
             "grid_code", "beat_code", "station_code")  # fmt: skip
#: Where and what the incident is: seeded from the incident, corrected by a later ``amend``
#: (a changed re-delivery, a dispatcher placing a low-confidence geocode on the map).
PLACE = ("lon", "lat", "address", "description", "geocode_level", "geocode_confidence")


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
GIVEN_POINT = ("manual", "coordinates")


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
    keep = s.get("geocode_level") == "manual" and level not in GIVEN_POINT
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


_DEFAULTS = tuple((f.name, f.default) for f in fields(IncidentStatus) if f.default is not MISSING)


def _defaults() -> dict[str, Any]:
    return dict(_DEFAULTS)  # the defaults are immutable (None, tuples, numbers)


def seed(event: Event, incident: Incident | None) -> dict[str, Any]:
    """The status fields before the first ``event``: defaults, seeded from ``incident``."""
    s = _defaults()
    s.update(incident_id=event.incident_id, received_at=event.at)
    if incident is not None:
        if incident.id != event.incident_id:
            raise _bad(event, "事件不属于该事项", f"event is not of incident {incident.id}")
        for key in (*AMENDABLE, *PLACE, "team_code", "department_code"):
            s[key] = getattr(incident, key, None)
        s["related"] = tuple(incident.related)
    return s


def apply_event(s: dict[str, Any], event: Event, to: State) -> None:
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
