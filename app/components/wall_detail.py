"""What the wall's incident drawer shows: details, timeline, trinity codes, nearby incidents.

Always masked: the store is asked with :data:`app.wall_data.SCOPE` (no personal data), and free
text (address, description, event reasons) goes through :func:`incidents.masking.mask_text` too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from app import wall_data as wd
from app.i18n import Lang, t_or
from incidents._time import LOCAL_TZ
from incidents.masking import mask_text
from layers.incidents_layer import CATEGORIES
from store.base import IncidentNotFound

ACTIONS_ZH = {
    "receive": "受理",
    "dispatch": "派遣",
    "arrive": "到场",
    "resolve": "处置完毕",
    "callback": "回访",
    "close": "办结",
    "return": "退回",
    "reopen": "重开",
    "escalate": "会商",
    "supervise": "督办",
    "amend": "更正",
    "reassign": "改派",
    "link": "关联",
}


def _local(t: datetime | pd.Timestamp | None) -> str:
    if t is None or pd.isna(t):
        return "—"
    return pd.Timestamp(t).tz_convert(LOCAL_TZ).strftime("%m-%d %H:%M")


def drawer(
    url: str, incident_id: str, frame: pd.DataFrame, now: pd.Timestamp, lang: Lang = "zh"
) -> dict[str, Any]:
    """Details of one incident for the drawer (masked, labels in ``lang``), or ``{}`` when it
    is not found.

    Includes the event timeline, the trinity codes, and nearby incidents of the last 30 days
    (within ~500 m) and those linked as repeats.
    """
    try:
        rec = wd._store(url).get_incident(incident_id, wd.SCOPE)
    except IncidentNotFound:
        return {}
    inc, st = rec.incident, rec.status
    parties = [
        {"name": p.name or "—", "phone": p.phone or "—", "migrant": p.residency == "migrant"}
        for p in inc.parties
    ]
    events = [
        {
            "at": _local(e.at),
            "action": t_or(f"act.{e.action}", lang, ACTIONS_ZH.get(e.action, e.action)),
            "reason": mask_text(e.reason) or "",
        }
        for e in rec.events
    ]
    nearby: list[dict[str, str]] = []
    if inc.lon is not None and inc.lat is not None and len(frame):
        d = 0.005
        close = frame.loc[
            (frame["lon"].between(inc.lon - d, inc.lon + d))
            & (frame["lat"].between(inc.lat - d, inc.lat + d))
            & (frame["received_at"] >= now - pd.Timedelta(days=30))
            & (frame["received_at"] <= now)
            & (frame["id"] != inc.id)
        ].tail(6)
        nearby = [
            {
                "id": r.id,
                "text": f"{_local(r.received_at)} {_category(str(r.category), lang)}",
                "repeat": r.repeat_of == inc.id or st.repeat_of == r.id,
            }
            for r in close.iloc[::-1].itertuples()
        ]
    late = False
    row = frame.loc[frame["id"] == inc.id]
    if len(row):
        late = bool(wd.overdue_flags(row, now)[0])
    return {
        "id": inc.id,
        "category": _category(inc.category, lang),
        "subcategory": inc.subcategory or "",
        "source": t_or(f"src.{inc.source}", lang, wd.SOURCES.get(inc.source, inc.source)),
        "received": _local(inc.received_at),
        "address": mask_text(inc.address) or "",
        "description": mask_text(inc.description) or "",
        "state": st.state.value,
        "state_zh": st.state.zh,
        "overdue": late,
        "supervised": st.supervised,
        "deadline": _local(st.deadline) if st.deadline else "—",
        "parties": parties,
        "events": events,
        "grid_code": st.grid_code,
        "beat_code": st.beat_code,
        "station_code": st.station_code,
        "team_code": st.team_code,
        "repeat_of": st.repeat_of,
        "nearby": nearby,
        "lonlat": [inc.lon, inc.lat],
    }


def _category(code: str, lang: Lang) -> str:
    return t_or(f"cat.{code}", lang, CATEGORIES.get(code, code))
