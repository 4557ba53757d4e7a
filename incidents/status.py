"""The derived status of an incident (what :func:`incidents.lifecycle.fold` returns).

Kept apart from the state machine so that stores and views can import the value type alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from incidents.commitments import CommitmentRecord
from incidents.model import State

SATISFACTION = ("满意", "基本满意", "不满意")
SATISFIED = frozenset({"满意", "基本满意"})
_SATISFACTION_ALIASES = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "unsatisfied": "不满意",
}
CallbackResult = Literal["close", "continue", "reopen"]


def normalise_satisfaction(value: object) -> str | None:
    """``满意`` / ``基本满意`` / ``不满意`` (or English aliases) → the Chinese value; else error."""
    if value is None:
        return None
    text = _SATISFACTION_ALIASES.get(str(value).strip().lower(), str(value).strip())
    if text not in SATISFACTION:
        raise ValueError(f"满意度无效 / satisfaction must be one of {SATISFACTION}: {value!r}")
    return text


@dataclass(frozen=True)
class IncidentStatus:
    """What an incident's events add up to; every field is derived by ``lifecycle.fold``.

    Timestamps named ``first_*`` or plain (``dispatched_at``, ``on_scene_at``, ``callback_at``)
    keep the first occurrence; ``resolved_at`` and ``closed_at`` are the standing ones (cleared
    by a later ``reopen``). ``satisfaction`` is that of the first reached callback.
    """

    incident_id: str
    state: State
    version: int
    received_at: datetime
    last_event_at: datetime
    category: str | None = None
    subcategory: str | None = None
    priority: str = "normal"
    deadline: datetime | None = None
    town_code: str | None = None
    village_code: str | None = None
    grid_code: str | None = None
    beat_code: str | None = None
    station_code: str | None = None
    team_code: str | None = None
    department_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    description: str | None = None
    geocode_level: str | None = None
    geocode_confidence: float | None = None
    supervised: bool = False
    supervised_at: datetime | None = None
    supervision_count: int = 0
    escalation_level: int = 0
    escalated_at: datetime | None = None
    dispatched_at: datetime | None = None
    last_dispatched_at: datetime | None = None
    on_scene_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    callback_at: datetime | None = None
    last_callback_at: datetime | None = None
    callback_count: int = 0
    callback_attempts: int = 0
    satisfaction: str | None = None
    last_satisfaction: str | None = None
    closed_at: datetime | None = None
    returned_at: datetime | None = None
    reopen_count: int = 0
    reopened_at: datetime | None = None
    commitments: tuple[CommitmentRecord, ...] = ()
    repeat_of: str | None = None
    related: tuple[str, ...] = ()
    _last_transition_at: datetime | None = field(default=None, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @property
    def open_commitments(self) -> tuple[CommitmentRecord, ...]:
        return tuple(c for c in self.commitments if c.status == "open")

    @property
    def allowed_actions(self) -> tuple[str, ...]:
        from incidents.lifecycle import allowed_actions  # here: lifecycle imports this module

        return allowed_actions(self.state)
