"""Re-assigning stored incidents to the trinity when the layers change (grids are redrawn).

Each incident whose grid cell, village, beat or fire station changes gets an ``amend`` event
carrying the new codes and, under ``previous``, the old ones: the store's projection moves to
the new area while the history keeps where the incident used to belong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from geo.trinity import TrinityIndex
from incidents.model import Event
from ingest._locate import CODES
from store.base import IncidentQuery, IncidentStore, Scope, StaleVersion

REASON = "图层更新，重新分配网格/警格/消防站 / layers changed: trinity re-assigned"


@dataclass
class ReassignSummary:
    """What ``reassign_all`` did: incidents checked, changed, unchanged, and refused."""

    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    no_location: int = 0
    conflicts: list[str] = field(default_factory=list)


def _same(a: object, b: object) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b  # type: ignore[arg-type]


def reassign_all(
    store: IncidentStore,
    index: TrinityIndex,
    *,
    actor: str = "ember assign --all",
    at: datetime | None = None,
    dry_run: bool = False,
) -> ReassignSummary:
    """Re-assign every stored incident with a location; record each change as an event.

    Parameters
    ----------
    store : IncidentStore
        The store; read and written with a whole-town scope for ``actor``.
    index : TrinityIndex
        Built from the new layers.
    at : datetime, optional
        Time of the events (default: now, UTC).
    dry_run : bool
        Count the changes without writing.

    Returns
    -------
    ReassignSummary
        A change refused because someone else updated the incident meanwhile (``StaleVersion``)
        is listed in ``conflicts``; run again to pick it up.
    """
    scope = Scope.everything(actor=actor)
    at = at or datetime.now(UTC)
    frame = store.query_incidents(IncidentQuery(), scope)
    summary = ReassignSummary(checked=len(frame))
    if frame.empty:
        return summary
    located = ~(frame.geometry.isna() | frame.geometry.is_empty)
    summary.no_location = int((~located).sum())
    frame = frame[located]
    new = index.assign(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    new.index = frame.index
    for i in frame.index:
        old = {c: frame.at[i, c] for c in CODES}
        now = {c: None if pd.isna(new.at[i, c]) else str(new.at[i, c]) for c in CODES}
        if all(_same(old[c], now[c]) for c in CODES):
            summary.unchanged += 1
            continue
        summary.changed += 1
        if dry_run:
            continue
        version = int(frame.at[i, "version"])
        previous = {c: None if pd.isna(old[c]) else str(old[c]) for c in CODES}
        event = Event(
            incident_id=str(frame.at[i, "id"]),
            seq=version + 1,
            action="amend",
            at=at,
            actor=actor,
            reason=REASON,
            data={**now, "previous": previous},
        )
        try:
            store.append_event(event, expected_version=version, scope=scope)
        except StaleVersion:
            summary.conflicts.append(event.incident_id)
    return summary


__all__ = ["CODES", "ReassignSummary", "reassign_all"]
