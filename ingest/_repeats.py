"""The repeat-call step of the ingest pipeline: link new incidents to the recent incident they
repeat, in the store or earlier in the same batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from incidents.masking import mask_series
from incidents.repeat import RepeatPolicy, link_repeats
from store._common import CANDIDATE_COLUMNS
from store.base import IncidentStore


def find_repeats(
    store: IncidentStore,
    actor: str,
    policy: RepeatPolicy,
    new_rows: list[int],
    new_ids: list[str],
    received: pd.Series,
    categories: list[str],
    phones: pd.Series,
    loc: dict[str, Any],
    also: pd.DataFrame | None = None,
) -> tuple[dict[int, str], pd.DataFrame | None]:
    """Row -> id of the incident it repeats, for the new rows (against the store's open and
    recently closed incidents, and each other).

    Parameters
    ----------
    store : holds the incidents the new ones may repeat: those open (however long ago they
        were received) or closed at most ``policy.days`` days before a new row
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

    Returns
    -------
    dict
        Batch row -> id of the incident it repeats, for the new rows that repeat one.
    DataFrame or None
        The new incidents as :meth:`~store.base.IncidentStore.repeat_candidates` will give them
        once stored (times to the millisecond, phones masked, state ``received``).

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
    existing = store.repeat_candidates(since, until)
    new = pd.DataFrame(
        {
            "id": new_ids,
            "received_at": t.reset_index(drop=True),  # stays datetime64 (to_numpy: objects)
            "category": [categories[i] for i in new_rows],
            "lon": loc["lon"][new_rows],
            "lat": loc["lat"][new_rows],
            "caller_phone": mask_series(
                pd.Series([plist[i] for i in new_rows], dtype=object), "phone"
            ).to_numpy(object),
        }
    )
    new["received_at"] = pd.to_datetime(new["received_at"], utc=True)
    if also is not None and len(also):
        # all open (just received): candidates however long before this batch they came in
        also = also[also["received_at"] < pd.Timestamp(until).tz_convert("UTC")]
        # in the store's order (received_at, id): it breaks ties between equal times
        existing = pd.concat([existing, also], ignore_index=True) if len(existing) else also
        existing = existing.sort_values(["received_at", "id"], kind="stable", ignore_index=True)
    both = pd.concat([existing, new], ignore_index=True) if len(existing) else new
    mask = np.r_[np.zeros(len(existing), bool), np.ones(len(new), bool)]
    linked = link_repeats(both, policy, only=mask).to_numpy(object)[len(existing) :]
    links = {i: str(v) for i, v in zip(new_rows, linked, strict=True) if v is not None}
    never = pd.Series(pd.NaT, index=new.index, dtype="datetime64[ns, UTC]")
    stored = new.assign(received_at=new["received_at"].dt.floor("ms"), closed_at=never)
    return links, stored.assign(state="received")[list(CANDIDATE_COLUMNS)]
