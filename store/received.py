"""New incidents that arrive with nothing but their ``receive`` event (an import), as columns.

The ingest fast path: :meth:`~store.base.IncidentStore.add_received` stores such a batch without
an :class:`~incidents.model.Incident`, an :class:`~incidents.model.Event` and a lifecycle fold
per row. Folding a lone ``receive`` event gives a known status (state ``received``, version 1,
the incident's own fields, ``repeat_of`` and ``related`` from the event's link), so the rows are
built straight from the columns. The columns every such incident shares are taken from a real
fold of a template incident, so they cannot drift from the lifecycle; :meth:`ReceivedBatch.
objects` gives the same batch as objects for ``add_incidents``, and the conformance suite checks
that both store the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd

from incidents.lifecycle import InvalidEvent, fold
from incidents.model import Event, Incident, Party
from layers.incidents_layer import CATEGORIES
from store import _codec as codec
from store.base import DuplicateIncident

#: Incident columns that differ from row to row (the rest are the same for every new incident).
VARYING = (
    "id", "source", "source_id", "received_at", "category", "category_zh", "subcategory",
    "description", "address", "geocode_level", "grid_code", "village_code", "beat_code",
    "station_code", "caller_name", "caller_phone", "repeat_of", "deadline", "last_event_at",
    "related", "geocode_confidence", "parties", "intake",
)  # fmt: skip


def _constants() -> dict[str, Any]:
    """The columns every incident stored with only its receive event has, from a real fold."""
    t = datetime(2000, 1, 1, tzinfo=UTC)
    inc = Incident("X", "110", "x", t, "other")
    values = codec.row_values(inc, fold([Event("X", 1, "receive", t, "x")], inc))
    return {n: v for n, v in zip(codec.NAMES, values, strict=True) if n not in VARYING}


#: Column -> value shared by every row (state ``received``, version 1, no team, …).
CONSTANT: dict[str, Any] = _constants()


def _intake(link: str | None) -> str:
    """The ``intake`` column of an incident stored with only its receive event (with or
    without a repeat link), from a real fold, as :data:`CONSTANT`."""
    t = datetime(2000, 1, 1, tzinfo=UTC)
    inc = Incident("X", "110", "x", t, "other")
    data = {"repeat_of": link} if link else {}
    return codec.intake_json(inc, fold([Event("X", 1, "receive", t, "x", data=data)], inc))


#: ``intake`` of a new incident without a repeat link, and with one (``related`` was empty).
UNLINKED_INTAKE, LINKED_INTAKE = _intake(None), _intake("Y")


@dataclass(frozen=True)
class ReceivedBatch:
    """New incidents of one source, each with just its ``receive`` event, as columns.

    Strings are plain lists (``None`` where absent); ``received_at`` and ``deadline`` are aware
    times (``NaT``: no deadline); ``lon``, ``lat`` and ``geocode_confidence`` are floats. The
    caller (``caller_name``, ``caller_phone``) becomes the incident's one party when either is
    given. ``data`` is each receive event's data; a ``repeat_of`` link must be in both
    ``repeat_of`` and ``data``.
    """

    source: str
    id: Sequence[str]
    source_id: Sequence[str]
    received_at: pd.DatetimeIndex
    category: Sequence[str]
    subcategory: Sequence[str | None]
    description: Sequence[str]
    address: Sequence[str]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    geocode_level: Sequence[str | None]
    geocode_confidence: npt.NDArray[np.float64]
    grid_code: Sequence[str | None]
    village_code: Sequence[str | None]
    beat_code: Sequence[str | None]
    station_code: Sequence[str | None]
    caller_name: Sequence[str | None]
    caller_phone: Sequence[str | None]
    deadline: pd.DatetimeIndex
    repeat_of: Sequence[str | None]
    data: Sequence[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.id)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (to an ingest run's writer process) with the events' data as the JSON text
        the store writes: a dict a row cost ~4× as much to pickle and unpickle as its JSON."""
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "data"}
        return (_from_wire, (state, data_json(self)))

    def check(self) -> None:
        """Refuse what the fold or the store would refuse.

        Raises
        ------
        DuplicateIncident
            An id or a source id appears twice.
        InvalidEvent
            A time without a zone, or an incident that repeats itself.
        """
        if len(set(self.id)) < len(self) or len(set(self.source_id)) < len(self):
            raise DuplicateIncident(
                "批次中重复的事项 / an incident id or source id appears twice in the batch"
            )
        if len(self) and self.received_at.tz is None:
            raise InvalidEvent(None, "事件时间须带时区", "event time must be timezone-aware")
        for i, other in zip(self.id, self.repeat_of, strict=True):
            if other is not None and (not isinstance(other, str) or other == i):
                raise InvalidEvent(None, "关联事项无效", f"cannot link to {other!r}")

    def incidents(self) -> list[Incident]:
        """The batch as :class:`Incident` objects."""
        t = self.received_at.to_pydatetime()
        due = [None if pd.isna(d) else d.to_pydatetime() for d in self.deadline]
        return [
            Incident(
                id=self.id[i],
                source=self.source,  # type: ignore[arg-type]
                source_id=self.source_id[i],
                received_at=t[i],
                category=self.category[i],
                subcategory=self.subcategory[i],
                description=self.description[i],
                address=self.address[i],
                lon=float(self.lon[i]),
                lat=float(self.lat[i]),
                geocode_level=self.geocode_level[i],
                geocode_confidence=float(self.geocode_confidence[i]),
                grid_code=self.grid_code[i],
                village_code=self.village_code[i],
                beat_code=self.beat_code[i],
                station_code=self.station_code[i],
                parties=_parties(self.caller_name[i], self.caller_phone[i]),
                deadline=due[i],
            )
            for i in range(len(self))
        ]

    def objects(self, actor: str) -> tuple[list[Incident], list[Event]]:
        """The batch as incidents and receive events, as ``add_incidents`` takes them."""
        incs = self.incidents()
        events = [
            Event(inc.id, 1, "receive", inc.received_at, actor, data=dict(d))
            for inc, d in zip(incs, self.data, strict=True)
        ]
        return incs, events


