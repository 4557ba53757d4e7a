"""The repeat-call step of the ingest pipeline: link new incidents to the recent incident they
repeat, in the store or earlier in the same batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from incidents._updates import GIVEN_POINT
from incidents.masking import phone_key
from incidents.model import Event
from incidents.repeat import RepeatPolicy, ids_at, phone_keys, reach, repeated_rows
from store._common import CANDIDATE_COLUMNS, candidates_frame
from store.base import IncidentQuery, IncidentStore, Scope

#: Who reads the amended incidents again (masked: phones are compared masked).
_INGEST = Scope.everything("ingest")

#: Candidates a batch is first linked against (the most recent; at least the batch's size).
RECENT = 5_000

#: ``until`` of the one read of a run's candidates: every incident stored before the run.
_EVER = datetime(9000, 1, 1, tzinfo=UTC)


class RunCandidates:
    """The incidents a run's new calls may repeat: those the store held when the run began,
    read once, and those the run itself has stored since, kept in memory.

    A candidate may have been received any time before (a matter still open), so reading the
    store's candidates again for every batch re-read every incident the run had stored so far:
    a 100,000-row file (all of it open: an import brings receive events only) read ~450,000
    rows for its ten batches. The store is read again only for a batch reaching further back
    than the first (a file not in time order), for the incidents closed in between. Incidents
    another process stores during the run are not candidates of its calls.
    """

    def __init__(self, store: IncidentStore) -> None:
        self.store = store
        self._before: pd.DataFrame | None = None  # the store's, when the run began
        self._since: datetime | None = None  # closed on or after this: in _before
        self._mine: list[pd.DataFrame] = []  # the run's own, batch by batch
        self._levels: dict[str, str | None] = {}  # geocode levels, see amended_unwritten

    def parts(
        self, since: datetime, until: datetime, also: pd.DataFrame | None
    ) -> list[pd.DataFrame]:
        """Candidates received before ``until``, open or closed on or after ``since``
        (``also``: those of the batch being written), in parts each by received time then id."""
        if self._before is None or (self._since is not None and since < self._since):
            # put in order here too: each part is cut by time with a binary search
            before = _ordered([_keyed(self.store.repeat_candidates(since, _EVER))])
            if self._mine:  # the run's own are in memory
                before = before[~before["id"].isin(pd.concat(self._mine)["id"])]
            self._before, self._since = before, since
        end = np.datetime64(pd.Timestamp(until).tz_convert("UTC").tz_localize(None), "ns")
        parts = [f for f in (self._before, *self._mine, also) if f is not None and len(f)]
        return [f.iloc[: np.searchsorted(_times(f), end)] for f in parts]

    def get(self, since: datetime, until: datetime, also: pd.DataFrame | None) -> pd.DataFrame:
        """:meth:`parts` as one frame, by received time then id."""
        parts = self.parts(since, until, also)
        return _ordered(parts) if parts else self._before.iloc[:0]  # type: ignore[union-attr]

    def stored(self, candidates: pd.DataFrame | None, amended: Sequence[str] = ()) -> None:
        """A batch's new incidents (as :func:`find_repeats` gave them) are in the store now,
        and the incidents ``amended`` by it (their place or category may have changed: they
        are read again from the store)."""
        if candidates is not None and len(candidates):
            self._mine.append(_ordered([_keyed(candidates)]))
        if amended:
            ids = sorted(set(amended))
            if self._before is not None:
                self._before = self._before[~self._before["id"].isin(ids)]
            self._mine = [f[~f["id"].isin(ids)] for f in self._mine]
            self._mine.append(_candidates_of(self.store, ids))

    def amended_unwritten(self, candidates: pd.DataFrame | None, amends: Sequence[Event]) -> None:
        """:meth:`stored` for a dry run, where neither the batch nor its ``amends`` are in the
        store: the amended incidents (read again there, and not found when new in the run) are
        patched in memory as the store would hold them — category and point from each amend,
        the point kept when placed by hand and the amend brings a geocode only (as
        ``incidents._updates._set_place``), the rest as before."""
        self.stored(candidates)
        if not amends:
            return
        ids = sorted({e.incident_id for e in amends})
        held = [f[f["id"].isin(ids)] for f in (self._before, *self._mine) if f is not None]
        have = pd.concat(held, ignore_index=True) if held else None
        known = set() if have is None else set(have["id"])
        missing = [i for i in ids if i not in known]
        parts = [f for f in (have, _candidates_of(self.store, missing) if missing else None)
                 if f is not None and len(f)]  # fmt: skip
        if not parts:
            return
        base = pd.concat(parts, ignore_index=True)
        new_levels = [i for i in ids if i not in self._levels]
        if new_levels:  # as stored (none for the run's own)
            found = self.store.query_incidents(
                IncidentQuery(ids=tuple(new_levels), columns=("geocode_level",)), _INGEST
            )
            self._levels.update(zip(found["id"], found["geocode_level"], strict=True))
        at = {v: k for k, v in enumerate(base["id"])}
        for e in amends:
            if e.incident_id not in at:
                continue
            j, data, was = at[e.incident_id], e.data, self._levels.get(e.incident_id)
            base.loc[j, "category"] = data.get("category", base.loc[j, "category"])
            level = data.get("geocode_level", was)
            if data.get("lon") is not None and not (was == "manual" and level not in GIVEN_POINT):
                base.loc[j, ["lon", "lat"]] = [data["lon"], data["lat"]]
                self._levels[e.incident_id] = level
        self._before = None if self._before is None else self._before[~self._before["id"].isin(ids)]
        self._mine = [f[~f["id"].isin(ids)] for f in self._mine]
        self._mine.append(_ordered([base]))


def _candidates_of(store: IncidentStore, ids: list[str]) -> pd.DataFrame:
    """The incidents ``ids`` as :meth:`~store.base.IncidentStore.repeat_candidates` gives them."""
    columns = ("received_at", "category", "caller_phone", "closed_at", "state")
    found = store.query_incidents(IncidentQuery(ids=tuple(ids), columns=columns), _INGEST)
    rows = zip(
        found["id"], found["received_at"], found["category"], found.geometry.x,
        found.geometry.y, found["caller_phone"], found["closed_at"], found["state"],
        strict=True,
    )  # fmt: skip
    return _ordered([_keyed(candidates_frame(list(rows)))])


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    """Candidates with the ``phone_key`` repeat linking compares in place of their (masked)
    ``caller_phone``: worked out once per candidate, not once per batch that reads it."""
    if "phone_key" in frame:
        return frame
    return frame.assign(phone_key=phone_keys(frame["caller_phone"])).drop(columns="caller_phone")


def _phone_keys(phones: Sequence[str | None]) -> np.ndarray:
    """:func:`~incidents.masking.phone_key` of each phone ("" for None)."""
    return np.array([phone_key(p) if p else "" for p in phones], dtype=object)


def _times(frame: pd.DataFrame) -> np.ndarray:
    """A candidates frame's receive times as UTC datetime64[ns]."""
    return frame["received_at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")


