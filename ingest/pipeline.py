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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.coords import REASON_CODES, coordinate_reasons, reason_text
from geo.geocode import Geocoder
from geo.trinity import REASON_TEXTS, TRINITY_REASONS, TrinityIndex
from incidents.masking import mask_phone, mask_text
from incidents.model import Event, Incident, Party
from incidents.repeat import RepeatPolicy, link_repeats
from incidents.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from ingest.formats import FeedFormat, get_format, resolve_columns
from ingest.normalise import (
    crs_codes,
    map_categories,
    normalise_phones,
    numbers,
    parse_times,
    to_wgs84_by_crs,
)
from ingest.read import RawRow, RawTable, read_table
from store.base import (
    DuplicateIncident,
    IncidentQuery,
    IncidentStore,
    QuarantineRow,
    Scope,
    StaleVersion,
)

DEFAULT_BATCH = 10_000
ACTOR = "ingest"
_SWAPPED = REASON_CODES.index("swapped")
#: Trinity reasons of a point that is in the town but lacks a code (still stored, noted).
_IN_TOWN = {f"{zh} / {en}" for k, (zh, en) in TRINITY_REASONS.items() if k != "outside_town"}

Progress = Callable[[int, int], None]


# --- context --------------------------------------------------------------------------------


@dataclass
class IngestContext:
    """What the pipeline needs of the town: geocoder, trinity index, taxonomy, repeat policy."""

    geocoder: Geocoder
    trinity: TrinityIndex
    taxonomy: Taxonomy = DEFAULT_TAXONOMY
    repeat_policy: RepeatPolicy = field(default_factory=RepeatPolicy)
    #: Coordinate system of coordinates given without a 坐标系 column.
    default_crs: str = "wgs84"

    @classmethod
    def from_frames(cls, frames: Mapping[str, Any], **kw: Any) -> IngestContext:
        """From the town's layers (``gazetteer``, ``grid_cells``, ``police_beats``,
        ``fire_stations``, optional ``fire_station_coverage`` and ``town``)."""
        geocoder = Geocoder(frames["gazetteer"], frames["grid_cells"])
        trinity = TrinityIndex.from_layers(
            frames["grid_cells"],
            frames["police_beats"],
            frames["fire_stations"],
            frames.get("fire_station_coverage"),
            frames.get("town"),
        )
        return cls(geocoder, trinity, **kw)

    @classmethod
    def from_store(cls, store: IncidentStore, **kw: Any) -> IngestContext:
        """From the layers held by ``store`` (as ``ember demo`` or ``ember layers import``
        wrote them)."""
        names = set(store.layer_names())
        frames: dict[str, Any] = {}
        for name in ("gazetteer", "grid_cells", "police_beats", "fire_stations"):
            frames[name] = store.read_layer(name)
        for name in ("fire_station_coverage", "town"):
            frames[name] = store.read_layer(name) if name in names else None
        return cls.from_frames(frames, **kw)


# --- results --------------------------------------------------------------------------------


@dataclass
class RowOutcome:
    """What became of one row (kept only when asked, e.g. for ``quarantine retry``)."""

    line: int
    outcome: str  # stored / updated / duplicate / quarantined
    incident_id: str | None = None
    problems: tuple[dict[str, Any], ...] = ()


