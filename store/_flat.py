"""The flat ``incidents`` layer (one row per incident, as ``ember demo`` builds it) as incidents
with their events, so that folding the events gives back the row's state and times.

Used by ``write_layers`` when it is handed an ``incidents`` frame, and by the store benchmark.
Each timestamp of the row becomes the event it records: ``dispatch``, ``arrive``, ``resolve``
(with the commitment), ``callback`` (satisfaction, commitment check), then ``close``, or
``reopen`` → ``resolve`` → ``close`` when the callback was unsatisfied. A row that was handed back
(``returned``) gets ``return`` at its intake time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from incidents.model import Event, Incident, Party, Residency

ACTOR = "demo"


def _time(value: Any) -> datetime | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def _parties(row: Any) -> tuple[Party, ...]:
    residency: Residency = "migrant" if bool(row.involves_migrant) else "local"
    name, phone, idn = _text(row.caller_name), _text(row.caller_phone), _text(row.caller_id_number)
    if name or phone or idn:
        return (Party(name=name, phone=phone, id_number=idn, residency=residency),)
    return (Party(residency="migrant", role="party"),) if residency == "migrant" else ()


def _events(row: Any, received: datetime) -> list[Event]:
    out: list[Event] = []

    def add(action: str, at: datetime, **data: Any) -> None:
        out.append(Event(row.id, len(out) + 1, action, at, ACTOR, data=data))

    repeat_of = _text(row.repeat_of)
    add("receive", received, **({"repeat_of": repeat_of} if repeat_of else {}))
    if row.state == "returned":
        add("return", received)
        return out
    steps = {
        k: _time(getattr(row, k))
        for k in ("dispatched_at", "on_scene_at", "resolved_at", "callback_at", "closed_at")
    }
    if steps["dispatched_at"]:
        add("dispatch", steps["dispatched_at"])
    if steps["on_scene_at"]:
        add("arrive", steps["on_scene_at"])
    resolved = steps["resolved_at"]
    if resolved is None:
        return out
    amount, due = row.commitment_amount, _time(row.commitment_due)
    committed = due is not None and amount == amount
    if due is not None and committed:
        promise = {"who": "被投诉方", "what": "按期履行", "due": due.isoformat(), "amount": amount}
        add("resolve", resolved, commitments=[promise])
    else:
        add("resolve", resolved)
    callback = steps["callback_at"]
    if callback is None:
        if row.state == "callback_due":
            add("queue_callback", resolved)
        return out
    check: dict[str, Any] = {}
    if committed:
        check["kept"] = bool(row.commitment_kept)
    reopened = bool(row.reopened)
    result = "reopen" if reopened else "continue"
    add("callback", callback, satisfaction=row.satisfaction, result=result, **check)
    closed = steps["closed_at"]
    if closed is not None:
        if reopened:
            add("resolve", closed)
        add("close", closed)
    return out


def from_frame(frame: pd.DataFrame) -> tuple[list[Incident], list[Event]]:
    """Incidents and events of a frame with the ``incidents`` layer's columns (and geometry)."""
    incidents: list[Incident] = []
    events: list[Event] = []
    geom = frame.geometry if hasattr(frame, "geometry") else None
    xs = geom.x.to_numpy() if geom is not None else None
    ys = geom.y.to_numpy() if geom is not None else None
    for i, row in enumerate(frame.itertuples(index=False)):
        received = _time(row.received_at)
        assert received is not None
        lon = None if xs is None or xs[i] != xs[i] else float(xs[i])
        lat = None if ys is None or ys[i] != ys[i] else float(ys[i])
        incidents.append(
            Incident(
                id=row.id,
                source=row.source,
                source_id=row.source_id,
                received_at=received,
                category=row.category,
                description=_text(row.description) or "",
                address=_text(row.address) or "",
                subcategory=_text(row.subcategory),
                lon=lon,
                lat=lat,
                geocode_level=_text(row.geocode_level),
                grid_code=_text(row.grid_code),
                village_code=_text(row.village_code),
                beat_code=_text(row.beat_code),
                station_code=_text(row.station_code),
                parties=_parties(row),
                priority=row.priority,
                team_code=_text(row.team_code),
                department_code=_text(row.department_code),
            )
        )
        events.extend(_events(row, received))
    return incidents, events
