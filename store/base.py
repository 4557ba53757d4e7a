"""The storage contract every backend implements (pygeoapi-style provider interface).

Two Protocols: :class:`Store` (layers: read, write, list) and :class:`IncidentStore` (incidents,
their events, the audit log), which every backend implements in full; it includes the accounts
(:mod:`store.accounts`) and quarantine (:mod:`store.quarantine`, whose values are re-exported
here) parts of the contract. One conformance suite (``tests/store/``) runs against each backend.

The values crossing the boundary are typed: :class:`~incidents.model.Incident` and
:class:`~incidents.model.Event` in, :class:`IncidentRecord`,
:class:`~incidents.lifecycle.IncidentStatus` and GeoDataFrames out; :class:`Scope` (who is asking
and what they may see) and :class:`IncidentQuery` (what they ask for) are applied inside the
store, in SQL. Errors are typed and bilingual: :class:`StaleVersion`, :class:`IncidentNotFound`,
:class:`DuplicateIncident`, and the domain's :class:`~incidents.lifecycle.IllegalTransition` /
:class:`~incidents.lifecycle.InvalidEvent`, raised unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import geopandas as gpd
import pandas as pd

from incidents.lifecycle import IncidentStatus
from incidents.model import Event, Incident, State
from store._codec import QUERY_COLUMNS as QUERY_COLUMNS
from store._stats import StoreStats
from store.accounts import AccountStore
from store.quarantine import QuarantineEntry as QuarantineEntry
from store.quarantine import QuarantineRow as QuarantineRow
from store.quarantine import QuarantineStore

if TYPE_CHECKING:
    from store.received import ReceivedBatch

Frame: TypeAlias = gpd.GeoDataFrame | pd.DataFrame

#: Test hook: when set, called with a point name (``"add_incidents"``, ``"append_event"``) inside
#: a write transaction just before it commits. The concurrency tests use it to kill a writer
#: mid-transaction. Never set in production.
before_commit: Callable[[str], None] | None = None


def _hook(point: str) -> None:
    if before_commit is not None:
        before_commit(point)


class StoreError(RuntimeError):
    """A store could not be opened or used; the message is bilingual."""


def is_store_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the store's, its database driver's (SQLite, psycopg and its pool) or
    the file system's: the database or the disk, not a program error of the caller's."""
    if isinstance(exc, (StoreError, sqlite3.Error, OSError)):
        return True
    return any(c.__module__.split(".")[0].startswith("psycopg") for c in type(exc).__mro__)


class WriteRefused(StoreError):
    """The database refused the values written (a constraint they break, a value it cannot
    hold): the same at every attempt, however healthy the store."""


class StoreBusy(StoreError):
    """Another connection held what a write needs (a lock) for longer than the store waits
    (:data:`WAIT_S`): nothing was written; the same write may be tried again."""


#: Seconds a store waits for a lock another connection holds before :class:`StoreBusy`.
WAIT_S = 30.0


class LayerNotFound(StoreError, KeyError):
    """The requested layer is not in the store."""


class IncidentNotFound(StoreError, KeyError):
    """No such incident, or not within the caller's scope (the two are not told apart)."""

    def __init__(self, incident_id: str):
        self.incident_id = incident_id
        super().__init__(
            f"事项不存在或不在您的权限范围内：{incident_id} / "
            f"no incident {incident_id!r} within your scope"
        )

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


class DuplicateIncident(StoreError):
    """An incident with the same id, or the same (source, source_id), is already stored."""


class UserNotFound(StoreError, KeyError):
    """No account with that username."""

    def __str__(self) -> str:
        return str(self.args[0])


class DuplicateUser(StoreError):
    """An account with that username exists already."""


class ReadOnlyScope(StoreError, PermissionError):
    """The caller may look but not act (analyst, wall, police liaison): nothing is stored."""

    def __init__(self, actor: str, incident_id: str):
        self.actor, self.incident_id = actor, incident_id
        super().__init__(
            f"{actor} 只能查看，不能办理事项 {incident_id} / "
            f"{actor} may view but not act on incident {incident_id}"
        )


