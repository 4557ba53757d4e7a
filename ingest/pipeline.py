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
``receive`` event carries the row's ``content_hash`` and each ``amend`` the new one; a row whose
hash the store already holds for its key is a duplicate, one with a new hash is an update. Each
write is one transaction and quarantining is keyed by the raw row's hash, so a run killed at any
point and run again ends with the same store as a run that was never interrupted (given the same
batch size: repeat links among the rows of one batch depend on the batch).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from incidents.model import Event
from ingest._build import amend_events, batch_fields, new_incidents, quarantine_rows
from ingest._count import count_batch
from ingest._locate import locate
from ingest._repeats import find_repeats
from ingest._util import _echo, _problem
from ingest.context import IngestContext
from ingest.formats import FeedFormat, get_format, resolve_columns
from ingest.normalise import map_categories, normalise_phones, parse_times
from ingest.read import RawRow, RawTable, read_table
from ingest.summary import IngestSummary, RowOutcome
from store.base import DuplicateIncident, IncidentStore, Scope, StaleVersion

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

Progress = Callable[[int, int], None]


# --- helpers --------------------------------------------------------------------------------


def incident_id(source: str, source_id: str) -> str:
    """The incident id of (source, source_id): the same on every run, so re-runs converge."""
    digest = hashlib.sha256(f"{source}\x1f{source_id}".encode()).hexdigest()
    return f"N{digest[:15].upper()}"


@dataclass
class _Seen:
    """What is known of one (source, source_id) during the run."""

    incident_id: str
    version: int
    hashes: set[str]


# --- the pipeline -----------------------------------------------------------------------------


