"""The write phase of one ingest batch, as a plan and a free function, so that the run can
write a batch in its own process (:mod:`ingest._writer`) or in line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from incidents.model import Event
from store.base import IncidentStore, QuarantineRow, Scope, StaleVersion, StoreError
from store.received import ReceivedBatch


@dataclass
class WritePlan:
    """What one batch writes: quarantined rows, new incidents (as columns, or as objects when
    the context is not columnar) and amends ``(event, source id)`` of changed re-deliveries."""

    qrows: list[QuarantineRow] = field(default_factory=list)
    received: ReceivedBatch | None = None
    objects: tuple[list[Any], list[Event]] = field(default_factory=lambda: ([], []))
    amends: list[tuple[Event, str]] = field(default_factory=list)
    #: Bring the store's spatial index up to date once written (the run sets it on the batch
    #: before its last: the writer process packs the index while the run prepares the last
    #: batch, and the run's end is left only that batch's entries).
    index_after: bool = False


def write_plan(
    store: IncidentStore, plan: WritePlan, *, actor: str, source: str, quarantine: bool
) -> int:
    """Write ``plan`` (each step idempotent, so a crash between them is repaired by a re-run);
    how many rows the quarantine did not hold yet.

    Raises
    ------
    store.base.DuplicateIncident
        Another writer stored some of the new incidents after the batch looked them up.
    """
    added = 0
    if plan.qrows and quarantine:
        added = store.quarantine_add(plan.qrows, actor=actor)
    if plan.received is not None and len(plan.received):
        store.add_received(plan.received, actor=actor)
    elif plan.objects[0]:
        store.add_incidents(*plan.objects, actor=actor)
    for event, key in plan.amends:
        append_amend(store, event, key, actor=actor, source=source)
    if plan.index_after:  # the batch is stored: a failure is left to the run's end to catch up
        with contextlib.suppress(StoreError):
            store.index_deferred()
    return added


def append_amend(store: IncidentStore, event: Event, key: str, *, actor: str, source: str) -> None:
    """Append an amend; when someone acted on the incident meanwhile, rebase on the new version
    (the amend does not depend on the state)."""
    for _ in range(5):
        try:
            store.append_event(event, event.seq - 1, Scope.everything(actor))
            return
        except StaleVersion as exc:
            found = store.source_keys(source, [key]).get(key)
            if found is None or event.data.get("content_hash") in found.content_hashes:
                return
            event = Event(**{**vars(event), "seq": exc.actual + 1})
    raise StaleVersion(event.incident_id, event.seq - 1, -1)
