"""One incident as the incident page and the JSON API show it: a JSON-safe dict.

Read through the caller's scope (the store answers :class:`~store.IncidentNotFound` outside it);
personal data stays masked unless the scope asks for it (then the store audits the view), and
free text (address, description, event reasons) is masked too, since the store masks only what
it received. The police liaison sees status only (两室联动): no parties, text or audit.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from app.components.console_directory import Directory
from app.console_actions import needs_placement, suggest
from incidents import sla
from incidents._time import LOCAL_TZ
from incidents.masking import mask_committer, mask_text
from store import IncidentNotFound, IncidentQuery, IncidentStore, Scope

#: Roles that see the audit lines of an incident.
AUDIT_ROLES = frozenset({"admin", "commander", "dispatcher"})
#: Roles that see the status only.
STATUS_ONLY_ROLES = frozenset({"police"})
#: Nearby incidents: within this many degrees (~500 m) and days.
NEAR_DEG, NEAR_DAYS = 0.005, 90


def iso(t: datetime | pd.Timestamp | None) -> str | None:
    """An aware time as ISO 8601 in Asia/Shanghai, or ``None``."""
    if t is None or pd.isna(t):
        return None
    return pd.Timestamp(t).tz_convert(LOCAL_TZ).isoformat(timespec="seconds")


def local(t: str | None) -> str:
    """An ISO time (from :func:`iso`) as ``MM-DD HH:MM`` for display, or ``—``."""
    return "—" if not t else pd.Timestamp(t).strftime("%m-%d %H:%M")


def _text(value: str | None, unmask: bool) -> str:
    return (value if unmask else mask_text(value)) or ""


def detail(
    store: IncidentStore, scope: Scope, directory: Directory, incident_id: str, role: str
) -> dict[str, Any]:
    """The incident ``incident_id`` as ``role`` with ``scope`` may see it.

    Raises
    ------
    IncidentNotFound
        Not in the store or not within ``scope``.
    """
    rec = store.get_incident(incident_id, scope)
    inc, st = rec.incident, rec.status
    unmask = scope.personal_data
    out: dict[str, Any] = {
        "id": inc.id,
        "source": inc.source,
        "source_id": inc.source_id,
        "received_at": iso(inc.received_at),
        "state": st.state.value,
        "version": st.version,
        "category": st.category,
        "subcategory": st.subcategory,
        "priority": st.priority,
        "deadline": iso(sla.deadline(st)),
        "supervised": st.supervised,
        "escalation_level": st.escalation_level,
        "team_code": st.team_code,
        "team_name": directory.teams.get(st.team_code or ""),
        "department_code": st.department_code,
        "department_name": directory.departments.get(st.department_code or ""),
        "masked": not unmask,
    }
    status_only = role in STATUS_ONLY_ROLES
    out["timeline"] = [
        {
            "seq": e.seq,
            "at": iso(e.at),
            "action": e.action,
            "actor": e.actor,
            "reason": "" if status_only else _text(e.reason, unmask),
        }
        for e in rec.events
    ]
    if status_only:
        return out
    out.update(
        address=_text(st.address, unmask),
        description=_text(st.description, unmask),
        lon=st.lon,
        lat=st.lat,
        geocode_level=st.geocode_level,
        geocode_confidence=st.geocode_confidence,
        needs_placement=needs_placement(st),
        codes={
            c: getattr(st, c) for c in ("village_code", "grid_code", "beat_code", "station_code")
        },
        parties=[
            {
                "name": p.name or "",
                "phone": p.phone or "",
                "id_number": p.id_number or "",
                "residency": p.residency,
                "role": p.role,
            }
            for p in inc.parties
        ],
        commitments=[
            {
                "what": _text(c.commitment.what, unmask),
                "who": c.commitment.who if unmask else (mask_committer(c.commitment.who) or ""),
                "amount": c.commitment.amount,
                "due": iso(c.commitment.due),
                "status": c.status,
            }
            for c in st.commitments
        ],
        repeat_of=_visible(store, scope, st.repeat_of),
    )
    s = suggest(directory, rec)
    out["trinity"] = {
        "grid": asdict(s.grid.shown(unmask)) if s.grid else None,
        "beat": asdict(s.beat.shown(unmask)) if s.beat else None,
        "station": asdict(s.station.shown(unmask)) if s.station else None,
        "station_distance_m": s.station_distance_m,
        "department": list(s.department) if s.department else None,
        "team": list(s.team) if s.team else None,
    }
    out["related"] = related(store, scope, rec.status.related, inc.id, st.repeat_of)
    out["nearby"] = nearby(store, scope, inc.id, st.lon, st.lat, inc.received_at)
    if role in AUDIT_ROLES:
        out["audit"] = [
            {"at": iso(a.at), "actor": a.actor, "action": a.action}
            for a in store.audit_log(incident_id=inc.id)
        ]
    return out


def _masked(scope: Scope) -> Scope:
    return Scope(**{**scope.__dict__, "personal_data": False})


def _visible(store: IncidentStore, scope: Scope, incident_id: str | None) -> str | None:
    """``incident_id`` when ``scope`` may see that incident, else None (not named)."""
    if incident_id is None:
        return None
    try:
        store.get_incident(incident_id, _masked(scope))
    except IncidentNotFound:
        return None
    return incident_id


def related(
    store: IncidentStore,
    scope: Scope,
    ids: tuple[str, ...],
    incident_id: str,
    repeat_of: str | None,
) -> list[dict[str, Any]]:
    """Linked incidents within ``scope`` (others are left out, not named)."""
    out = []
    for other in ids:
        try:
            r = store.get_incident(other, _masked(scope))
        except IncidentNotFound:
            continue
        out.append(
            {
                "id": other,
                "state": r.status.state.value,
                "category": r.status.category,
                "received_at": iso(r.incident.received_at),
                "repeat": other == repeat_of or r.status.repeat_of == incident_id,
            }
        )
    return out


def nearby(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    lon: float | None,
    lat: float | None,
    received_at: datetime,
) -> list[dict[str, Any]]:
    """Incidents within ~500 m received in the :data:`NEAR_DAYS` days before or after, within
    ``scope`` (at most 10, nearest in time first); repeats of this one are flagged."""
    if lon is None or lat is None:
        return []
    d = NEAR_DEG
    query = IncidentQuery(
        bbox=(lon - d, lat - d, lon + d, lat + d),
        received_from=received_at - timedelta(days=NEAR_DAYS),
        received_to=received_at + timedelta(days=NEAR_DAYS),
    )
    found = store.query_incidents(query, _masked(scope))
    found = found.loc[found["id"] != incident_id]
    if found.empty:
        return []
    gap = (pd.to_datetime(found["received_at"], utc=True) - pd.Timestamp(received_at)).abs()
    found = found.assign(_gap=gap.to_numpy()).sort_values("_gap").head(10)
    return [
        {
            "id": str(r.id),
            "state": str(r.state),
            "category": str(r.category),
            "received_at": iso(r.received_at),
            "repeat": r.repeat_of == incident_id,
        }
        for r in found.itertuples()
    ]