class _Run:
    def __init__(
        self,
        table: RawTable,
        fmt: FeedFormat,
        store: IncidentStore,
        context: IngestContext,
        *,
        aliases: Mapping[str, str] | None,
        dry_run: bool,
        batch_size: int,
        progress: Progress | None,
        actor: str,
        quarantine: bool,
        keep_outcomes: bool,
        file_label: str | None,
    ) -> None:
        self.table, self.fmt, self.store, self.ctx = table, fmt, store, context
        self.cols = resolve_columns(fmt, table.header, aliases)
        self.dry_run, self.batch_size, self.progress = dry_run, max(1, batch_size), progress
        self.actor, self.quarantine = actor, quarantine
        self.file = file_label or os.path.basename(table.path)
        self.summary = IngestSummary(self.file, fmt.name, table.encoding, dry_run)
        if keep_outcomes:
            self.summary.outcomes = []
        self.seen: dict[str, _Seen] = {}
        self._batch_rows: Sequence[RawRow] | None = None
        self._cache: dict[str, pd.Series] = {}

    # -- columns --
    def column(self, rows: Sequence[RawRow], canonical: str) -> pd.Series:
        """The stripped text of one field for ``rows`` (cached for the current batch)."""
        cached = rows is self._batch_rows
        if cached and canonical in self._cache:
            return self._cache[canonical]
        i = self.cols.get(canonical)
        if i is None:
            col = pd.Series([""] * len(rows), dtype=object)
        else:
            col = pd.Series(
                [(r.values[i].strip() if i < len(r.values) else "") for r in rows], dtype=object
            )
        if cached:
            self._cache[canonical] = col
        return col

    def display(self, canonical: str) -> str:
        i = self.cols.get(canonical)
        return self.table.header[i] if i is not None else self.fmt.display(canonical)

    # -- run --
    def run(self) -> IngestSummary:
        t0 = time.perf_counter()
        rows = self.table.rows
        total = len(rows)
        if self.progress:
            self.progress(0, total)
        for start in range(0, total, self.batch_size):
            batch = rows[start : start + self.batch_size]
            for attempt in range(3):
                try:
                    self.batch(batch)
                    break
                except DuplicateIncident:
                    # another writer stored some of these rows between lookup and write
                    if attempt == 2:
                        raise
            self.summary.batches += 1
            if self.progress:
                self.progress(min(start + len(batch), total), total)
        self.summary.seconds = time.perf_counter() - t0
        return self.summary

    def batch(self, rows: Sequence[RawRow]) -> None:
        n = len(rows)
        self._batch_rows, self._cache = rows, {}
        fmt = self.fmt
        problems: dict[int, list[dict[str, Any]]] = {}

        def flag(mask: npt.NDArray[np.bool_], make: Callable[[int], dict[str, Any]]) -> None:
            for i in np.flatnonzero(mask):
                if int(i) not in problems:
                    problems[int(i)] = [make(int(i))]

        # -- parse and validate --
        for i, r in enumerate(rows):
            if r.error is not None:
                code, zh, en = r.error
                problems[i] = [_problem(code, None, zh, en)]
            elif r.bad_encoding:
                col = (
                    self.table.header[r.bad_encoding[0]]
                    if r.bad_encoding[0] < len(self.table.header)
                    else None
                )
                enc = self.table.encoding
                problems[i] = [
                    _problem(
                        "bad_encoding",
                        col,
                        f"{col or ''}含有无法按 {enc} 解码的字节",
                        f"{col or 'a cell'} holds bytes that do not decode as {enc}",
                    )
                ]
        sid = self.column(rows, "source_id")
        id_col = self.display("source_id")
        flag(
            (sid == "").to_numpy(),
            lambda i: _problem("missing_id", id_col, f"缺少{id_col}", f"{id_col} (id) is empty"),
        )
        raw_time = self.column(rows, "received_at")
        received = parse_times(raw_time)
        t_col = self.display("received_at")
        flag(
            (raw_time == "").to_numpy(),
            lambda i: _problem("missing_time", t_col, f"缺少{t_col}", f"{t_col} (time) is empty"),
        )
        flag(
            received.isna().to_numpy(),
            lambda i: _problem(
                "bad_time",
                t_col,
                f"{t_col}“{_echo(raw_time.iloc[i])}”不是有效时间",
                f"{t_col} “{_echo(raw_time.iloc[i])}” is not a valid time",
            ),
        )

        # -- hashes and what the store already holds --
        content = {c: self.column(rows, c) for c in fmt.content if c in self.cols}
        keys = sorted(content)
        joined = ["\x1f".join(vals) for vals in zip(*(content[c] for c in keys), strict=True)]
        hashes = [
            hashlib.sha256(
                f"{fmt.source}\x1e{'|'.join(keys)}\x1e{j}".encode("utf-8", "surrogatepass")
            ).hexdigest()
            for j in joined
        ]
        valid = np.ones(n, dtype=bool)
        valid[list(problems)] = False
        sids = sid.tolist()
        fresh = sorted({sids[i] for i in np.flatnonzero(valid)} - set(self.seen))
        for key, found in self.store.source_keys(fmt.source, fresh).items():
            self.seen[key] = _Seen(found.incident_id, found.version, set(found.content_hashes))
        known_dup = np.array(
            [bool(valid[i] and sids[i] in self.seen and hashes[i] in self.seen[sids[i]].hashes)
             for i in range(n)]
        )  # fmt: skip
        todo = valid & ~known_dup

        # -- locate, normalise what will be written --
        loc = locate(rows, todo, problems, self.ctx, self.column, self.display)
        todo &= ~np.isin(np.arange(n), list(problems))

        # -- decide: new, update or duplicate, in file order --
        new_rows: list[int] = []
        amend_rows: list[tuple[int, str, int]] = []  # (row, incident id, version it is based on)
        seen_now: dict[str, _Seen] = {}
        outcome: dict[int, tuple[str, str | None]] = {}
        for i in range(n):
            if i in problems:
                continue
            key, h = sids[i], hashes[i]
            cur = seen_now.get(key) or self.seen.get(key)
            if cur is not None and h in cur.hashes:
                outcome[i] = ("duplicate", cur.incident_id)
                continue
            if cur is None:
                cur = _Seen(incident_id(fmt.source, key), 1, {h})
                new_rows.append(i)
                outcome[i] = ("stored", cur.incident_id)
            else:
                cur = _Seen(cur.incident_id, cur.version, set(cur.hashes))
                amend_rows.append((i, cur.incident_id, cur.version))
                cur.version += 1
                cur.hashes.add(h)
                outcome[i] = ("updated", cur.incident_id)
            seen_now[key] = cur

        # -- categories, phones, repeat links --
        cats = map_categories(
            self.column(rows, "category_text"), self.column(rows, "description"), self.ctx.taxonomy
        )
        phones, bad_phone = normalise_phones(self.column(rows, "caller_phone"))
        new_ids = [str(outcome[i][1]) for i in new_rows]
        repeat = find_repeats(
            self.store,
            self.actor,
            self.ctx.repeat_policy,
            new_rows,
            new_ids,
            received,
            cats.category,
            phones,
            loc,
        )

        # -- build (plain lists: per-row Series access would dominate the run) --
        f = batch_fields(
            partial(self.column, rows), self.cols, sids, hashes, received, cats, phones, loc
        )
        incidents, events = new_incidents(
            f, new_rows, new_ids, repeat, source=fmt.source, actor=self.actor, file=self.file
        )
        amends = amend_events(f, amend_rows, actor=self.actor, file=self.file)
        qrows = quarantine_rows(self.table, rows, problems, sids, source=fmt.source, file=self.file)

        # -- write (each step idempotent, so a crash between them is repaired by a re-run) --
        added = 0
        if not self.dry_run:
            if qrows and self.quarantine:
                added = self.store.quarantine_add(qrows, actor=self.actor)
            if incidents:
                self.store.add_incidents(incidents, events, actor=self.actor)
            for ev, key in amends:
                self.append_amend(ev, key)

        # -- count (only now: a failed write above leaves the summary untouched) --
        self.seen.update(seen_now)
        count_batch(
            self.summary,
            rows,
            problems,
            outcome,
            loc,
            bad_phone,
            cats,
            self.column(rows, "category_text").tolist(),
            fallback=self.ctx.taxonomy.fallback,
            repeats_linked=len(repeat),
            quarantine_added=added,
        )

    def append_amend(self, event: Event, key: str) -> None:
        """Append an amend; when someone acted on the incident meanwhile, rebase on the new
        version (the amend does not depend on the state)."""
        for _ in range(5):
            try:
                self.store.append_event(event, event.seq - 1, Scope.everything(self.actor))
                return
            except StaleVersion as exc:
                found = self.store.source_keys(self.fmt.source, [key]).get(key)
                if found is None or event.data.get("content_hash") in found.content_hashes:
                    return
                event = Event(**{**vars(event), "seq": exc.actual + 1})
        raise StaleVersion(event.incident_id, event.seq - 1, -1)


