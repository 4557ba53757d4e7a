"""Small builders shared by the incidents tests (real domain objects, no mocks)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from incidents.lifecycle import IncidentStatus, apply
from incidents.model import Event, Incident

CST = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    """An ISO time without offset, taken as Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=CST)


class Recorder:
    """Appends events to one incident through :func:`incidents.lifecycle.apply`."""

    def __init__(self, incident_id: str = "E0000001", incident: Incident | None = None) -> None:
        self.incident_id = incident_id
        self.incident = incident
        self.events: list[Event] = []
        self.status: IncidentStatus | None = None

    def event(self, action: str, when: str | datetime, **data: Any) -> Event:
        t = at(when) if isinstance(when, str) else when
        return Event(self.incident_id, len(self.events) + 1, action, t, "坐席01", data=data)

    def add(self, action: str, when: str | datetime, **data: Any) -> IncidentStatus:
        e = self.event(action, when, **data)
        self.status = apply(self.status, e, self.incident)
        self.events.append(e)
        return self.status
