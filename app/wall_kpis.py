"""The wall's KPI tiles: today / this week / this month of each KPI of :mod:`incidents.kpi`,
with 环比 and 同比 arrows (the values the tiles show; :mod:`app.components.wall_panels` draws
them)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from app.wall_data import WallFilters, filtered, pct, wan
from incidents import kpi
from incidents._time import LOCAL_TZ

#: Tiles in order: (key, label, KPI name, which part, format). The part ``at`` counts the
#: incidents whose time column ``name`` falls in the period: 派遣 is every incident first
#: dispatched in it (the arrival rate's denominator leaves out those dispatched under 10
#: minutes ago without an arrival, and those returned before one).
TILES: tuple[tuple[str, str, str, str, str], ...] = (
    ("received", "受理", "repeat", "den", "count"),
    ("dispatched", "派遣", "dispatched_at", "at", "count"),
    ("arrival", "十分钟到场率", "arrival_10min", "value", "rate"),
    ("resolved", "处置完毕", "reopen", "den", "count"),
    ("satisfaction", "满意率", "satisfaction", "value", "rate"),
    ("open", "在办", "open", "value", "count"),
    ("overdue", "超期督办", "overdue", "value", "count"),
    ("repeat", "重复报警", "repeat", "num", "count"),
)
PERIODS = (("day", "今日"), ("week", "本周"), ("month", "本月"))


def _part(v: kpi.KpiValue, part: str) -> float | None:
    if part == "den":
        return v.denominator
    if part == "num":
        return v.numerator
    return v.value


def _at(frame: pd.DataFrame, column: str, w: kpi.Window) -> int:
    """How many rows have ``column`` in the window ``w``."""
    t = frame[column]
    return int(((t >= w.start) & (t < w.end)).sum())


def _window(unit: str, now: pd.Timestamp) -> kpi.Window:
    """Today, this week or this month so far: their 环比 and 同比 are the same stretch of the
    period before and of a year earlier (at 00:46 today's calls are compared with yesterday's
    until 00:46, not with all of yesterday's, which read as a fall of 100% every night)."""
    local = now.tz_convert(LOCAL_TZ)
    if unit == "day":
        window = kpi.Window.day(local.date())
    elif unit == "week":
        window = kpi.Window.week(local.date())
    else:
        window = kpi.Window.month(local.year, local.month)
    return window.to_date(now)


def kpi_tiles(frame: pd.DataFrame, now: pd.Timestamp, f: WallFilters) -> list[dict[str, Any]]:
    """Tile values for today / this week / this month, with 环比 and 同比 of today's value.

    Computed by :mod:`incidents.kpi` over the cached frame restricted to the filters' codes
    (not their window: the tiles have their own periods).
    """
    frame = frame.loc[frame["received_at"] <= now]  # nothing "received" after the clock
    if f.category or f.source or f.village:
        codes = WallFilters("custom", "1970-01-01", None, f.category, f.source, f.village)
        frame = frame.loc[frame.index.isin(filtered(frame, codes, now).index)]
    windows = {u: _window(u, now) for u, _ in PERIODS}
    periods = {u: kpi.compare(frame, w, as_of=now) for u, w in windows.items()}
    tiles = []
    for key, label, name, part, fmt in TILES:
        text = pct if fmt == "rate" else wan
        values: dict[str, float | None]
        prev: float | None
        year: float | None
        if part == "at":
            values = {u: _at(frame, name, w) for u, w in windows.items()}
            day_window = windows["day"]
            prev = _at(frame, name, day_window.previous())
            year = _at(frame, name, day_window.year_earlier())
        else:
            values = {u: _part(periods[u][name].current, part) for u, _ in PERIODS}
            day = periods["day"][name]
            prev, year = _part(day.previous, part), _part(day.year_earlier, part)
        tiles.append(
            {
                "key": key,
                "label": label,
                "value": text(values["day"]),
                "week": text(values["week"]),
                "month": text(values["month"]),
                "mom": _trend(values["day"], prev, fmt),
                "yoy": _trend(values["day"], year, fmt),
                "bad_up": key in ("open", "overdue", "repeat"),
                "fmt": fmt,
                "raw": values,  # unformatted, for the page's language
            }
        )
    return tiles


def _trend(now: float | None, before: float | None, fmt: str) -> tuple[str, str]:
    """(arrow, text) of a change: ``("up", "+12%")`` or ``("flat", "—")``."""
    if now is None or before is None:
        return "flat", "—"
    if fmt == "rate":
        diff = (now - before) * 100
        return ("up" if diff > 0 else "down" if diff < 0 else "flat"), f"{diff:+.1f}pt"
    if before == 0:
        return ("up" if now > 0 else "flat"), ("新增" if now > 0 else "0%")
    change = (now - before) / before * 100
    return ("up" if change > 0 else "down" if change < 0 else "flat"), f"{change:+.0f}%"
