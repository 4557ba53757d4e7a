"""One run of the ingest pipeline over a table: batches prepared, built, written and counted.

Each batch goes through four phases: **prepare** (parse, validate, hash, look up the store's
keys, locate, decide new / update / duplicate, categories and phones), **build** (repeat links
against the store, which holds every batch before this one, then the rows to write), **write**
(quarantine, new incidents, amends: each step idempotent) and **count** (only once written, so
a failed write leaves the summary untouched). A batch whose write another writer beat
(``DuplicateIncident``) is redone from its lookup.

A large run writes batch k in a writer process while it prepares and builds batch k+1
(:mod:`ingest._writer`; a thread was tried and was slower: sqlite3's ``executemany`` takes the
GIL back for every row it binds). What batch k+1 reads of batch k comes from the run itself:
its (source, source id) keys (``seen``, taken back if the write is refused) and its new
incidents as repeat candidates; a batch with amends is waited for before the next is built
(an amend can move an incident). The store ends the same as with batches written in turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from itertools import zip_longest
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest._batch import Batch, Seen, batch_spans, decide, epoch_minutes, row_hashes
from ingest._build import (
    amend_events,
    batch_fields,
    new_incidents,
    quarantine_rows,
    received_batch,
)
from ingest._count import count_batch
from ingest._gc import collect_batch, paused_gc
from ingest._locate import check_scope, locate
from ingest._repeats import RunCandidates, find_repeats
from ingest._util import _echo, _problem, future_problem, label_of, out_of_range, past_problem
from ingest._writer import InlineWriter, ProcessWriter, Writer, make_writer
from ingest.context import IngestContext
from ingest.formats import FeedFormat, resolve_columns
from ingest.normalise import map_categories, normalise_phones, parse_times
from ingest.read import RawRow, RawTable
from ingest.summary import IngestSummary
from store._quarantine import clean, row_hash
from store.base import DuplicateIncident, IncidentStore, Scope, StoreError

#: Attempts at a batch whose write another writer beat.
ATTEMPTS = 3

Progress = Callable[[int, int], None]


class _Run:
    def __init__(
        self,
        table: RawTable,
        fmt: FeedFormat,
        store: IncidentStore,
        context: IngestContext | Callable[[], IngestContext],
        *,
        aliases: Mapping[str, str] | None,
        dry_run: bool,
        batch_size: int,
        progress: Progress | None,
        actor: str,
        quarantine: bool,
        keep_outcomes: bool,
        file_label: str | None,
        parallel: bool | None = None,
        spare: ProcessWriter | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.table, self.fmt, self.store = table, fmt, store
        self.scope = scope  # a push's caller: rows placed outside it are held (check_scope)
        self._context = context
        self.spare = spare
        self.cols = resolve_columns(fmt, table.header, aliases)
        self.dry_run, self.batch_size, self.progress = dry_run, max(1, batch_size), progress
        self.spans = batch_spans(len(table.rows), self.batch_size)  # (start, end) of each batch
        self.actor, self.quarantine, self.parallel = actor, quarantine, parallel
        self.file = file_label or label_of(table.path)
        self.summary = IngestSummary(self.file, fmt.name, table.encoding, dry_run)
        self.summary.above_header = [(n, _echo(t, 80)) for n, t in table.above_header]
        self.summary.unread_sheets = list(table.unread_sheets)
        if keep_outcomes:
            self.summary.outcomes = []
        self.seen: dict[str, Seen] = {}
        self.candidates = RunCandidates(store)  # what new calls may repeat (ingest._repeats)
        self._batch_rows: Sequence[RawRow] | None = None
        self._cache: dict[str, pd.Series] = {}
        self._grid: list[tuple[str, ...]] | None = None
        self._undecoded: dict[int, list[int]] = {}
        self._dry_held: set[str] = set()  # raw hashes a dry run has quarantined (see write)

    @property
    def ctx(self) -> IngestContext:
        """The town, built when first needed: a function that builds it (one waiting for the
        process building it, see ``ingest._forked``) is called then, so that the first batch
        is parsed, hashed and looked up meanwhile."""
        if not isinstance(self._context, IngestContext):
            self._context = self._context()
        return self._context

    # -- columns --
    def column(self, canonical: str) -> pd.Series:
        """The stripped text of one field for the current batch's rows (cached for the batch:
        the batch transposed once, cells by column, short rows padded with "")."""
        if canonical in self._cache:
            return self._cache[canonical]
        rows = self._batch_rows
        assert rows is not None, "column() before prepare()"
        i = self.cols.get(canonical)
        if self._grid is None:
            self._grid = list(zip_longest(*(r.values for r in rows), fillvalue=""))
            self._undecoded = {}  # column -> rows with undecodable bytes in it
            for j, r in enumerate(rows):
                for c in r.bad_encoding:
                    self._undecoded.setdefault(c, []).append(j)
        if i is None or i >= len(self._grid):
            col = pd.Series([""] * len(rows), dtype=object)
        else:
            cells = list(map(str.strip, self._grid[i]))
            # Undecodable bytes (surrogates) shown as U+FFFD: their row is quarantined
            # (bad_encoding), but the column still goes through pandas' string dtype.
            for j in self._undecoded.get(i, ()):
                cells[j] = clean(cells[j])
            col = pd.Series(cells, dtype=object)
        self._cache[canonical] = col
        return col

    def display(self, canonical: str) -> str:
        i = self.cols.get(canonical)
        return self.table.header[i] if i is not None else self.fmt.display(canonical)

    # -- run --
    def run(self) -> IngestSummary:
        t0 = time.perf_counter()
        rows = self.table.rows
        total, size = len(rows), self.batch_size
        if self.progress:
            self.progress(0, total)
        # The collector is held off for a run of several batches (ingest._gc), not for a push
        # of a few rows: pushes arriving back to back would keep it off for good.
        big = total > size
        # forked before this process opens its connection: the writer opens its own
        writer = make_writer(
            self.store, total, False if self.dry_run or not big else self.parallel,
            spare=self.spare, actor=self.actor, source=self.fmt.source,
            quarantine=self.quarantine,
        )  # fmt: skip
        try:
            # one connection for the run's batches
            with self.store.pinned(), paused_gc() if big else nullcontext():
                if isinstance(writer, InlineWriter):
                    self.in_turn(writer, 0)
                else:
                    self.overlapped(writer)
                self.finish(writer)
        finally:
            writer.close()
        self.summary.seconds = time.perf_counter() - t0
        return self.summary

    def finish(self, writer: Writer) -> None:
        """Have the writer bring the spatial index it left to the end up to date. Every row is
        stored by then: a failure is noted in the summary, not raised (the store's next opener
        catches the index up, see ``store._gpkg_rtree``)."""
        try:
            writer.finish()
        except StoreError as exc:  # WriterDied too
            self.summary.index_pending = str(exc)

    def in_turn(self, writer: Writer, first: int) -> None:
        """Each batch from row ``first`` on prepared, built, written and counted in turn."""
        rows, spans = self.table.rows, self.spans
        for k, (start, end) in enumerate(spans):
            if start >= first:
                self.in_step(start, rows[start:end], ATTEMPTS, writer)
                if len(spans) > 1:
                    collect_batch(k)

    def overlapped(self, writer: Writer) -> None:
        """Batch k written by ``writer`` while batch k+1 is prepared and built. A write refused
        because another writer stored some of its rows first is redone, with the batches after
        it, in turn (:meth:`in_turn`), its keys taken back from ``seen`` first."""
        rows, spans = self.table.rows, self.spans
        pending: tuple[Batch, dict[str, Seen | None]] | None = None
        for k, (start, end) in enumerate(spans):
            b = self.prepare(start, rows[start:end])
            if pending is not None and (pending[0].plan.amends or not pending[0].plan.received):
                if not self.settle(writer, *pending):  # an amend may move what build reads
                    return self.in_turn(writer, pending[0].start)
                pending = None
            self.build(b, inflight=pending[0] if pending else None)
            b.plan.index_after = k == len(spans) - 2  # the next batch is the last
            packed = writer.pack(b.plan)  # while batch k is still being written
            if pending is not None and not self.settle(writer, *pending):
                return self.in_turn(writer, pending[0].start)
            undo = {key: self.seen.get(key) for key in b.seen_now}
            writer.submit(packed)
            self.seen.update(b.seen_now)
            pending = (b, undo)
            collect_batch(k)
        if pending is not None and not self.settle(writer, *pending):
            self.in_turn(writer, pending[0].start)

    def settle(self, writer: Writer, b: Batch, undo: dict[str, Seen | None]) -> bool:
        """Wait for the write of ``b`` and count it; False (its keys taken back from ``seen``)
        when another writer stored some of its rows first."""
        try:
            added = writer.result()
        except DuplicateIncident:
            for key, before in undo.items():
                if before is None:
                    self.seen.pop(key, None)
                else:
                    self.seen[key] = before
            return False
        self.count(b, added)
        return True

    def in_step(self, start: int, rows: Sequence[RawRow], attempts: int, writer: Writer) -> None:
        """Prepare, build, write and count one batch."""
        for attempt in range(attempts):
            b = self.prepare(start, rows)
            self.build(b)
            try:
                added = self.write(b, writer)
            except DuplicateIncident:
                # another writer stored some of these rows between lookup and write
                if attempt == attempts - 1:
                    raise
                continue
            self.seen.update(b.seen_now)
            self.count(b, added)
            return

    # -- phases --
    def prepare(self, start: int, rows: Sequence[RawRow]) -> Batch:
        """Parse, validate, hash, look up, locate, decide; nothing that reads what the batch
        before wrote (that batch may still be being written)."""
        n = len(rows)
        self._batch_rows, self._cache, self._grid = rows, {}, None
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
                problems[i] = [_problem(code, r.error_column, zh, en)]
            elif r.bad_encoding:
                problems[i] = [self._bad_encoding(r)]
        sid = self.column("source_id")
        id_col = self.display("source_id")
        flag(
            (sid == "").to_numpy(),
            lambda i: _problem("missing_id", id_col, f"缺少{id_col}", f"{id_col} (id) is empty"),
        )
        raw_time = self.column("received_at")
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
        late, early = out_of_range(received)  # in the future, before 2000
        flag(late, lambda i: future_problem(t_col, raw_time.iloc[i]))
        flag(early, lambda i: past_problem(t_col, raw_time.iloc[i]))

        # -- hashes and what the store already holds --
        valid = np.ones(n, dtype=bool)
        valid[list(problems)] = False
        sids = sid.tolist()
        # keys this run has not met yet (not `- set(self.seen)`: that copies every key of the
        # file so far, each batch, quadratic in the file's length)
        fresh = sorted({k for i in np.flatnonzero(valid) if (k := sids[i]) not in self.seen})
        for key, found in self.store.source_keys(fmt.source, fresh).items():
            self.seen[key] = Seen(found.incident_id, found.version, set(found.content_hashes))
        seen = self.seen
        content = {c: self.column(c) for c in fmt.content if c in self.cols}
        hashes = row_hashes(fmt.source, content, sids, np.flatnonzero(valid).tolist(), seen)
        known_dup = np.array(
            [v and (c := seen.get(k)) is not None and h in c.hashes
             for v, k, h in zip(valid.tolist(), sids, hashes, strict=True)], dtype=bool,
        )  # fmt: skip

        todo = valid & ~known_dup
        phones, bad_phone = normalise_phones(self.column("caller_phone"))

        # -- locate (the first step that needs the town), normalise what will be written --
        loc = locate(rows, todo, problems, self.ctx, self.column, self.display)
        if self.scope is not None:
            check_scope(self.scope, fmt.source, todo, problems, loc)

        # -- decide: new, update or duplicate, in file order --
        minutes = epoch_minutes(received)
        decided = decide(fmt.source, sids, hashes, minutes, problems, seen)
        new_rows, amend_rows, seen_now, outcome = decided

        # -- categories --
        cat_text = self.column("category_text")
        cats = map_categories(cat_text, self.column("description"), self.ctx.taxonomy)
        return Batch(
            start, rows, problems, sids, hashes, received, loc, new_rows, amend_rows, seen_now,
            outcome, cats, phones, bad_phone, cat_text.tolist(),
        )  # fmt: skip

    def _bad_encoding(self, r: RawRow) -> dict[str, Any]:
        header = self.table.header
        col = header[r.bad_encoding[0]] if r.bad_encoding[0] < len(header) else None
        enc = self.table.encoding
        return _problem(
            "bad_encoding",
            col,
            f"{col or ''}含有无法按 {enc} 解码的字节",
            f"{col or 'a cell'} holds bytes that do not decode as {enc}",
        )

    def build(self, b: Batch, inflight: Batch | None = None) -> None:
        """Repeat links (against the store, which holds every batch before this one but the
        one ``inflight``, whose new incidents are candidates too) and the rows to write (plain
        lists: per-row Series access would dominate the run)."""
        fmt, rows = self.fmt, b.rows
        assert rows is self._batch_rows, "build() of a batch other than the one just prepared"
        new_ids = [str(b.outcome[i][1]) for i in b.new_rows]
        b.repeat, b.candidates = find_repeats(
            self.candidates, self.actor, self.ctx.repeat_policy, b.new_rows, new_ids, b.received,
            b.cats.category, b.phones, b.loc,
            also=inflight.candidates if inflight else None,
        )  # fmt: skip
        f = batch_fields(
            self.column, self.cols, b.sids, b.hashes, b.received, b.cats, b.phones, b.loc
        )
        plan = b.plan
        if self.ctx.columnar:
            plan.received = received_batch(
                f, b.new_rows, new_ids, b.repeat, source=fmt.source, file=self.file
            )
        else:
            plan.objects = new_incidents(
                f, b.new_rows, new_ids, b.repeat, source=fmt.source, actor=self.actor,
                file=self.file,
            )  # fmt: skip
        plan.amends = amend_events(f, b.amend_rows, actor=self.actor, file=self.file)
        plan.qrows = quarantine_rows(
            self.table, rows, b.problems, b.sids, source=fmt.source, file=self.file
        )

    def write(self, b: Batch, writer: Writer) -> int:
        """Write the batch; how many rows the quarantine did not hold yet (a dry run: would
        not, by their raw hashes, as :meth:`~store.quarantine.QuarantineStore.quarantine_add`
        tells them)."""
        if self.dry_run:
            if not (self.quarantine and b.plan.qrows):
                return 0
            hashes = {row_hash(q) for q in b.plan.qrows}
            new = hashes - self._dry_held - self.store.quarantine_held(self.fmt.source, hashes)
            self._dry_held |= hashes
            return len(new)
        writer.submit(writer.pack(b.plan))
        return writer.result()

    def count(self, b: Batch, added: int) -> None:
        """Count the batch (only once written: a failed write leaves the summary untouched)."""
        count_batch(
            self.summary, b.rows, b.problems, b.outcome, b.loc, b.bad_phone, b.cats, b.cat_text,
            fallback=self.ctx.taxonomy.fallback, repeats_linked=len(b.repeat),
            quarantine_added=added,
        )  # fmt: skip
        self.summary.batches += 1
        amends = [e for e, _ in b.plan.amends]
        if self.dry_run:  # nothing of the batch is in the store to be read again
            self.candidates.amended_unwritten(b.candidates, amends)
        else:
            self.candidates.stored(b.candidates, [e.incident_id for e in amends])
        if self.progress:
            total = len(self.table.rows)
            self.progress(min(b.start + len(b.rows), total), total)
