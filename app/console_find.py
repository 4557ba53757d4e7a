"""Finding an incident from the dispatcher console: a caller rings back about a case that is in
neither of the console's lists (the queue holds the newest 200 received, the supervision list
the 50 most overdue), and the dispatcher types its id or a piece of its address.

Read through the account's scope, without personal data: the address is matched as the console
shows it (masked), the caller is never searched.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from store import IncidentQuery, IncidentStore, Scope

#: What a found row shows (with the id).
COLUMNS = ("received_at", "state", "category", "address")


def find(store: IncidentStore, scope: Scope, text: str, limit: int | None = None) -> pd.DataFrame:
    """Incidents within ``scope`` whose id holds ``text`` (any case) or whose masked address
    holds it, newest first (the first ``limit``; all with ``None``).

    Columns: id, received_at, state, category, address. Empty when ``text`` is blank.
    """
    text = text.strip()
    if not text:
        return pd.DataFrame(columns=["id", *COLUMNS])
    masked = replace(scope, personal_data=False)
    query = IncidentQuery(columns=COLUMNS, newest_first=True)
    found = pd.DataFrame(store.query_incidents(query, masked).drop(columns="geometry"))
    in_id = found["id"].str.upper().str.contains(text.upper(), regex=False)
    in_address = found["address"].fillna("").str.contains(text, regex=False)
    hit = in_id | in_address
    out = found.loc[hit.to_numpy(bool)]
    return (out if limit is None else out.head(limit)).reset_index(drop=True)