class StaleVersion(StoreError):
    """An update was based on an old version of the incident: someone else acted first.

    Attributes
    ----------
    incident_id : str
    expected : int
        The version the caller based the update on.
    actual : int
        The version in the store now.
    """

    def __init__(self, incident_id: str, expected: int, actual: int):
        self.incident_id, self.expected, self.actual = incident_id, expected, actual
        super().__init__(
            f"事项 {incident_id} 已被他人更新（您基于版本 {expected}，当前版本 {actual}），"
            f"请刷新后重试 / incident {incident_id} was changed by someone else "
            f"(your version {expected}, current {actual}); reload and try again"
        )


def _codes(values: Iterable[str] | None) -> tuple[str, ...]:
    if isinstance(values, str):  # "330784…" would otherwise become a set of digits
        raise TypeError(f"代码须为序列 / codes must be a sequence of strings, not {values!r}")
    return tuple(sorted({str(v) for v in values})) if values is not None else ()


@dataclass(frozen=True)
class Scope:
    """What the caller may see and act on; applied inside the store, in SQL.

    An incident is within scope when ``all`` is set, or when any of its current codes is in the
    matching set (grid, village, beat, fire station, team, department: the union of what the
    caller is responsible for). ``sources``, when given, restricts further to those sources.
    An empty scope sees nothing; a ``read_only`` one cannot append events. ``personal_data``
    lets the caller see names, phones and ID numbers unmasked; every such view is written to
    the audit log under ``actor``. ``status_only`` (the police liaison, 两室联动) sees where an
    incident is and how it stands, not who called or what was said: no parties, no address or
    description, no event reasons or data, in every way the store answers.
    """

    actor: str = "system"
    all: bool = False
    grid_codes: tuple[str, ...] = ()
    village_codes: tuple[str, ...] = ()
    beat_codes: tuple[str, ...] = ()
    station_codes: tuple[str, ...] = ()
    team_codes: tuple[str, ...] = ()
    department_codes: tuple[str, ...] = ()
    sources: tuple[str, ...] | None = None
    personal_data: bool = False
    read_only: bool = False
    status_only: bool = False

    def __post_init__(self) -> None:
        for name in AREA_FIELDS:
            object.__setattr__(self, name, _codes(getattr(self, name)))
        if self.sources is not None:
            object.__setattr__(self, "sources", _codes(self.sources))

    @classmethod
    def everything(cls, actor: str = "system", *, personal_data: bool = False) -> Scope:
        """The whole store (the command room, ingest, administrators)."""
        return cls(actor=actor, all=True, personal_data=personal_data)

    def admits(self, source: str, codes: Mapping[str, str | None]) -> bool:
        """Whether an incident of ``source`` with these codes (``grid_code``, ``village_code``,
        …; a missing one is none) is within the scope: the rule the store applies in SQL, for
        an incident not stored yet (a push checked before it is written)."""
        if self.sources is not None and source not in self.sources:
            return False
        return self.all or any(
            codes.get(name.removesuffix("s")) in getattr(self, name) for name in AREA_FIELDS
        )


#: Scope fields matched against the incident column of the same name without ``s``.
AREA_FIELDS = (
    "grid_codes",
    "village_codes",
    "beat_codes",
    "station_codes",
    "team_codes",
    "department_codes",
)


