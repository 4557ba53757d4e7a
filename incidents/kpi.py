"""The KPIs of DESIGN.md over a time window and an area, with 同比 / 环比 comparisons.

Input: a KPI frame (:data:`incidents.frame.COLUMNS`, one row per incident; build it with
:func:`incidents.frame.status_frame` or :func:`incidents.frame.prepare`). Every KPI returns a
:class:`KpiValue` with an exact numerator and denominator; the definitions are in :data:`KPIS`
and, in prose, in docs/kpi.md — keep the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from incidents._time import LOCAL_TZ
from incidents.frame import COLUMNS
from incidents.kpi_dask import is_dask, kpi_sums, kpi_sums_by
from incidents.lifecycle import SATISFIED
from incidents.sla import DEFAULT_POLICY, SlaPolicy

Kind = Literal["rate", "mean", "count"]
Unit = Literal["day", "week", "month", "year"]
#: Area level -> KPI-frame column.
AREA_LEVELS: dict[str, str] = {
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
    "beat": "beat_code",
    "station": "station_code",
    "team": "team_code",
    "department": "department_code",
}


class KpiInputError(ValueError):
    """The KPI frame, window or area is not usable (message bilingual)."""


@dataclass(frozen=True)
class KpiDef:
    """What a KPI is: names, kind, and the timestamp that puts an incident in a window."""

    name: str
    zh: str
    en: str
    kind: Kind
    window_by: str
    unit: str = ""


#: Every KPI, in display order (definitions: docs/kpi.md).
KPIS: dict[str, KpiDef] = {
    k.name: k
    for k in (
        KpiDef("arrival_10min", "十分钟到场率", "10-minute arrival rate", "rate", "dispatched_at"),
        KpiDef("on_time", "按期办结率", "On-time resolution rate", "rate", "deadline"),
        KpiDef("callback", "回访率", "Callback rate", "rate", "first_resolved_at"),
        KpiDef("satisfaction", "满意率", "Satisfaction rate", "rate", "callback_at"),
        KpiDef("repeat", "重复报警率", "Repeat-call rate", "rate", "received_at"),
        KpiDef("return", "退回率", "Return rate", "rate", "received_at"),
        KpiDef("reopen", "重开率", "Reopen rate", "rate", "first_resolved_at"),
        KpiDef("handling_hours", "平均办结用时", "Mean handling time", "mean", "closed_at", "h"),
        KpiDef("open", "在办数", "Open incidents", "count", "window end"),
        KpiDef("overdue", "超期数", "Overdue incidents", "count", "window end"),
    )
}


@dataclass(frozen=True)
class KpiValue:
    """One KPI's result: ``value`` is numerator / denominator for rates (``None`` when the
    denominator is 0), the mean in hours for means, the count for counts (denominator None)."""

    name: str
    numerator: float
    denominator: int | None
    value: float | None


#: How far :meth:`Window.previous` steps back per calendar unit.
_STEPS: dict[str, pd.DateOffset | pd.Timedelta] = {
    "day": pd.Timedelta(days=1),
    "week": pd.Timedelta(days=7),
    "month": pd.DateOffset(months=1),
    "year": pd.DateOffset(years=1),
}


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) of aware timestamps.

    ``unit`` (set by the calendar constructors) makes :meth:`previous` step back one calendar
    day, week, month or year; otherwise the previous window has the same length. A calendar
    window cut short at "now" (:meth:`to_date`) keeps its unit, so it is compared with the same
    stretch of the previous period: today until 09:30 with yesterday until 09:30.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    unit: Unit | None = None

    def __post_init__(self) -> None:
        for t in (self.start, self.end):
            if not isinstance(t, pd.Timestamp) or t.tzinfo is None:
                raise KpiInputError(
                    "时间窗须为带时区的时间 / window bounds must be aware Timestamps"
                )
        if not self.start < self.end:
            raise KpiInputError("时间窗起点须早于终点 / window start must be before its end")

    @classmethod
    def between(cls, start: datetime | str, end: datetime | str) -> Window:
        """Any window; naive bounds are taken as Asia/Shanghai."""
        return cls(_aware(start), _aware(end))

    @classmethod
    def day(cls, d: date | str) -> Window:
        start = _aware(pd.Timestamp(d).normalize())
        return cls(start, start + pd.Timedelta(days=1), "day")

    @classmethod
    def week(cls, d: date | str) -> Window:
        """The Monday-to-Sunday local week holding ``d``."""
        day = _aware(pd.Timestamp(d).normalize())
        start = day - pd.Timedelta(days=day.weekday())
        return cls(start, start + pd.Timedelta(days=7), "week")

    @classmethod
    def month(cls, year: int, month: int) -> Window:
        start = _aware(pd.Timestamp(year=year, month=month, day=1))
        return cls(start, start + pd.DateOffset(months=1), "month")

    @classmethod
    def year(cls, year: int) -> Window:
        start = _aware(pd.Timestamp(year=year, month=1, day=1))
        return cls(start, start + pd.DateOffset(years=1), "year")

    def to_date(self, as_of: datetime | pd.Timestamp) -> Window:
        """The window up to ``as_of`` when that falls inside it (a period so far), else itself.

        A period just begun (``as_of`` at its start) keeps its first millisecond, so that it is
        still a window."""
        at = _aware(as_of)
        if at >= self.end:
            return self
        return Window(self.start, max(at, self.start + pd.Timedelta(milliseconds=1)), self.unit)

    def previous(self) -> Window:
        """环比: the window one calendar unit earlier (day, week, month or year: both ends move,
        so a period so far is compared with the same stretch of the one before); without a
        unit, the window of the same length just before."""
        if self.unit is None:
            return Window(self.start - (self.end - self.start), self.start)
        step = _STEPS[self.unit]
        return Window(self.start - step, self.end - step, self.unit)

    def year_earlier(self) -> Window:
        """同比: the same window one year earlier (29 February maps to 28 February)."""
        return Window(
            self.start - pd.DateOffset(years=1), self.end - pd.DateOffset(years=1), self.unit
        )


def _aware(t: datetime | str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_localize(LOCAL_TZ) if ts.tzinfo is None else ts


@dataclass(frozen=True)
class Area:
    """Rows whose ``level`` code (town, village, grid, beat, station, team, department) is one
    of ``codes``."""

    level: str
    codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.level not in AREA_LEVELS:
            raise KpiInputError(f"区域级别无效 / area level must be one of {list(AREA_LEVELS)}")

    @classmethod
    def of(cls, level: str, *codes: str) -> Area:
        return cls(level, tuple(codes))

    @property
    def column(self) -> str:
        return AREA_LEVELS[self.level]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.column].isin(self.codes).to_numpy(bool)


@dataclass(frozen=True)
class Comparison:
    """A KPI now, in the previous window (环比) and a year earlier (同比)."""

    current: KpiValue
    previous: KpiValue
    year_earlier: KpiValue

    @staticmethod
    def _diff(a: KpiValue, b: KpiValue) -> float | None:
        return None if a.value is None or b.value is None else a.value - b.value

    @staticmethod
    def _pct(a: KpiValue, b: KpiValue) -> float | None:
        if a.value is None or b.value is None or b.value == 0:
            return None
        return (a.value - b.value) / abs(b.value)

    @property
    def mom_change(self) -> float | None:
        """环比 change: difference of values (percentage points ÷ 100 for rates)."""
        return self._diff(self.current, self.previous)

    @property
    def yoy_change(self) -> float | None:
        """同比 change: difference of values."""
        return self._diff(self.current, self.year_earlier)

    @property
    def mom_pct(self) -> float | None:
        """环比 growth: relative change of the value (None from a zero or missing base)."""
        return self._pct(self.current, self.previous)

    @property
    def yoy_pct(self) -> float | None:
        """同比 growth: relative change of the value."""
        return self._pct(self.current, self.year_earlier)


Parts = tuple[np.ndarray, np.ndarray]  # (numerator values, denominator mask) per row


def _parts(df: pd.DataFrame, w: Window, as_of: pd.Timestamp, policy: SlaPolicy) -> dict[str, Parts]:
    """Per-row numerator values and denominator masks of every KPI (the definitions)."""

    def col(c: str) -> pd.Series:
        return df[c]

    def within(c: str) -> np.ndarray:
        t = col(c)
        return ((t >= w.start) & (t < w.end)).to_numpy(bool)

    def has(c: str) -> np.ndarray:
        return col(c).notna().to_numpy(bool)

    def before(c: str, t: pd.Timestamp) -> np.ndarray:
        return (col(c) < t).to_numpy(bool)

    arrival = pd.Timedelta(policy.arrival)
    dispatched, on_scene = col("dispatched_at"), col("on_scene_at")
    arrived = has("on_scene_at")
    waited = ((as_of - dispatched) > arrival).to_numpy(bool) & ~has("returned_at")
    d_arrival = within("dispatched_at") & (arrived | waited)
    n_arrival = d_arrival & arrived & ((on_scene - dispatched) <= arrival).to_numpy(bool)

    resolved = has("resolved_at")
    d_on_time = within("deadline") & ~has("returned_at") & (resolved | ~(col("deadline") > as_of))
    n_on_time = d_on_time & resolved & (col("resolved_at") <= col("deadline")).to_numpy(bool)

    called = has("callback_at")
    due_ended = ((col("callback_due_at") + pd.Timedelta(days=1)) <= as_of).to_numpy(bool)
    d_callback = within("first_resolved_at") & (called | due_ended)

    rated = has("satisfaction")
    d_sat = within("callback_at") & rated
    n_sat = d_sat & col("satisfaction").isin(list(SATISFIED)).to_numpy(bool)

    received = within("received_at")
    d_reopen = within("first_resolved_at")
    d_handling = within("closed_at")
    hours = (col("closed_at") - col("received_at")).dt.total_seconds().to_numpy(float) / 3600.0

    snap = min(w.end, as_of)
    open_ = before("received_at", snap) & ~before("closed_at", snap) & ~before("returned_at", snap)
    late = open_ & before("deadline", snap) & ~before("resolved_at", snap)
    everyone = np.ones(len(df), dtype=bool)
    return {
        "arrival_10min": (n_arrival, d_arrival),
        "on_time": (n_on_time, d_on_time),
        "callback": (d_callback & called, d_callback),
        "satisfaction": (n_sat, d_sat),
        "repeat": (received & has("repeat_of"), received),
        "return": (received & has("returned_at"), received),
        "reopen": (d_reopen & (col("reopen_count") > 0).to_numpy(bool), d_reopen),
        "handling_hours": (np.where(d_handling, np.nan_to_num(hours), 0.0), d_handling),
        "open": (open_, everyone),
        "overdue": (late, everyone),
    }


def _value(name: str, num: float, den: int) -> KpiValue:
    kind = KPIS[name].kind
    if kind == "count":
        return KpiValue(name, int(num), None, float(num))
    if kind == "rate":
        return KpiValue(name, int(num), den, None if den == 0 else num / den)
    return KpiValue(name, float(num), den, None if den == 0 else num / den)


def _checked(frame: pd.DataFrame, as_of: datetime | pd.Timestamp) -> pd.Timestamp:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise KpiInputError(
            f"KPI 数据缺少列（请先 prepare）/ KPI frame lacks columns: {', '.join(missing)}"
        )
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is None:
        raise KpiInputError("as_of 须带时区 / as_of must be timezone-aware")
    return ts


def compute(
    frame: pd.DataFrame,
    window: Window,
    *,
    as_of: datetime | pd.Timestamp,
    area: Area | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> dict[str, KpiValue]:
    """Every KPI of :data:`KPIS` for ``window`` and ``area`` (None: all rows).

    ``as_of`` is when the frame's statuses were folded ("now"): it decides which outcomes are
    still pending (an arrival not yet due, a deadline not yet passed, a callback day not over).
    ``frame`` may be a dask DataFrame: each partition is summed, then the sums (same answers).
    """
    ts = _checked(frame, as_of)
    if is_dask(frame):  # per-partition sums, reduced (incidents.kpi_dask)
        chosen = frame if area is None else frame[frame[area.column].isin(list(area.codes))]
        sums = kpi_sums(chosen, window, ts, policy)
        return {name: _value(name, num, den) for name, (num, den) in sums.items()}
    df = frame if area is None else frame.loc[area.mask(frame)]
    return {
        name: _value(name, float(num.sum()), int(den.sum()))
        for name, (num, den) in _parts(df, window, ts, policy).items()
    }


def compute_by(
    frame: pd.DataFrame,
    window: Window,
    level: str,
    *,
    as_of: datetime | pd.Timestamp,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """Every KPI per code of an area ``level``: a frame indexed by code, with columns
    ``<kpi>`` (value), ``<kpi>_num`` and ``<kpi>_den``. Rows without a code are left out."""
    ts = _checked(frame, as_of)
    if level not in AREA_LEVELS:
        raise KpiInputError(f"区域级别无效 / area level must be one of {list(AREA_LEVELS)}")
    if is_dask(frame):  # per-partition sums per code, reduced (incidents.kpi_dask)
        out = kpi_sums_by(frame, window, ts, policy, AREA_LEVELS[level])
    else:
        keys = frame[AREA_LEVELS[level]]
        per_row: dict[str, np.ndarray] = {}
        for name, (num, den) in _parts(frame, window, ts, policy).items():
            per_row[f"{name}_num"] = num.astype(float)
            per_row[f"{name}_den"] = den.astype(np.int64)
        # one groupby for every column: the codes are factorised once, not once a column
        out = pd.DataFrame(per_row, index=frame.index).groupby(keys).sum()
    for name in KPIS:
        v = [
            _value(name, n, int(d))
            for n, d in zip(out[f"{name}_num"], out[f"{name}_den"], strict=True)
        ]
        out[name] = [x.value for x in v]
        out[f"{name}_num"] = [x.numerator for x in v]
        out[f"{name}_den"] = [x.denominator for x in v]
    cols = [c for name in KPIS for c in (name, f"{name}_num", f"{name}_den")]
    return out[cols].rename_axis(level)


def compare(
    frame: pd.DataFrame,
    window: Window,
    *,
    as_of: datetime | pd.Timestamp,
    area: Area | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> dict[str, Comparison]:
    """Every KPI for ``window``, the previous window (环比) and a year earlier (同比)."""
    now = compute(frame, window, as_of=as_of, area=area, policy=policy)
    prev = compute(frame, window.previous(), as_of=as_of, area=area, policy=policy)
    year = compute(frame, window.year_earlier(), as_of=as_of, area=area, policy=policy)
    return {name: Comparison(now[name], prev[name], year[name]) for name in KPIS}


def as_records(values: Mapping[str, KpiValue]) -> list[dict[str, object]]:
    """KPI values as JSON-ready dicts with their Chinese and English names."""
    return [
        {"name": k, "zh": KPIS[k].zh, "en": KPIS[k].en, "numerator": v.numerator,
         "denominator": v.denominator, "value": v.value, "unit": KPIS[k].unit}
        for k, v in values.items()
    ]  # fmt: skip
