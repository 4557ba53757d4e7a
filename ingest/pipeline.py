"""The ingest pipeline: feed rows in, incidents (or quarantine entries) out — nothing lost, nothing
doubled.

Per batch of rows (in file order): parse → validate (id, time, encoding, shape) → content hash
and a bulk lookup of (source, source_id) in the store → for what is not a plain duplicate:
normalise (category, phone), locate (coordinates converted from GCJ-02 / BD-09 and validated,
swapped lat/lon corrected when swapping back lands in the town; else the address geocoded) →
trinity assignment → repeat-call linking against the store and the batch → store: new incidents
with their ``receive`` event in one transaction, changed re-deliveries as ``amend`` events, bad
rows into the quarantine with a bilingual reason.

Every row read ends up counted once: ``read = stored + updated + duplicates + quarantined``
(:attr:`IngestSummary.invariant_ok`).

Idempotency and crash safety: an incident's id is derived from (source, source_id), its
``receive`` event carries the row's ``content_hash`` (of the fields the row gives, so an export
gaining or losing an empty column delivers the same rows) and each ``amend`` the new one; a row
whose hash the store already holds for its key is a duplicate, one with a new hash is an
update. Each write is one transaction and quarantining is keyed by the raw row's hash, so a run
killed at any point and run again ends with the same store as a run that was never interrupted
(given the same batch size: repeat links among the rows of one batch depend on the batch).

A file of 20,000 rows or more is written by a writer process while the next batch is prepared
(:mod:`ingest._writer`); the store ends the same as with the batches written in turn. The town's
indexes, when not given built, are built in a forked process while the file is read
(:mod:`ingest._forked`), which then geocodes the addresses the run meets after its first batch
(:mod:`ingest._ahead`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from ingest import _ahead as ahead
from ingest._batch import incident_id
from ingest._forked import Forked
from ingest._gc import paused_gc, settle
from ingest._run import Progress, _Run
from ingest._writer import ProcessWriter, spare_writer
from ingest.context import IngestContext
from ingest.formats import FeedFormat, FormatError, get_format, resolve_columns
from ingest.read import RawRow, RawTable, mark_unstorable, read_table
from ingest.summary import IngestSummary, RowOutcome
from store import Scope, open_store
from store.base import IncidentStore

__all__ = [
    "ACTOR",
    "DEFAULT_BATCH",
    "IngestContext",
    "IngestSummary",
    "Progress",
    "RowOutcome",
    "incident_id",
    "ingest_file",
    "ingest_records",
    "ingest_table",
]

DEFAULT_BATCH = 10_000
ACTOR = "ingest"


# --- entry points -----------------------------------------------------------------------------


def ingest_table(
    table: RawTable,
    fmt: str | FeedFormat,
    store: IncidentStore,
    context: IngestContext | Callable[[], IngestContext],
    *,
    aliases: Mapping[str, str] | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    actor: str = ACTOR,
    quarantine: bool = True,
    keep_outcomes: bool = False,
    file_label: str | None = None,
    parallel: bool | None = None,
    spare: ProcessWriter | None = None,
    scope: Scope | None = None,
) -> IngestSummary:
    """Run the pipeline over rows already read (see :func:`ingest_file`); ``context`` is the
    town or a function giving it (called when the first batch needs it); ``spare`` is a
    writer process forked before they were read (``ingest._writer.spare_writer``), used if the
    run writes in a process of its own and ended if not; ``scope``, the caller of a push: a
    row placed where it may not see is quarantined (``outside_scope``), not stored."""
    feed = fmt if isinstance(fmt, FeedFormat) else get_format(fmt)
    return _Run(
        table,
        feed,
        store,
        context,
        aliases=aliases,
        dry_run=dry_run,
        batch_size=batch_size,
        progress=progress,
        actor=actor,
        quarantine=quarantine,
        keep_outcomes=keep_outcomes,
        file_label=file_label,
        parallel=parallel,
        spare=spare,
        scope=scope,
    ).run()


def ingest_file(
    path: str | Path,
    fmt: str | FeedFormat,
    store: IncidentStore,
    context: IngestContext | Callable[[], IngestContext] | None = None,
    *,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    actor: str = ACTOR,
    parallel: bool | None = None,
) -> IngestSummary:
    """Import one feed file into ``store``; every row is stored, updated, a duplicate or
    quarantined, and the summary says how many of each.

    Parameters
    ----------
    path : path of a CSV (UTF-8, UTF-8 BOM, GBK, GB18030), .xlsx or JSON / JSON-lines file
    fmt : ``110``, ``12345`` or ``patrol``
    context : the town, or a function that builds it; built from the store's layers when not
        given. A function (or the store's layers) is run in a forked process while the file is
        read and its first batch parsed and looked up (:mod:`ingest._forked`): building the
        indexes takes longer than reading 100,000 rows.
    encoding : overrides detection (CSV and JSON)
    aliases : extra ``{source column: canonical field}`` names
    dry_run : do everything but write
    batch_size : rows per transaction
    parallel : write in a process of its own while the next batch is prepared
        (:mod:`ingest._writer`); ``None``: for files of 20,000 rows or more

    Raises
    ------
    FileNotFoundError, ingest.formats.FormatError
        The file as a whole cannot be read (nothing is written then).
    """
    feed = fmt if isinstance(fmt, FeedFormat) else get_format(fmt)
    p = Path(path)
    size = p.stat().st_size if p.is_file() else 0
    # the writer process forked while this one is small (ingest._writer.spare_writer)
    spare = None if dry_run else spare_writer(
        store, size, parallel, actor=actor, source=feed.source, quarantine=True
    )  # fmt: skip
    try:
        town: IngestContext | Callable[[], IngestContext]
        if isinstance(context, IngestContext):
            town, forked = context, None
        else:  # built meanwhile; the run asks for it when its first batch needs it
            forked = Forked(context or partial(_context_of, store), serve=ahead.serve)
            # called once `table` is read
            town = partial(_town, forked, lambda: table, feed, aliases, batch_size)
        with paused_gc(), nullcontext() if forked is None else forked:
            # a container per row, see ingest._gc
            table: RawTable = read_table(path, encoding, partial(_is_header, feed, aliases))
            settle()  # the rows read live as long as the run (ingest._gc)
            return ingest_table(
                table,
                feed,
                store,
                town,
                aliases=aliases,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=progress,
                actor=actor,
                parallel=parallel,
                spare=spare,
            )
    finally:
        if spare is not None:  # ended by the run already, unless it failed before writing
            spare.close()


def _town(
    forked: Forked[IngestContext],
    table: Callable[[], RawTable],
    feed: FeedFormat,
    aliases: Mapping[str, str] | None,
    batch_size: int,
) -> IngestContext:
    """The town built by ``forked``; the process that built it goes on to geocode the
    ``table``'s addresses after its first batch's (:mod:`ingest._ahead`)."""
    ctx = forked.result()
    if forked.channel is not None:
        rows = table()
        cols = resolve_columns(feed, rows.header, aliases)
        wanted, first = ahead.addresses_to_geocode(rows, cols, batch_size)
        if len(wanted) > first:
            ctx.ahead = ahead.Ahead(forked.channel, wanted, first)
    return ctx


def _is_header(feed: FeedFormat, aliases: Mapping[str, str] | None, values: Sequence[str]) -> bool:
    """Whether ``values`` is a header of ``feed`` (every required column found)."""
    try:
        resolve_columns(feed, values, aliases)
    except FormatError:
        return False
    return True


def _context_of(store: IncidentStore) -> IngestContext:
    """The town of ``store``'s layers, read through a connection of this process's own when the
    store has a URL (a forked child must not use its parent's connections)."""
    url = getattr(store, "url", None)
    if not isinstance(url, str):
        return IngestContext.from_store(store)
    own = open_store(url)
    try:
        return IngestContext.from_store(own)
    finally:
        own.close()


def ingest_records(
    records: Sequence[Mapping[str, Any]],
    fmt: str | FeedFormat,
    store: IncidentStore,
    context: IngestContext,
    *,
    label: str = "api",
    **kw: Any,
) -> IngestSummary:
    """Run the pipeline over records that arrived as data rather than a file (an HTTP push:
    Open311, a 110 interface); ``label`` stands in for the file name in the quarantine.
    Nested points and lists are flattened as in a patrol report."""
    from ingest.read import _flatten

    header: list[str] = []
    flat = []
    for rec in records:
        f = _flatten(dict(rec))
        header += [k for k in f if k not in header]
        flat.append(f)
    rows = [RawRow(i, [f.get(h, "") for h in header]) for i, f in enumerate(flat, start=1)]
    for row in rows:  # a JSON body's "\u0000" or lone "\ud800"
        mark_unstorable(header, row)
    table = RawTable(label, header or ["id"], rows, "json")
    return ingest_table(table, fmt, store, context, file_label=label, **kw)
