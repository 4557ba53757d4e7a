"""Quarantine: the :class:`QuarantineRow` and :class:`QuarantineEntry` values and the
:class:`QuarantineStore` part of the store contract.

Feed rows that could not be stored wait here, with the raw row, where it came from and why, for
a person to fix and replay or discard. Every backend implements this through
:class:`store._quarantine.QuarantineMixin`; the conformance tests are in
``tests/store/test_quarantine.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class QuarantineRow:
    """A feed row that could not be stored, as handed to :meth:`QuarantineStore.quarantine_add`.

    ``raw`` is the row as read (column -> text; personal data included, so show it masked);
    ``problems`` are dicts ``{code, column, zh, en}``, the first the main one, and never echo a
    personal value. ``raw_hash`` (computed when empty) makes re-quarantining a no-op.
    """

    source: str
    file: str
    line: int | None
    raw: Mapping[str, Any]
    problems: tuple[Mapping[str, Any], ...]
    source_id: str | None = None
    raw_hash: str = ""


@dataclass(frozen=True)
class QuarantineEntry:
    """One stored quarantine entry; ``status`` is open, resolved or discarded."""

    id: int
    at: datetime
    source: str
    source_id: str | None
    file: str
    line: int | None
    column: str | None
    code: str
    reason_zh: str
    reason_en: str
    problems: tuple[dict[str, Any], ...]
    raw: dict[str, Any]
    raw_hash: str
    status: str
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    incident_id: str | None = None
    note: str = ""

    @property
    def reason(self) -> str:
        return f"{self.reason_zh} / {self.reason_en}"


@runtime_checkable
class QuarantineStore(Protocol):
    """Feed rows that could not be stored, kept in the store until fixed or discarded."""

    def quarantine_add(self, rows: Sequence[QuarantineRow], *, actor: str = "ingest") -> int:
        """Quarantine rows (all or nothing); a row already held (same source and raw hash) is
        skipped. Returns how many were added."""
        ...

    def quarantine_held(self, source: str, hashes: Collection[str]) -> set[str]:
        """Which of ``hashes`` (:attr:`QuarantineRow.raw_hash` of rows of ``source``) the
        quarantine holds, in any status: the rows :meth:`quarantine_add` would skip."""
        ...

    def quarantine_list(
        self, *, status: str | None = "open", source: str | None = None, limit: int | None = None
    ) -> list[QuarantineEntry]:
        """Quarantine entries in id order (``status`` None: all)."""
        ...

    def quarantine_get(self, entry_id: int) -> QuarantineEntry:
        """One entry. Raises :class:`~store.base.QuarantineNotFound`."""
        ...

    def quarantine_resolve(
        self,
        entry_id: int,
        *,
        actor: str,
        status: str = "resolved",
        incident_id: str | None = None,
        note: str = "",
    ) -> QuarantineEntry:
        """Close an open entry as ``resolved`` (fixed and stored as ``incident_id``) or
        ``discarded``; audited. Raises :class:`~store.base.QuarantineNotFound` when no open
        entry has it."""
        ...
