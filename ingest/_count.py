"""Counting one batch of the ingest pipeline into the run's :class:`~ingest.summary.IngestSummary`
(done only after the batch is written, so a failed write leaves the summary untouched)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ingest.normalise import Categories
from ingest.read import RawRow
from ingest.summary import IngestSummary, RowOutcome


def count_batch(
    s: IngestSummary,
    rows: Sequence[RawRow],
    problems: Mapping[int, list[dict[str, Any]]],
    outcome: Mapping[int, tuple[str, str | None]],
    loc: dict[str, Any],
    bad_phone: npt.NDArray[np.bool_],
    cats: Categories,
    cat_text: list[str],
    *,
    fallback: str,
    repeats_linked: int,
    quarantine_added: int,
) -> None:
    """Add one batch to ``s``.

    Parameters
    ----------
    s : the run's summary (its ``outcomes`` too, when kept)
    rows : the batch
    problems : row -> its problems, for the quarantined rows
    outcome : row -> (``stored`` / ``updated`` / ``duplicate``, incident id) for the others
    loc : the location step's output
    bad_phone : per row, whether the caller phone is invalid
    cats, cat_text : the mapped categories and the source's category text, per row
    fallback : the taxonomy's catch-all category (unmapped texts are counted under it)
    repeats_linked : how many new incidents were linked to one they repeat
    quarantine_added : how many rows the quarantine did not hold yet
    """
    s.read += len(rows)
    s.quarantine_added += quarantine_added
    for i, ps in problems.items():
        s.quarantined += 1
        s.reasons[ps[0]["code"]] += 1
        if s.outcomes is not None:
            s.outcomes.append(RowOutcome(rows[i].line, "quarantined", None, tuple(ps)))
    kinds = Counter(what for what, _ in outcome.values())
    s.stored += kinds["stored"]
    s.updated += kinds["updated"]
    s.duplicates += kinds["duplicate"]
    if s.outcomes is not None:
        for i, (what, found_id) in sorted(outcome.items()):
            s.outcomes.append(RowOutcome(rows[i].line, what, found_id))
    written = np.array([i for i, (what, _) in outcome.items() if what != "duplicate"], dtype=int)
    if len(written):
        level = loc["level"][written]
        s.from_coordinates += int((level == "coordinates").sum())
        s.geocoded += int((level != "coordinates").sum())
        s.needs_placement += int(np.asarray(loc["needs_placement"])[written].sum())
        s.phones_invalid += int(np.asarray(bad_phone)[written].sum())
    all_notes, converted = loc["notes"], loc["converted"]
    for i in written.tolist():
        notes = all_notes[i]
        if notes:  # most rows have none, or only "geocoded"
            s.swapped_corrected += int("swapped_corrected" in notes)
            s.coordinates_rejected += int(
                any(str(x).startswith("coordinates_rejected") for x in notes)
            )
        crs = converted[i]
        if crs:
            s.converted[crs] += 1
        if cats.category[i] == fallback:
            text = cat_text[i]
            if text and text in cats.unmapped:
                s.unmapped_categories[text] += 1
    s.repeats_linked += repeats_linked
    if s.outcomes is not None:
        s.outcomes.sort(key=lambda o: o.line)