def _ordered(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Parts of candidates as one frame in the store's order: received time, then id (ties
    between equal times are broken by it). By time with numpy, then by id within the few runs
    of equal times only: pandas' sort on the (time, id) pair sorts the id strings of every row
    (~50 ms for 100,000 rows, against ~1 ms)."""
    both = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    t = _times(both).view(np.int64)
    order = np.argsort(t, kind="stable")
    ts = t[order]
    tie = np.flatnonzero(ts[1:] == ts[:-1])
    if tie.size:
        runs = np.union1d(tie, tie + 1)  # positions (in time order) in a run of equal times
        ids = both["id"].to_numpy(object)[order[runs]]
        by_id = sorted(range(runs.size), key=lambda j: (ts[runs[j]], ids[j]))
        order[runs] = order[runs][by_id]
    return both.iloc[order].reset_index(drop=True)


def find_repeats(
    source: RunCandidates,
    actor: str,
    policy: RepeatPolicy,
    new_rows: list[int],
    new_ids: list[str],
    received: pd.Series,
    categories: list[str],
    phones: pd.Series,
    loc: dict[str, Any],
    also: pd.DataFrame | None = None,
    recent: int = RECENT,
) -> tuple[dict[int, str], pd.DataFrame | None]:
    """Row -> id of the incident it repeats, for the new rows (against the store's open and
    recently closed incidents, and each other).

    Parameters
    ----------
    source : the incidents the new ones may repeat: those open (however long ago they were
        received) or closed at most ``policy.days`` days before a new row
    actor : who reads them (unused: the read is not scoped)
    policy : the repeat-call window, radius and matching rules
    new_rows : the batch rows that become new incidents
    new_ids : their incident ids, in the same order
    received : the receive time of every row of the batch
    categories : the category of every row of the batch
    phones : the normalised caller phone of every row of the batch
    loc : the location step's output for the batch (``lon``, ``lat``)
    also : candidates not in the store yet (those this function returned for the batch being
        written: new, so open), taken as the store would give them
    recent : how many of the most recent candidates the batch is linked against first (at
        least the batch's own size; see :func:`_staged`)

    Returns
    -------
    dict
        Batch row -> id of the incident it repeats, for the new rows that repeat one.
    DataFrame or None
        The new incidents as :meth:`~store.base.IncidentStore.repeat_candidates` will give them
        once stored (times to the millisecond, state ``received``), with the ``phone_key`` of
        the masked phone in place of ``caller_phone`` (see :func:`_keyed`).

    Notes
    -----
    Phones are compared masked (138****5678) on both sides: the store hands out masked phones
    (reading them in full would audit every row read), and a collision of 3+4 digits within
    the radius and the window is negligible.
    """
    if not new_rows:
        return {}, None
    t = received.iloc[new_rows]
    plist = phones.tolist()
    # closed on or after `since` (a day to spare), or still open: a candidate of some new row
    since = (t.min() - timedelta(days=policy.days + 1)).to_pydatetime()
    until = (t.max() + timedelta(seconds=1)).to_pydatetime()
    new = pd.DataFrame(
        {
            "id": new_ids,
            "received_at": t.reset_index(drop=True),  # stays datetime64 (to_numpy: objects)
            "category": [categories[i] for i in new_rows],
            "lon": loc["lon"][new_rows],
            "lat": loc["lat"][new_rows],
            "phone_key": _phone_keys([plist[i] for i in new_rows]),
        }
    )
    new["received_at"] = pd.to_datetime(new["received_at"], utc=True)
    parts = source.parts(since, until, also)
    linked = _staged(parts, new, policy, max(recent, len(new)))
    # A candidate under a new row's own id is that row, stored by another writer since the
    # lookup: no repeat of itself. The write then finds it stored and the batch is redone.
    links = {
        i: str(v)
        for i, v, own in zip(new_rows, linked, new_ids, strict=True)
        if v is not None and v != own
    }
    never = pd.Series(pd.NaT, index=new.index, dtype="datetime64[ns, UTC]")
    stored = new.assign(received_at=new["received_at"].dt.floor("ms"), closed_at=never)
    columns = [c if c != "caller_phone" else "phone_key" for c in CANDIDATE_COLUMNS]
    return links, _ordered([stored.assign(state="received")[columns]])


def _staged(
    parts: list[pd.DataFrame], new: pd.DataFrame, policy: RepeatPolicy, recent: int
) -> np.ndarray:
    """Per new row, the id of the incident it repeats or None: as
    :func:`~incidents.repeat.link_repeats` of all ``parts`` and ``new`` gives it, in two steps
    that read far fewer rows.

    Hand-written staging: linking against every candidate of a run costs each batch in
    proportion to the run so far (all of it open), quadratic over a file. First the ``recent``
    most recent candidates only: a row linked to one received at or after the oldest of those
    has its winner (every candidate left out is older, and the most recent valid one wins).
    The rest (not linked, or linked to an older new row) are linked again against the
    candidates within reach of them (:func:`incidents.repeat.reach`): the same links."""
    times = [_times(f) for f in parts]
    total = sum(len(ts) for ts in times)
    if total <= recent:
        rows, both = _link(parts, new, policy, None)
        return ids_at(both, rows)
    cut = np.partition(np.concatenate(times), total - recent)[total - recent]
    starts = [int(np.searchsorted(ts, cut)) for ts in times]
    rows, both = _link([f.iloc[i:] for f, i in zip(parts, starts, strict=True)], new, policy, None)
    # final: linked to a candidate received at or after the cut
    final = rows >= 0
    final[final] = _times(both)[rows[final]] >= cut
    linked = ids_at(both, rows)
    if final.all():
        return linked
    ask = new[~final]
    every = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    near = every[reach(every, ask, policy)]
    # the new rows within reach of those asking (and these): the rest can win no link of theirs
    mine = reach(new, ask, policy) | ~final
    rows, frame = _link([near] if len(near) else [], new[mine], policy, ~final[mine])
    again = ids_at(frame, rows)
    linked[~final] = again[~final[mine]]
    return linked


def _link(
    parts: list[pd.DataFrame], new: pd.DataFrame, policy: RepeatPolicy, only: np.ndarray | None
) -> tuple[np.ndarray, pd.DataFrame]:
    """:func:`~incidents.repeat.repeated_rows` of the rows ``only`` of ``new`` (all when None)
    against ``parts`` (in order) and each other: per new row the position of the row it
    repeats in the frame linked (-1: none), and that frame."""
    existing = _ordered(parts) if parts else None
    both = pd.concat([existing, new], ignore_index=True) if existing is not None else new
    k = len(both) - len(new)
    mask = np.zeros(len(both), dtype=bool)
    mask[k:] = True if only is None else only
    return repeated_rows(both, policy, only=mask)[k:], both