@dataclass
class IngestSummary:
    """Counts of one run; ``read = stored + updated + duplicates + quarantined``."""

    file: str
    format: str
    encoding: str = ""
    dry_run: bool = False
    read: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantine_added: int = 0
    from_coordinates: int = 0
    converted: Counter[str] = field(default_factory=Counter)
    swapped_corrected: int = 0
    coordinates_rejected: int = 0
    geocoded: int = 0
    needs_placement: int = 0
    repeats_linked: int = 0
    phones_invalid: int = 0
    unmapped_categories: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    seconds: float = 0.0
    outcomes: list[RowOutcome] | None = None

    @property
    def invariant_ok(self) -> bool:
        return self.read == self.stored + self.updated + self.duplicates + self.quarantined

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary: ``read``, ``stored``, ``updated``, ``duplicates``, ``quarantined``
        first, then the details."""
        return {
            "read": self.read,
            "stored": self.stored,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "invariant_ok": self.invariant_ok,
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "quarantine_added": self.quarantine_added,
            "from_coordinates": self.from_coordinates,
            "converted": dict(self.converted),
            "swapped_corrected": self.swapped_corrected,
            "coordinates_rejected": self.coordinates_rejected,
            "geocoded": self.geocoded,
            "needs_placement": self.needs_placement,
            "repeats_linked": self.repeats_linked,
            "phones_invalid": self.phones_invalid,
            "unmapped_categories": dict(self.unmapped_categories.most_common()),
            "reasons": dict(self.reasons.most_common()),
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.read / self.seconds) if self.seconds > 0 else None,
        }

    def table(self) -> str:
        """The summary for people, bilingual, ending with the invariant."""
        rows = [
            ("读取 read", self.read),
            ("新增 stored", self.stored),
            ("更新 updated", self.updated),
            ("重复 duplicates", self.duplicates),
            ("隔离 quarantined", self.quarantined),
            ("  其中新隔离 newly quarantined", self.quarantine_added),
            ("坐标定位 located by coordinates", self.from_coordinates),
            ("  经纬度颠倒已更正 swapped lat/lon corrected", self.swapped_corrected),
            ("  坐标无效改用地址 coordinates rejected", self.coordinates_rejected),
            ("地址定位 geocoded", self.geocoded),
            ("待人工定位 needs manual placement", self.needs_placement),
            ("重复报警关联 repeat calls linked", self.repeats_linked),
            ("电话无效 invalid phones", self.phones_invalid),
        ]
        width = max(len(label) for label, _ in rows) + 2
        head = f"{'试运行 DRY RUN · ' if self.dry_run else ''}{self.file} · {self.format}"
        lines = [head + (f" · {self.encoding}" if self.encoding else "")]
        lines += [f"  {label:<{width}}{n:>10,}" for label, n in rows]
        if self.converted:
            conv = ", ".join(f"{k} {v:,}" for k, v in sorted(self.converted.items()))
            lines.append(f"  坐标转换 converted: {conv}")
        if self.reasons:
            lines.append("  隔离原因 quarantine reasons:")
            lines += [f"    {code:<22}{n:>8,}" for code, n in self.reasons.most_common()]
        if self.unmapped_categories:
            lines.append("  未映射类别（归入其他）unmapped categories (stored as other):")
            lines += [f"    {t:<22}{n:>8,}" for t, n in self.unmapped_categories.most_common(20)]
        ok = "成立 holds" if self.invariant_ok else "不成立 BROKEN"
        lines.append(
            f"  read {self.read:,} = stored {self.stored:,} + updated {self.updated:,} + "
            f"duplicates {self.duplicates:,} + quarantined {self.quarantined:,}  [{ok}]"
        )
        lines.append(f"  {self.seconds:.2f} s")
        return "\n".join(lines)


# --- helpers --------------------------------------------------------------------------------


def incident_id(source: str, source_id: str) -> str:
    """The incident id of (source, source_id): the same on every run, so re-runs converge."""
    digest = hashlib.sha256(f"{source}\x1f{source_id}".encode()).hexdigest()
    return f"N{digest[:15].upper()}"


def _problem(code: str, column: str | None, zh: str, en: str) -> dict[str, Any]:
    return {"code": code, "column": column, "zh": zh, "en": en}


def _echo(value: str, limit: int = 40) -> str:
    """A value fit to quote in a reason: personal numbers masked, length bounded."""
    text = mask_text(value.strip()) or ""
    return text if len(text) <= limit else text[:limit] + "…"


def _text(values: Sequence[Any]) -> list[str | None]:
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def _categorical(col: pd.Series) -> npt.NDArray[np.object_]:
    out: npt.NDArray[np.object_] = np.array(col.astype(object).to_numpy(), dtype=object)
    out[pd.isna(out)] = None
    return out


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
        fmt, s = self.fmt, self.summary
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
        loc = self.locate(rows, todo, problems)
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
        repeat = self.repeats(new_rows, new_ids, received, cats.category, phones, loc)

        # -- build (plain lists: per-row Series access would dominate the run) --
        names = self.column(rows, "caller_name").tolist()
        desc = self.column(rows, "description").tolist()
        addr = self.column(rows, "address").tolist()
        deadline_raw = self.column(rows, "deadline").tolist()
        deadline: list[datetime | None] = [
            None if pd.isna(t) else t.to_pydatetime()
            for t in parse_times(pd.Series(deadline_raw, dtype=object))
        ]
        when: list[datetime] = [t.to_pydatetime() for t in received]  # NaT rows are quarantined
        phone = phones.tolist()
        extras: dict[str, list[str]] = {
            c: self.column(rows, c).tolist()
            for c in ("transferred_at", "unit", "request_type", "officer_id", "photos")
            if c in self.cols
        }
        codes = {
            k: loc[k].tolist()
            for k in ("grid_code", "village_code", "beat_code", "station_code", "level")
        }
        lon, lat, conf = loc["lon"].tolist(), loc["lat"].tolist(), loc["confidence"].tolist()
        incidents, events = [], []
        for i in new_rows:
            inc = Incident(
                id=str(outcome[i][1]),
                source=fmt.source,  # type: ignore[arg-type]
                source_id=sids[i],
                received_at=when[i],
                category=cats.category[i],
                subcategory=cats.subcategory[i],
                description=desc[i],
                address=addr[i],
                lon=lon[i],
                lat=lat[i],
                geocode_level=codes["level"][i],
                geocode_confidence=conf[i],
                grid_code=codes["grid_code"][i],
                village_code=codes["village_code"][i],
                beat_code=codes["beat_code"][i],
                station_code=codes["station_code"][i],
                parties=self.parties(names[i], phone[i]),
                deadline=deadline[i],
            )
            data = self.event_data(i, hashes[i], loc, extras, deadline_raw)
            if repeat.get(i):
                data["repeat_of"] = repeat[i]
            incidents.append(inc)
            events.append(Event(inc.id, 1, "receive", inc.received_at, self.actor, data=data))
        amends = []
        now = datetime.now(UTC)
        for i, inc_id, version in amend_rows:
            data = self.event_data(i, hashes[i], loc, extras, deadline_raw)
            data.update(
                category=cats.category[i],
                subcategory=cats.subcategory[i],
                description=desc[i],
                address=addr[i],
                grid_code=codes["grid_code"][i],
                village_code=codes["village_code"][i],
                beat_code=codes["beat_code"][i],
                station_code=codes["station_code"][i],
                lon=lon[i],
                lat=lat[i],
            )
            due = deadline[i]
            if due is not None:
                data["deadline"] = due.isoformat()
            at = max(now, when[i])
            reason = "重新推送的内容有变化 / re-delivered with changes"
            amends.append(
                (Event(inc_id, version + 1, "amend", at, self.actor, reason, data=data), sids[i])
            )
        qrows = [
            QuarantineRow(
                source=fmt.source,
                file=self.file,
                line=rows[i].line,
                raw=self.table.raw_dict(rows[i]),
                problems=tuple(ps),
                source_id=sids[i] or None,
            )
            for i, ps in sorted(problems.items())
        ]

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
        s.read += n
        s.quarantine_added += added
        for i, ps in problems.items():
            s.quarantined += 1
            s.reasons[ps[0]["code"]] += 1
            if s.outcomes is not None:
                s.outcomes.append(RowOutcome(rows[i].line, "quarantined", None, tuple(ps)))
        for i, (what, found_id) in sorted(outcome.items()):
            if what == "stored":
                s.stored += 1
            elif what == "updated":
                s.updated += 1
            else:
                s.duplicates += 1
            if s.outcomes is not None:
                s.outcomes.append(RowOutcome(rows[i].line, what, found_id))
        written = [i for i in outcome if outcome[i][0] != "duplicate"]
        cat_text = self.column(rows, "category_text").tolist()
        for i in written:
            s.from_coordinates += int(loc["level"][i] == "coordinates")
            s.geocoded += int(loc["level"][i] != "coordinates")
            s.needs_placement += int(loc["needs_placement"][i])
            s.swapped_corrected += int("swapped_corrected" in loc["notes"][i])
            s.coordinates_rejected += int(
                any(str(x).startswith("coordinates_rejected") for x in loc["notes"][i])
            )
            crs = loc["converted"][i]
            if crs:
                s.converted[crs] += 1
            s.phones_invalid += int(bad_phone[i])
            if cats.category[i] == self.ctx.taxonomy.fallback:
                text = cat_text[i]
                if text and text in cats.unmapped:
                    s.unmapped_categories[text] += 1
        s.repeats_linked += len(repeat)
        if s.outcomes is not None:
            s.outcomes.sort(key=lambda o: o.line)

    # -- location --
    def locate(
        self,
        rows: Sequence[RawRow],
        todo: npt.NDArray[np.bool_],
        problems: dict[int, list[dict[str, Any]]],
    ) -> dict[str, Any]:
        """Coordinates or geocode for the rows in ``todo``; adds location problems."""
        n = len(rows)
        out: dict[str, Any] = {
            "lon": np.full(n, np.nan),
            "lat": np.full(n, np.nan),
            "level": np.full(n, None, dtype=object),
            "confidence": np.full(n, np.nan),
            "needs_placement": np.zeros(n, dtype=bool),
            "converted": np.full(n, None, dtype=object),
            "notes": [[] for _ in range(n)],
            **{k: np.full(n, None, dtype=object) for k in
               ("grid_code", "village_code", "beat_code", "station_code")},
        }  # fmt: skip
        idx = np.flatnonzero(todo)
        if len(idx) == 0:
            return out
        sub = [rows[int(i)] for i in idx]
        lon_n, bad_lon = numbers(self.column(sub, "lon"))
        lat_n, bad_lat = numbers(self.column(sub, "lat"))
        crs = crs_codes(self.column(sub, "crs"), self.ctx.default_crs).to_numpy(object)
        given = ~np.isnan(lon_n) | ~np.isnan(lat_n) | bad_lon | bad_lat
        reason = coordinate_reasons(lon_n, lat_n)
        swapped = given & (reason == _SWAPPED)
        x_raw = np.where(swapped, lat_n, lon_n)
        y_raw = np.where(swapped, lon_n, lat_n)
        known_crs = np.array([c is not None for c in crs])
        usable = given & ~bad_lon & ~bad_lat & known_crs & ((reason == 0) | swapped)
        x = np.full(len(idx), np.nan)
        y = np.full(len(idx), np.nan)
        if usable.any():
            x[usable], y[usable] = to_wgs84_by_crs(x_raw[usable], y_raw[usable], crs[usable])
        accepted = np.zeros(len(idx), dtype=bool)
        tri_reason = np.full(len(idx), None, dtype=object)
        if usable.any():
            tri = self.ctx.trinity.assign(x[usable], y[usable])
            r = _categorical(tri["reason"])
            inside = np.array([v is None or v in _IN_TOWN for v in r])
            u = np.flatnonzero(usable)
            accepted[u[inside]] = True
            tri_reason[u] = r
            self._put_codes(out, idx[u[inside]], tri.loc[inside])
        lon_col, lat_col = self.display("lon"), self.display("lat")
        for j in np.flatnonzero(swapped & ~accepted):
            i = int(idx[j])
            problems.setdefault(i, []).append(
                _problem(
                    "swapped_outside",
                    f"{lon_col}/{lat_col}",
                    "经纬度颠倒，对调后仍不在本镇，不予存储",
                    "latitude and longitude are swapped, and swapped back the point is still "
                    "not in the town: not stored",
                )
            )
        for j in np.flatnonzero(accepted):
            i = int(idx[j])
            out["lon"][i], out["lat"][i] = x[j], y[j]
            out["level"][i], out["confidence"][i] = "coordinates", 1.0
            if crs[j] not in ("wgs84", "cgcs2000"):
                out["converted"][i] = crs[j]
            if swapped[j]:
                out["notes"][i].append("swapped_corrected")
            if tri_reason[j] is not None:
                out["notes"][i].append(f"trinity: {tri_reason[j]}")
        rejected = given & ~accepted & ~swapped
        why = np.full(len(idx), None, dtype=object)
        for j in np.flatnonzero(rejected):
            if bad_lon[j] or bad_lat[j]:
                why[j] = "坐标不是数字 / coordinates are not numbers"
            elif not known_crs[j]:
                why[j] = "坐标系无法识别 / unknown coordinate system"
            elif reason[j] != 0:
                why[j] = reason_text(REASON_CODES[reason[j]])
            else:
                why[j] = str(tri_reason[j] or REASON_TEXTS[-1])
            out["notes"][int(idx[j])].append(f"coordinates_rejected: {why[j]}")
        geo = ~accepted & ~swapped
        if geo.any():
            g_idx = idx[geo]
            addresses = self.column([rows[i] for i in g_idx], "address")
            g = self.ctx.geocoder.geocode_series(addresses)
            found = g["lon"].notna().to_numpy() & g["lat"].notna().to_numpy()
            threshold = self.ctx.geocoder.review_threshold
            gj = np.flatnonzero(geo)
            addr_col = self.display("address")
            for k in np.flatnonzero(~found):
                i = int(g_idx[k])
                extra_zh = f"（坐标无效：{why[gj[k]].split(' / ')[0]}）" if why[gj[k]] else ""
                extra_en = (
                    f" (coordinates rejected: {why[gj[k]].split(' / ')[-1]})" if why[gj[k]] else ""
                )
                problems.setdefault(i, []).append(
                    _problem(
                        "no_location",
                        addr_col,
                        f"无法定位：没有可用坐标，{addr_col}也无法匹配到本镇任何位置{extra_zh}",
                        f"no location: no usable coordinates and the {addr_col} (address) "
                        f"matches no place in the town{extra_en}",
                    )
                )
            ok = np.flatnonzero(found)
            if len(ok):
                gi = g_idx[ok]
                gx = g["lon"].to_numpy(float)[ok]
                gy = g["lat"].to_numpy(float)[ok]
                tri = self.ctx.trinity.assign(gx, gy)
                self._put_codes(out, gi, tri)
                conf = g["confidence"].to_numpy(float)[ok]
                level = g["level"].to_numpy(object)[ok]
                review = g["needs_review"].to_numpy(bool)[ok] | (conf < threshold)
                r = _categorical(tri["reason"])
                for pos, at_row in enumerate(gi.tolist()):
                    out["lon"][at_row], out["lat"][at_row] = gx[pos], gy[pos]
                    out["level"][at_row], out["confidence"][at_row] = level[pos], conf[pos]
                    out["needs_placement"][at_row] = bool(review[pos])
                    out["notes"][at_row].append("geocoded")
                    if r[pos] is not None:
                        out["notes"][at_row].append(f"trinity: {r[pos]}")
        return out

    @staticmethod
    def _put_codes(out: dict[str, Any], rows: npt.NDArray[np.intp], tri: pd.DataFrame) -> None:
        for name in ("grid_code", "village_code", "beat_code", "station_code"):
            out[name][rows] = _categorical(tri[name])

    # -- repeat calls --
    def repeats(
        self,
        new_rows: list[int],
        new_ids: list[str],
        received: pd.Series,
        categories: list[str],
        phones: pd.Series,
        loc: dict[str, Any],
    ) -> dict[int, str]:
        """Row -> id of the incident it repeats, for the new rows (against the store's recent
        incidents and each other). Phones are compared masked (138****5678) on both sides: the
        store hands out masked phones, and a collision of 3+4 digits within the radius and the
        window is negligible."""
        if not new_rows:
            return {}
        policy = self.ctx.repeat_policy
        t = received.iloc[new_rows]
        plist = phones.tolist()
        query = IncidentQuery(
            received_from=(t.min() - timedelta(days=policy.days + 1)).to_pydatetime(),
            received_to=(t.max() + timedelta(seconds=1)).to_pydatetime(),
        )
        old = self.store.query_incidents(query, Scope.everything(self.actor))
        if len(old):
            geom = old.geometry
            ok = ~(geom.isna() | geom.is_empty)
            lon = np.where(ok, geom.x.where(ok), np.nan)
            lat = np.where(ok, geom.y.where(ok), np.nan)
            existing = pd.DataFrame(
                {
                    "id": old["id"].to_numpy(object),
                    "received_at": old["received_at"],
                    "category": old["category"].to_numpy(object),
                    "lon": lon,
                    "lat": lat,
                    "caller_phone": old["caller_phone"].to_numpy(object),
                    "closed_at": old["closed_at"],
                    "state": old["state"].to_numpy(object),
                }
            ).reset_index(drop=True)
        else:
            existing = pd.DataFrame(
                columns=["id", "received_at", "category", "lon", "lat", "caller_phone"]
            )
        new = pd.DataFrame(
            {
                "id": new_ids,
                "received_at": t.to_numpy(),
                "category": [categories[i] for i in new_rows],
                "lon": loc["lon"][new_rows],
                "lat": loc["lat"][new_rows],
                "caller_phone": [
                    None if plist[i] is None else mask_phone(plist[i]) for i in new_rows
                ],
            }
        )
        new["received_at"] = pd.to_datetime(new["received_at"], utc=True)
        if len(existing):
            existing["received_at"] = pd.to_datetime(existing["received_at"], utc=True)
        both = pd.concat([existing, new], ignore_index=True) if len(existing) else new
        mask = np.r_[np.zeros(len(existing), bool), np.ones(len(new), bool)]
        linked = link_repeats(both, policy, only=mask).to_numpy(object)[len(existing) :]
        return {i: str(v) for i, v in zip(new_rows, linked, strict=True) if v is not None}

    # -- pieces of incidents and events --
    @staticmethod
    def parties(name: str, phone: str | None) -> tuple[Party, ...]:
        if name or phone:
            return (Party(name=name or None, phone=phone, role="caller"),)
        return ()

    def event_data(
        self,
        i: int,
        content_hash: str,
        loc: dict[str, Any],
        extras: Mapping[str, list[str]],
        deadline_raw: list[str],
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"content_hash": content_hash, "file": self.file}
        for name, col in extras.items():
            if col[i]:
                data[name] = col[i]
        if deadline_raw[i]:
            data["deadline_text"] = deadline_raw[i]
        if loc["notes"][i]:
            data["notes"] = list(loc["notes"][i])
        if loc["converted"][i]:
            data["converted_from"] = loc["converted"][i]
        if loc["needs_placement"][i]:
            data["needs_placement"] = True
        return data

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
