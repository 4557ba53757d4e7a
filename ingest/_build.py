"""What a batch of the ingest pipeline writes: new incidents with their ``receive`` events,
``amend`` events for changed re-deliveries and quarantine rows, built from the batch's fields."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from incidents.model import Event, Incident, Party
from ingest._util import _finite
from ingest.normalise import Categories, parse_times
from ingest.read import RawRow, RawTable
from store.base import QuarantineRow
from store.received import ReceivedBatch

#: Fields kept in the events' data as given, when the format has them.
_EXTRAS = ("transferred_at", "unit", "request_type", "officer_id", "photos")
_CODES = ("grid_code", "village_code", "beat_code", "station_code", "level")


@dataclass
class Fields:
    """One batch as plain per-row lists (per-row Series access would dominate the run)."""

    source_id: list[str]
    content_hash: list[str]
    #: Receive times (UTC; NaT on rows that are quarantined, never built).
    received_at: pd.DatetimeIndex
    category: list[str]
    subcategory: list[str | None]
    description: list[str]
    address: list[str]
    caller_name: list[str]
    caller_phone: list[str | None]
    deadline_at: pd.DatetimeIndex
    deadline_raw: list[str]
    extras: dict[str, list[str]]
    #: ``grid_code``, ``village_code``, ``beat_code``, ``station_code`` and ``level``.
    codes: dict[str, list[Any]]
    lon: list[float]
    lat: list[float]
    confidence: list[float]
    #: The location step's output (notes, coordinate system converted from, placement flag).
    loc: dict[str, Any] = field(repr=False)

    @cached_property
    def received(self) -> list[datetime]:
        """Receive times as datetimes."""
        return [t.to_pydatetime() for t in self.received_at]

    @cached_property
    def deadline(self) -> list[datetime | None]:
        """Deadlines as datetimes (``None``: none given)."""
        return [None if pd.isna(t) else t.to_pydatetime() for t in self.deadline_at]


def batch_fields(
    column: Callable[[str], pd.Series],
    present: Container[str],
    source_ids: list[str],
    content_hashes: list[str],
    received: pd.Series,
    categories: Categories,
    phones: pd.Series,
    loc: dict[str, Any],
) -> Fields:
    """The fields of one batch as plain lists.

    Parameters
    ----------
    column : the stripped text of a field (canonical name) for the batch's rows
    present : the canonical fields the file has
    source_ids, content_hashes : per row
    received : the parsed receive times (rows where it is NaT are quarantined, never built)
    categories : the mapped categories
    phones : the normalised caller phones
    loc : the location step's output

    Returns
    -------
    Fields
    """
    deadline_raw = column("deadline").tolist()
    deadline = pd.DatetimeIndex(parse_times(pd.Series(deadline_raw, dtype=object)))
    return Fields(
        source_id=source_ids,
        content_hash=content_hashes,
        received_at=pd.DatetimeIndex(received),
        category=categories.category,
        subcategory=categories.subcategory,
        description=column("description").tolist(),
        address=column("address").tolist(),
        caller_name=column("caller_name").tolist(),
        caller_phone=phones.tolist(),
        deadline_at=deadline,
        deadline_raw=deadline_raw,
        extras={c: column(c).tolist() for c in _EXTRAS if c in present},
        codes={k: loc[k].tolist() for k in _CODES},
        lon=loc["lon"].tolist(),
        lat=loc["lat"].tolist(),
        confidence=loc["confidence"].tolist(),
        loc=loc,
    )


def new_incidents(
    f: Fields,
    new_rows: Sequence[int],
    new_ids: Sequence[str],
    repeat: Mapping[int, str],
    *,
    source: str,
    actor: str,
    file: str,
) -> tuple[list[Incident], list[Event]]:
    """The new incidents and their ``receive`` events.

    Parameters
    ----------
    f : the batch's fields
    new_rows, new_ids : the rows that become new incidents, and their ids
    repeat : row -> id of the incident it repeats
    source : the feed's source (``110``, ``12345``, ``patrol``)
    actor : who receives them
    file : the file name noted in the events

    Returns
    -------
    incidents, events : in the order of ``new_rows``
    """
    incidents: list[Incident] = []
    events: list[Event] = []
    codes = f.codes
    for i, inc_id in zip(new_rows, new_ids, strict=True):
        inc = Incident(
            id=inc_id,
            source=source,  # type: ignore[arg-type]
            source_id=f.source_id[i],
            received_at=f.received[i],
            category=f.category[i],
            subcategory=f.subcategory[i],
            description=f.description[i],
            address=f.address[i],
            lon=f.lon[i],
            lat=f.lat[i],
            geocode_level=codes["level"][i],
            geocode_confidence=f.confidence[i],
            grid_code=codes["grid_code"][i],
            village_code=codes["village_code"][i],
            beat_code=codes["beat_code"][i],
            station_code=codes["station_code"][i],
            parties=_parties(f.caller_name[i], f.caller_phone[i]),
            deadline=f.deadline[i],
        )
        data = _event_data(f, i, file)
        if repeat.get(i):
            data["repeat_of"] = repeat[i]
        incidents.append(inc)
        events.append(Event(inc.id, 1, "receive", inc.received_at, actor, data=data))
    return incidents, events


def received_batch(
    f: Fields,
    new_rows: Sequence[int],
    new_ids: Sequence[str],
    repeat: Mapping[int, str],
    *,
    source: str,
    file: str,
) -> ReceivedBatch:
    """The new incidents as columns for the store's fast write; the same content as
    :func:`new_incidents` (parameters as there)."""
    rows = np.asarray(new_rows, dtype=np.intp)
    codes = f.codes

    def pick(values: Sequence[Any]) -> list[Any]:
        return [values[i] for i in new_rows]

    data = _events_data(f, new_rows, file)
    links: list[str | None] = [repeat.get(i) or None for i in new_rows]
    for d, link in zip(data, links, strict=True):
        if link:
            d["repeat_of"] = link
    return ReceivedBatch(
        source=source,
        id=list(new_ids),
        source_id=pick(f.source_id),
        received_at=f.received_at[rows],
        category=pick(f.category),
        subcategory=pick(f.subcategory),
        description=pick(f.description),
        address=pick(f.address),
        lon=np.asarray(f.lon, dtype=float)[rows],
        lat=np.asarray(f.lat, dtype=float)[rows],
        geocode_level=pick(codes["level"]),
        geocode_confidence=np.asarray(f.confidence, dtype=float)[rows],
        grid_code=pick(codes["grid_code"]),
        village_code=pick(codes["village_code"]),
        beat_code=pick(codes["beat_code"]),
        station_code=pick(codes["station_code"]),
        caller_name=pick(f.caller_name),
        caller_phone=pick(f.caller_phone),
        deadline=f.deadline_at[rows],
        repeat_of=links,
        data=data,
    )


def amend_events(
    f: Fields, amend_rows: Sequence[tuple[int, str, int]], *, actor: str, file: str
) -> list[tuple[Event, str]]:
    """The ``amend`` events of changed re-deliveries.

    Parameters
    ----------
    f : the batch's fields
    amend_rows : (row, incident id, version the amend is based on)
    actor : who amends
    file : the file name noted in the events

    Returns
    -------
    list of (event, source id)
    """
    amends = []
    codes = f.codes
    now = datetime.now(UTC)
    for i, inc_id, version in amend_rows:
        data = _event_data(f, i, file)
        data.update(
            category=f.category[i],
            subcategory=f.subcategory[i],
            description=f.description[i],
            address=f.address[i],
            grid_code=codes["grid_code"][i],
            village_code=codes["village_code"][i],
            beat_code=codes["beat_code"][i],
            station_code=codes["station_code"][i],
            lon=_finite(f.lon[i]),
            lat=_finite(f.lat[i]),
            geocode_level=codes["level"][i],
            geocode_confidence=_finite(f.confidence[i]),
        )
        due = f.deadline[i]
        if due is not None:
            data["deadline"] = due.isoformat()
        # As re-delivered: the incident keeps the time it was first received and its parties,
        # but what the source now says of them is kept with the change (masked for roles
        # without personal data, incidents.masking.EVENT_DATA_KEYS).
        data["reported_at"] = f.received[i].isoformat()
        if f.caller_name[i] or f.caller_phone[i]:
            data["caller"] = {"name": f.caller_name[i] or None, "phone": f.caller_phone[i]}
        at = max(now, f.received[i])
        reason = "重新推送的内容有变化 / re-delivered with changes"
        amends.append(
            (Event(inc_id, version + 1, "amend", at, actor, reason, data=data), f.source_id[i])
        )
    return amends


def quarantine_rows(
    table: RawTable,
    rows: Sequence[RawRow],
    problems: Mapping[int, list[dict[str, Any]]],
    source_ids: Sequence[str],
    *,
    source: str,
    file: str,
) -> list[QuarantineRow]:
    """The quarantine entries of the rows with problems, in file order.

    Parameters
    ----------
    table : the table the rows are from (for their raw text)
    rows : the batch
    problems : row -> its problems
    source_ids : per row
    source : the feed's source
    file : the file name noted in the entries

    Returns
    -------
    list of QuarantineRow
    """
    return [
        QuarantineRow(
            source=source,
            file=file,
            line=rows[i].line,
            raw=table.raw_dict(rows[i]),
            problems=tuple(ps),
            source_id=source_ids[i] or None,
        )
        for i, ps in sorted(problems.items())
    ]


def _parties(name: str, phone: str | None) -> tuple[Party, ...]:
    if name or phone:
        return (Party(name=name or None, phone=phone, role="caller"),)
    return ()


def _events_data(f: Fields, rows: Sequence[int], file: str) -> list[dict[str, Any]]:
    """:func:`_event_data` of many rows, a field at a time (the same keys in the same order)."""
    loc = f.loc
    data: list[dict[str, Any]] = [{"content_hash": f.content_hash[i], "file": file} for i in rows]
    optional = [
        *f.extras.items(),
        ("deadline_text", f.deadline_raw),
        ("notes", [list(n) if n else None for n in loc["notes"]]),
        ("converted_from", loc["converted"].tolist()),
        ("needs_placement", [True if p else None for p in loc["needs_placement"].tolist()]),
    ]
    for name, col in optional:
        for d, i in zip(data, rows, strict=True):
            if col[i]:
                d[name] = col[i]
    return data


def _event_data(f: Fields, i: int, file: str) -> dict[str, Any]:
    loc = f.loc
    data: dict[str, Any] = {"content_hash": f.content_hash[i], "file": file}
    for name, col in f.extras.items():
        if col[i]:
            data[name] = col[i]
    if f.deadline_raw[i]:
        data["deadline_text"] = f.deadline_raw[i]
    if loc["notes"][i]:
        data["notes"] = list(loc["notes"][i])
    if loc["converted"][i]:
        data["converted_from"] = loc["converted"][i]
    if loc["needs_placement"][i]:
        data["needs_placement"] = True
    return data