@dataclass(frozen=True)
class IncidentQuery:
    """Filters of :meth:`IncidentStore.query_incidents`; an empty filter matches everything.

    ``bbox`` is (west, south, east, north) in EPSG:4326; the time window is
    ``received_from <= received_at < received_to`` (aware datetimes); ``changed_since`` keeps
    incidents whose latest event is later than it (the wall's live deltas). Each tuple of values
    matches any of them.

    The matches come oldest first (``received_at``, then ``id``), newest first with
    ``newest_first``; ``offset`` skips that many of them and ``limit`` keeps at most that many
    (a page, read as a page: the store does not read the rest). ``after`` pages by key instead:
    only the matches after that ``(received_at, id)`` in the query's order (before it, newest
    first) — a deep page costs what the first does, where an offset reads every row it skips.

    ``columns`` names the columns to read, as OGC API Features' ``properties`` does (``id`` and
    the geometry always come; empty: every column): a KPI frame of a year of a city needs
    neither the callers nor the descriptions, whose reading and masking cost more than the rest.
    A scope that sees personal data leaves a ``view_personal`` audit line per incident only when
    the columns read hold personal data.
    """

    bbox: tuple[float, float, float, float] | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    changed_since: datetime | None = None
    states: tuple[State | str, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    grid_codes: tuple[str, ...] = ()
    village_codes: tuple[str, ...] = ()
    beat_codes: tuple[str, ...] = ()
    station_codes: tuple[str, ...] = ()
    team_codes: tuple[str, ...] = ()
    department_codes: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    limit: int | None = None
    offset: int = 0
    after: tuple[datetime, str] | None = None
    newest_first: bool = False
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (*AREA_FIELDS, "categories", "sources", "states", "ids", "columns"):
            if isinstance(getattr(self, name), str):
                raise TypeError(f"{name} 须为序列 / {name} must be a tuple, not a string")
        key = self.after[0] if self.after is not None else None
        for t in (self.received_from, self.received_to, self.changed_since, key):
            if t is not None and (t.tzinfo is None or t.utcoffset() is None):
                raise ValueError(f"查询时间须带时区 / query times must be aware: {t.isoformat()}")
        if self.bbox is not None and not (
            self.bbox[0] <= self.bbox[2] and self.bbox[1] <= self.bbox[3]
        ):
            raise ValueError(f"范围无效 / bbox must be (west, south, east, north): {self.bbox}")
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit 不能为负 / limit must be >= 0")
        if self.offset < 0:
            raise ValueError("offset 不能为负 / offset must be >= 0")
        unknown = sorted(set(self.columns) - set(QUERY_COLUMNS))
        if unknown:
            raise ValueError(f"没有这些列 / no such columns: {', '.join(unknown)}")


@dataclass(frozen=True)
class IncidentRecord:
    """One incident as stored: as received, its current status and its whole history."""

    incident: Incident
    status: IncidentStatus
    events: tuple[Event, ...]


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log. ``detail`` never holds personal data."""

    seq: int
    at: datetime
    actor: str
    action: str
    incident_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class QuarantineNotFound(StoreError, KeyError):
    """No open quarantine entry with that id."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class SourceKey:
    """What is stored under one (source, source_id): the incident, its version, and the
    ``content_hash`` values its events carry in ``data``, oldest first (every delivery of the
    intake that was stored: the receive event, then each amend)."""

    incident_id: str
    version: int
    content_hashes: tuple[str, ...] = ()


@runtime_checkable
class Store(Protocol):
    """Persistence of layers (and, from the store issue on, incidents and events)."""

    url: str

    def layer_names(self) -> list[str]:
        """Names of the layers and tables held."""
        ...

    def read_layer(self, name: str) -> Frame:
        """One layer as a GeoDataFrame in EPSG:4326, or a DataFrame for a plain table."""
        ...

    def write_layers(self, frames: Mapping[str, Frame]) -> None:
        """Create or replace the named layers (an ``incidents`` frame is added, see below)."""
        ...

    def exists(self) -> bool:
        """Whether the store holds anything yet."""
        ...

    def layers_version(self) -> int:
        """A number raised each time :meth:`write_layers` writes (0 before the first): what a
        long-running process compares to know that what it built from the layers (a geocoder,
        a trinity index) is out of date. At least the Unix time of the write, so that a store
        restored from a backup and written again never comes back to a number a running
        process has seen with other layers."""
        ...


@runtime_checkable
class IncidentStore(Store, AccountStore, QuarantineStore, Protocol):
    """Incidents, their events and the audit log, on top of the layers; accounts and sign-in
    attempts (:class:`~store.accounts.AccountStore`); the quarantine of feed rows that could not
    be stored (:class:`~store.quarantine.QuarantineStore`)."""

    def schema_version(self) -> int:
        """The newest migration applied (migrations run when the store is first used)."""
        ...

    def stats(self) -> StoreStats:
        """Freshness and backlog, for health checks (:class:`~store._stats.StoreStats`)."""
        ...

    def add_incidents(
        self, incidents: Sequence[Incident], events: Sequence[Event] = (), *, actor: str = "system"
    ) -> int:
        """Store new incidents with their events (all or nothing); return how many.

        An incident without events gets its ``receive`` event (seq 1, at ``received_at``). Every
        incident's events are validated by the domain fold first.

        Raises
        ------
        DuplicateIncident
            An id or a (source, source_id) is already stored (or twice in the batch).
        IllegalTransition, InvalidEvent
            An event does not follow the lifecycle; nothing is stored.
        """
        ...

    def add_received(self, batch: ReceivedBatch, *, actor: str = "ingest") -> int:
        """Store new incidents that have only their ``receive`` event, given as columns (an
        import's fast path); the same rows as ``add_incidents`` of ``batch.objects(actor)``.
        Raises as :meth:`add_incidents` does."""
        ...

    def append_event(self, event: Event, expected_version: int, scope: Scope) -> IncidentStatus:
        """Append one event if the incident is still at ``expected_version``; return the new
        status (its version is ``event.seq``) as ``scope`` may see it (masked, or status only).

        Raises
        ------
        StaleVersion
            The incident has moved on: the event is not stored.
        IncidentNotFound
            No such incident within ``scope``.
        IllegalTransition, InvalidEvent
            Refused by the lifecycle; nothing is stored.
        """
        ...

    def get_incident(self, incident_id: str, scope: Scope) -> IncidentRecord:
        """One incident with status and events; personal data masked unless
        ``scope.personal_data`` (then the view is audited). Raises :class:`IncidentNotFound`."""
        ...

    def events(self, incident_id: str, scope: Scope) -> list[Event]:
        """The events of one incident in order. Raises :class:`IncidentNotFound`."""
        ...

    def query_incidents(self, query: IncidentQuery, scope: Scope) -> gpd.GeoDataFrame:
        """Incidents matching ``query`` within ``scope`` as a point GeoDataFrame (EPSG:4326),
        in the query's order and page: the columns of the ``incidents`` layer spec plus
        ``version``, ``deadline``, ``supervised`` and ``escalation_level``. Personal data as in
        :meth:`get_incident`."""
        ...

    def count_incidents(self, query: IncidentQuery, scope: Scope) -> int:
        """How many incidents match ``query`` within ``scope`` (its page — ``offset``,
        ``limit``, ``after`` — and order ignored)."""
        ...

    def audit(
        self,
        actor: str,
        action: str,
        *,
        incident_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one line to the audit log (exports, logins, …); never put personal data in
        ``detail``. Changes and unmasked views are audited by the store itself."""
        ...

    def audit_log(self, *, incident_id: str | None = None) -> list[AuditEntry]:
        """Audit lines in order, optionally of one incident."""
        ...

    def repeat_candidates(self, since: datetime, until: datetime) -> pd.DataFrame:
        """What repeat-call linking needs of the incidents a call before ``until`` may repeat
        (no scope: for ingest): those received before ``until`` that are open (not closed, not
        returned), however long ago received, or were closed on or after ``since``. By
        ``received_at`` then ``id``: ``id``, ``received_at``, ``category``, ``lon``, ``lat``,
        ``caller_phone`` (masked), ``closed_at``, ``state``."""
        ...

    def source_keys(self, source: str, source_ids: Sequence[str]) -> dict[str, SourceKey]:
        """Stored incidents of ``source`` among ``source_ids``, by source id (bulk, no scope:
        for ingest). Ids not stored are absent from the result."""
        ...

    def deferred_index(self) -> AbstractContextManager[None]:
        """A bulk load (an ingest run's writer): within the block this thread's
        :meth:`add_received` may leave the spatial index's upkeep to the block's end (or to
        :meth:`index_deferred`), where it is done at once, faster than row by row. A store
        opened meanwhile, or after a load killed inside the block, is brought up to date when
        opened. A no-op where the backend keeps its index as fast either way."""
        ...

    def index_deferred(self) -> int:
        """Bring the spatial index up to date with what a :meth:`deferred_index` block left
        pending; how many entries were written. Raises :class:`StoreError` when it cannot (the
        entries stay pending for the next try or the next opener)."""
        ...

    def pinned(self) -> AbstractContextManager[None]:
        """Bulk work (an ingest run): within the block this thread's transactions share one
        connection — no reconnect, schema check or WAL checkpoint between batches, a warm page
        cache — and each still commits on its own. Nested blocks use the outer one's; a no-op
        where connections are pooled."""
        ...

    def close(self) -> None:
        """Release connections (a no-op where there are none)."""
        ...
