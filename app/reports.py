"""The daily, weekly and monthly review (天天推进、周周闭环、月月改进): one function builds it.

:func:`build_report` reads the incidents within the caller's scope (masked), turns them into the
KPI frame (:func:`incidents.frame.prepare`, as the wall does) and computes every KPI of
:mod:`incidents.kpi` for the period, the previous period (环比) and a year earlier (同比), for the
whole town and per village, grid cell and team, plus the lists of overdue and unsatisfied
incidents. ``ember report`` and the ``/reports`` page both call it; :mod:`app.report_output`
writes it out (JSON, .xlsx, tables, a terminal summary).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pandas as pd

from incidents import kpi, sla
from incidents._time import LOCAL_TZ
from incidents.frame import COLUMNS as KPI_COLUMNS
from incidents.frame import STORE_STANDING, prepare
from incidents.model import STATE_ZH, State
from store import QUERY_COLUMNS, IncidentQuery, IncidentStore, LayerNotFound, Scope

Kind = Literal["daily", "weekly", "monthly"]
ZH_STATES = frozenset(s.value for s in State)
KINDS: tuple[Kind, ...] = ("daily", "weekly", "monthly")
#: Heading of each review.
HEADINGS: dict[str, tuple[str, str]] = {
    "daily": ("天天推进", "Daily push"),
    "weekly": ("周周闭环", "Weekly closed loop"),
    "monthly": ("月月改进", "Monthly improvement"),
}
#: Levels of the report: (level, Chinese, English, layer holding the names).
LEVELS: tuple[tuple[str, str, str, str | None], ...] = (
    ("town", "全镇", "Town", None),
    ("village", "村社区", "Villages", "villages"),
    ("grid", "网格", "Grid cells", "grid_cells"),
    ("team", "处置队伍", "Teams", "teams"),
)
#: Columns of the incident lists (masked): column -> Chinese header.
LIST_COLUMNS: dict[str, str] = {
    "id": "事项编号",
    "category_zh": "类别",
    "state_zh": "状态",
    "received_at": "受理时间",
    "deadline": "期限",
    "village_code": "村社区",
    "grid_code": "网格",
    "team_code": "处置队伍",
    "address": "地址",
    "satisfaction": "满意度",
}


@dataclass(frozen=True)
class Row:
    """One area's KPIs: ``kpis[name]`` is a :class:`~incidents.kpi.Comparison`."""

    code: str
    name: str
    kpis: dict[str, kpi.Comparison]


@dataclass(frozen=True)
class Report:
    """One review: its period, the KPI rows per level and the two incident lists."""

    kind: str
    window: kpi.Window
    as_of: pd.Timestamp
    levels: dict[str, list[Row]]
    overdue: pd.DataFrame
    unsatisfied: pd.DataFrame
    frame_size: int = 0  # incidents read (the scope's whole store), not the period's
    received: int = 0  # received within the period, up to ``as_of``

    @property
    def heading(self) -> tuple[str, str]:
        return HEADINGS[self.kind]

    @property
    def so_far(self) -> bool:
        """Whether the period was not over at ``as_of``: its figures are so far, and 环比 / 同比
        compare the same stretch of the period before and of a year earlier."""
        return bool(self.as_of < self.window.end)

    @property
    def period(self) -> str:
        """The period as local days, e.g. ``2026-05-25 – 2026-05-31``."""
        start = self.window.start.tz_convert(LOCAL_TZ).date()
        last = (self.window.end - pd.Timedelta(days=1)).tz_convert(LOCAL_TZ).date()
        return start.isoformat() if start == last else f"{start} – {last}"


def window_of(kind: str, day: date) -> kpi.Window:
    """The local day, Monday-to-Sunday week or calendar month holding ``day``."""
    if kind == "daily":
        return kpi.Window.day(day)
    if kind == "weekly":
        return kpi.Window.week(day)
    if kind == "monthly":
        return kpi.Window.month(day.year, day.month)
    raise ValueError(f"报表类型须为 daily、weekly 或 monthly / kind must be one of {KINDS}")


def default_day(kind: str, now: datetime) -> date:
    """The last complete period's day: yesterday, last week's Sunday, last month's last day."""
    today = pd.Timestamp(now).tz_convert(LOCAL_TZ).date()
    if kind == "weekly":
        return today - timedelta(days=today.weekday() + 1)
    if kind == "monthly":
        return today.replace(day=1) - timedelta(days=1)
    return today - timedelta(days=1)


#: What a report reads of each incident: the KPI frame's columns the store has (its
#: ``resolved_at`` is the first resolution), the standing resolution, what
#: :func:`incidents.frame.prepare` derives the rest from, and the lists' address and category
#: name — not the callers or the descriptions (at 100,000 incidents, reading and masking them
#: was most of the report's time).
REPORT_COLUMNS = (
    *(c for c in QUERY_COLUMNS if c in KPI_COLUMNS),
    STORE_STANDING, "commitment_due", "category_zh", "address",
)  # fmt: skip


def load_frame(store: IncidentStore, scope: Scope) -> pd.DataFrame:
    """The KPI frame of every incident within ``scope`` (masked), plus address and names."""
    masked = replace(scope, personal_data=False)
    found = store.query_incidents(IncidentQuery(columns=REPORT_COLUMNS), masked)
    flat = pd.DataFrame(found.drop(columns="geometry"))
    return prepare(flat).reset_index(drop=True)