class _WireData(Sequence[dict[str, Any]]):
    """The events' data of an unpickled batch: JSON text, decoded only if asked for."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [codec.from_json(t) for t in self.texts[i]]
        return codec.from_json(self.texts[i])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (codec.from_json(t) for t in self.texts)


def _from_wire(state: dict[str, Any], texts: list[str]) -> ReceivedBatch:
    return ReceivedBatch(**state, data=_WireData(texts))


def data_json(batch: ReceivedBatch) -> list[str]:
    """Each receive event's data as the JSON text the store writes."""
    if isinstance(batch.data, _WireData):
        return batch.data.texts
    return [codec.to_json(d) for d in batch.data]


def _parties(name: str | None, phone: str | None) -> tuple[Party, ...]:
    if name or phone:
        return (Party(name=name or None, phone=phone, role="caller"),)
    return ()


def ms_text(times: pd.DatetimeIndex) -> list[str | None]:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, truncated to the ms) per time; ``None`` for NaT."""
    if times.tz is not None:
        times = times.tz_convert(UTC).tz_localize(None)
    ms = times.to_numpy("datetime64[ms]")
    text = np.datetime_as_string(ms, unit="ms").tolist()
    return [None if s == "NaT" else s + "Z" for s in text]


def _floats(values: npt.NDArray[np.float64]) -> list[float | None]:
    return [None if v != v else v for v in np.asarray(values, dtype=float).tolist()]


@dataclass(frozen=True)
class ReceivedRows:
    """What a backend writes for a :class:`ReceivedBatch`: incident rows in :data:`VARYING`
    order (times as text), the points, receive events ``(incident_id, at, actor, data)`` and
    audit lines ``(actor, 'add', incident_id, detail)``."""

    incidents: list[tuple[Any, ...]]
    lon: list[float | None]
    lat: list[float | None]
    events: list[tuple[str, str | None, str, str]]
    audit: list[tuple[str, str, str, str]]


def received_rows(batch: ReceivedBatch, actor: str) -> ReceivedRows:
    """The rows of ``batch`` (checked first, see :meth:`ReceivedBatch.check`)."""
    batch.check()
    n = len(batch)
    at = ms_text(batch.received_at)
    due_text = ms_text(batch.deadline)
    lon, lat, conf = _floats(batch.lon), _floats(batch.lat), _floats(batch.geocode_confidence)
    dumps = orjson.dumps
    related = ["[]" if r is None else dumps([r]).decode() for r in batch.repeat_of]
    # dict(vars(Party(...))) of the caller, key for key, as add_incidents writes it
    parties = [
        dumps(
            [{"name": name or None, "phone": phone, "id_number": None, "residency": "unknown",
              "role": "caller"}]
        ).decode() if name or phone else "[]"
        for name, phone in zip(batch.caller_name, batch.caller_phone, strict=True)
    ]  # fmt: skip
    intake = [UNLINKED_INTAKE if r is None else LINKED_INTAKE for r in batch.repeat_of]
    source = batch.source
    rows = list(
        zip(
            batch.id, [source] * n, batch.source_id, at, batch.category,
            [CATEGORIES.get(c or "", c) for c in batch.category], batch.subcategory,
            batch.description, batch.address, batch.geocode_level, batch.grid_code,
            batch.village_code, batch.beat_code, batch.station_code,
            [name or None for name in batch.caller_name], batch.caller_phone, batch.repeat_of,
            due_text, at, related, conf, parties, intake,
            strict=True,
        )
    )  # fmt: skip
    events = [(i, t, actor, d) for i, t, d in zip(batch.id, at, data_json(batch), strict=True)]
    audit = [
        (actor, "add", i, dumps({"source": source, "source_id": s, "events": 1}).decode())
        for i, s in zip(batch.id, batch.source_id, strict=True)
    ]
    return ReceivedRows(rows, lon, lat, events, audit)