# --- entry points -----------------------------------------------------------------------------


def ingest_table(
    table: RawTable,
    fmt: str | FeedFormat,
    store: IncidentStore,
    context: IngestContext,
    *,
    aliases: Mapping[str, str] | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    actor: str = ACTOR,
    quarantine: bool = True,
    keep_outcomes: bool = False,
    file_label: str | None = None,
) -> IngestSummary:
    """Run the pipeline over rows already read (see :func:`ingest_file`)."""
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
    ).run()


def ingest_file(
    path: str | Path,
    fmt: str | FeedFormat,
    store: IncidentStore,
    context: IngestContext | None = None,
    *,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    actor: str = ACTOR,
) -> IngestSummary:
    """Import one feed file into ``store``; every row is stored, updated, a duplicate or
    quarantined, and the summary says how many of each.

    Parameters
    ----------
    path : path of a CSV (UTF-8, UTF-8 BOM, GBK, GB18030), .xlsx or JSON / JSON-lines file
    fmt : ``110``, ``12345`` or ``patrol``
    context : the town (built from the store's layers when not given)
    encoding : overrides detection (CSV and JSON)
    aliases : extra ``{source column: canonical field}`` names
    dry_run : do everything but write
    batch_size : rows per transaction

    Raises
    ------
    FileNotFoundError, ingest.formats.FormatError
        The file as a whole cannot be read (nothing is written then).
    """
    table = read_table(path, encoding)
    ctx = context or IngestContext.from_store(store)
    return ingest_table(
        table,
        fmt,
        store,
        ctx,
        aliases=aliases,
        dry_run=dry_run,
        batch_size=batch_size,
        progress=progress,
        actor=actor,
    )


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
    table = RawTable(label, header or ["id"], rows, "json")
    return ingest_table(table, fmt, store, context, file_label=label, **kw)