def area_names(store: IncidentStore) -> dict[str, dict[str, str]]:
    """Code -> name per level, from the villages, grid cells and teams layers (when present)."""
    out: dict[str, dict[str, str]] = {}
    for level, _zh, _en, layer in LEVELS:
        if layer is None:
            continue
        try:
            frame = store.read_layer(layer)
        except LayerNotFound:
            out[level] = {}
            continue
        out[level] = dict(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True))
    return out


def _compare_by(
    frame: pd.DataFrame, window: kpi.Window, level: str, as_of: pd.Timestamp
) -> dict[str, dict[str, kpi.Comparison]]:
    """Comparisons per code of ``level`` (the whole frame for ``town``)."""
    if level == "town":
        return {"": kpi.compare(frame, window, as_of=as_of)}
    codes = sorted(str(c) for c in frame[kpi.AREA_LEVELS[level]].dropna().unique())
    if not codes:
        return {}
    wins = (window, window.previous(), window.year_earlier())
    tables = [kpi.compute_by(frame, w, level, as_of=as_of) for w in wins]
    out: dict[str, dict[str, kpi.Comparison]] = {}
    for code in codes:
        values = [_values(t, code) for t in tables]
        out[code] = {k: kpi.Comparison(values[0][k], values[1][k], values[2][k]) for k in kpi.KPIS}
    return out


def _values(table: pd.DataFrame, code: str) -> dict[str, kpi.KpiValue]:
    row = table.loc[code]
    out = {}
    for name, spec in kpi.KPIS.items():
        den = row[f"{name}_den"]
        value = row[name]
        out[name] = kpi.KpiValue(
            name,
            float(row[f"{name}_num"]),
            None if spec.kind == "count" or den is None or den != den else int(den),
            None if value is None or value != value else float(value),
        )
    return out


def _list(frame: pd.DataFrame, mask: Any, extra: pd.DataFrame) -> pd.DataFrame:
    rows = frame.loc[mask].join(extra, how="left")
    rows["state_zh"] = rows["state"].map(lambda s: STATE_ZH[State(s)] if s in ZH_STATES else s)
    cols = [c for c in LIST_COLUMNS if c in rows]
    return rows[cols].reset_index(drop=True)


def build_report(
    store: IncidentStore,
    kind: str,
    day: date,
    *,
    scope: Scope,
    as_of: datetime | pd.Timestamp,
    policy: sla.SlaPolicy = sla.DEFAULT_POLICY,
    frame: pd.DataFrame | None = None,
) -> Report:
    """The ``kind`` review of the period holding ``day``, as known at ``as_of``.

    Parameters
    ----------
    store : IncidentStore
    kind : {"daily", "weekly", "monthly"}
    day : datetime.date
        Any local day of the period.
    scope : Scope
        Whose view (masked whatever ``scope.personal_data`` says).
    as_of : datetime
        "Now": decides what is still pending (see docs/kpi.md).
    frame : DataFrame, optional
        A KPI frame already read (with ``address``, ``category_zh``); read from ``store`` if None.
    """
    window = window_of(kind, day)
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is None:
        raise ValueError("as_of 须带时区 / as_of must be timezone-aware")
    df = load_frame(store, scope) if frame is None else frame
    names = area_names(store)
    levels: dict[str, list[Row]] = {}
    # A period not over yet is counted so far and compared with the same stretch of the period
    # before and of a year earlier (kpi.Window.to_date), not with their whole.
    so_far = window.to_date(ts)
    for level, zh, _en, _layer in LEVELS:
        by = _compare_by(df, so_far, level, ts)
        lookup = names.get(level, {})
        levels[level] = [
            Row(code, lookup.get(code, code) if code else zh, comps) for code, comps in by.items()
        ]
    snap = min(window.end, ts)
    extra = df[[c for c in ("address", "category_zh") if c in df]].copy()
    base = df.drop(columns=[c for c in extra.columns if c in df], errors="ignore")
    if len(df):

        def before(c: str) -> Any:
            return (df[c] < snap).to_numpy(bool)

        # The overdue KPI's definition (docs/kpi.md): open at the snapshot, past its deadline
        # and no standing resolution before it (``resolved_at`` of the prepared frame).
        open_ = before("received_at") & ~before("closed_at") & ~before("returned_at")
        late = open_ & before("deadline") & ~before("resolved_at")
        callback = df["callback_at"]
        unsat = (df["satisfaction"] == "不满意").to_numpy(bool) & (
            (callback >= window.start) & (callback < window.end)
        ).to_numpy(bool)
    else:
        late = unsat = pd.Series([], dtype=bool).to_numpy(bool)
    # the same count as the repeat-call rate's denominator (docs/kpi.md): received in the window
    town = levels["town"][0].kpis if levels.get("town") else {}
    received = (town["repeat"].current.denominator or 0) if "repeat" in town else 0
    return Report(
        kind=kind,
        window=window,
        as_of=ts,
        levels=levels,
        overdue=_list(base, late, extra),
        unsatisfied=_list(base, unsat, extra),
        frame_size=len(df),
        received=received,
    )


def parse_day(text: str | None, kind: str, now: datetime) -> date:
    """``--date`` / ``?date=``: an ISO day, else :func:`default_day`."""
    if not text:
        return default_day(kind, now)
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}") from None
