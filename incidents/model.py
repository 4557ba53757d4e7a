"""The domain's values: incidents, parties, commitments, events and states.

Plain frozen dataclasses, no I/O. State is never stored on its own: it is derived from the event
list by :mod:`incidents.lifecycle`. Times are timezone-aware datetimes (UTC or any zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class State(StrEnum):
    """Lifecycle states (DESIGN.md): 受理 → 派遣 → 到场 → 处置完毕 → 待回访 → 办结, side paths."""

    RECEIVED = "received"  # 受理
    DISPATCHED = "dispatched"  # 派遣
    ON_SCENE = "on_scene"  # 到场
    RESOLVED = "resolved"  # 处置完毕
    CALLBACK_DUE = "callback_due"  # 待回访
    CLOSED = "closed"  # 办结
    RETURNED = "returned"  # 退回 (not ours: back to 110 or a department)
    REOPENED = "reopened"  # 重开
    ESCALATED = "escalated"  # 三级会商

    @property
    def is_open(self) -> bool:
        """Open states count towards the open/overdue KPIs; closed and returned do not."""
        return self not in (State.CLOSED, State.RETURNED)

    @property
    def zh(self) -> str:
        return STATE_ZH[self]


STATE_ZH: dict[State, str] = {
    State.RECEIVED: "受理",
    State.DISPATCHED: "派遣",
    State.ON_SCENE: "到场",
    State.RESOLVED: "处置完毕",
    State.CALLBACK_DUE: "待回访",
    State.CLOSED: "办结",
    State.RETURNED: "退回",
    State.REOPENED: "重开",
    State.ESCALATED: "会商",
}

Source = Literal["110", "12345", "patrol", "walk_in", "callback", "open311"]
Residency = Literal["local", "migrant", "unknown"]  # 本地 / 外来, as recorded at intake


@dataclass(frozen=True)
class Party:
    """A person involved (caller, party to a dispute). Personal data: mask before showing."""

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    residency: Residency = "unknown"
    role: str = "caller"  # caller / party / respondent

    def __repr__(self) -> str:
        """Masked (罗某, 138****5678): personal data never reaches a log through a repr."""
        from incidents.masking import mask_party  # here: masking imports this module

        m = mask_party(self)
        return (
            f"Party(name={m.name!r}, phone={m.phone!r}, id_number={m.id_number!r}, "
            f"residency={self.residency!r}, role={self.role!r})"
        )


@dataclass(frozen=True)
class Commitment:
    """A promise made at mediation (承诺) that a callback must check."""

    who: str
    what: str
    due: datetime
    amount: float | None = None  # yuan


@dataclass(frozen=True)
class Event:
    """One thing that happened to an incident: who, when, where and why.

    ``action`` names a lifecycle transition (``dispatch``, ``arrive``, ``resolve``, …) or a
    non-transition (``amend``, ``reassign``, ``supervise``, ``link``); ``data`` carries its
    details (team code, commitments, callback outcome, new trinity codes, …). ``seq`` numbers an
    incident's events from 1 and doubles as its version for optimistic concurrency.
    """

    incident_id: str
    seq: int
    action: str
    at: datetime
    actor: str
    reason: str = ""
    lon: float | None = None
    lat: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Incident:
    """One non-police matter as received (受理), whatever its source.

    What changes later (state, team, commitments, callbacks) lives in its events.
    """

    id: str
    source: Source
    source_id: str
    received_at: datetime
    category: str
    description: str = ""
    address: str = ""
    subcategory: str | None = None
    lon: float | None = None
    lat: float | None = None
    geocode_level: str | None = None
    geocode_confidence: float | None = None
    grid_code: str | None = None
    village_code: str | None = None
    beat_code: str | None = None
    station_code: str | None = None
    parties: tuple[Party, ...] = ()
    priority: Literal["normal", "key"] = "normal"
    deadline: datetime | None = None
    team_code: str | None = None
    department_code: str | None = None
    related: tuple[str, ...] = ()

    @property
    def involves_migrant(self) -> bool:
        return any(p.residency == "migrant" for p in self.parties)
