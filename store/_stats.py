"""What a health check asks of a store (:class:`StatsMixin`): is it there, how big, how fresh.

Plain SQL both SQLite and PostgreSQL accept, on top of a backend's ``_tx(None)`` read
transaction (see :mod:`store._users` for the pattern). Indexed reads only (``max`` over the
``received_at`` index, the audit log backwards along its key, a count over the quarantine
status index), so a health probe every few seconds costs little at 10^6 incidents.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store import _codec as codec


@dataclass(frozen=True)
class StoreStats:
    """Freshness and backlog of a store, for ``/healthz`` and the wall's stall warning.

    Attributes
    ----------
    schema_version : int
    last_received_at : datetime or None
        Newest ``received_at`` (UTC): when the newest incident came in.
    last_added_at : datetime or None
        When the store last added incidents (the newest ``add`` in the audit log, UTC): the
        last time any feed delivered something new.
    quarantine_open : int
        Rows waiting in the quarantine for a person to fix and replay.
    """

    schema_version: int
    last_received_at: datetime | None
    last_added_at: datetime | None
    quarantine_open: int


class StatsMixin:
    """``stats()`` for a backend with ``_tx`` and ``schema_version``."""

    def _tx(self, point: str | None) -> AbstractContextManager[Any]:  # pragma: no cover
        raise NotImplementedError

    def schema_version(self) -> int:  # pragma: no cover
        raise NotImplementedError

    def stats(self) -> StoreStats:
        """Freshness and backlog in one read transaction."""
        version = self.schema_version()
        with self._tx(None) as db:
            received = db.execute("SELECT max(received_at) FROM incidents").fetchone()[0]
            # newest first along the primary key: adds are frequent, so this stops early
            found = db.execute(
                "SELECT at FROM audit_log WHERE action = 'add' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            added = found[0] if found else None
            backlog = db.execute(
                "SELECT count(*) FROM quarantine WHERE status = 'open'"
            ).fetchone()[0]
        return StoreStats(
            schema_version=version,
            last_received_at=codec.parse_time(received),
            last_added_at=codec.parse_time(added),
            quarantine_open=int(backlog),
        )
