"""The wall's charts, from already filtered frames: category mix, 24-hour profile, 30-day trend
and the share involving migrants (pure; :func:`app.wall_view.charts` caches them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.wall_data import WallFilters
from incidents._time import LOCAL_TZ
from layers.incidents_layer import CATEGORIES

#: Days of the trend chart.
TREND_DAYS = 30
#: Categories shown by name in the category mix; the rest are summed as 其他.
TOP_CATEGORIES = 6


def trend_filters(f: WallFilters, now: pd.Timestamp) -> WallFilters:
    """The filters of the trend chart: ``f``'s codes over the :data:`TREND_DAYS` local days
    ending on the last day of ``f``'s window."""
    end = (f.bounds(now)[1] - pd.Timedelta(microseconds=1)).tz_convert(LOCAL_TZ).normalize()
    start = end - pd.Timedelta(days=TREND_DAYS - 1)
    return WallFilters(
        "custom", f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}", f.category, f.source, f.village
    )


def chart_data(
    window: pd.DataFrame, trend: pd.DataFrame, last_day: str, today: str | None = None
) -> dict[str, Any]:
    """What the four charts show, from already filtered frames (pure).

    ``window`` is the incidents of the filters' window: the category mix (counts, descending,
    beyond :data:`TOP_CATEGORIES` summed as 其他), the 24-hour profile (local hour received) and
    the share involving migrants (``None`` with no incidents). ``trend`` is those of the
    :data:`TREND_DAYS` local days ending on ``last_day`` (``YYYY-MM-DD``): one count a day;
    ``partial`` says the last of them is ``today`` (local), a day not over yet.
    """
    counts = window["category"].value_counts()
    ranked = [(str(c), CATEGORIES.get(str(c), str(c)), int(n)) for c, n in counts.items() if n]
    ranked.sort(key=lambda r: (-r[2], r[0] == "other", r[0]))
    if len(ranked) > TOP_CATEGORIES:
        keep = [r for r in ranked if r[0] != "other"][: TOP_CATEGORIES - 1]
        rest = sum(n for _, _, n in ranked) - sum(n for _, _, n in keep)
        ranked = [*keep, ("other", CATEGORIES["other"], rest)]
    local = window["received_at"].dt.tz_convert(LOCAL_TZ)
    hours = np.bincount(local.dt.hour.to_numpy(int), minlength=24)[:24]
    end = pd.Timestamp(last_day)
    days = pd.date_range(end - pd.Timedelta(days=TREND_DAYS - 1), end, freq="D")
    trend_days = trend["received_at"].dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m-%d")
    per_day = trend_days.value_counts()
    migrant = (
        window["involves_migrant"].astype("boolean").fillna(False).astype(bool)
        if "involves_migrant" in window
        else pd.Series(False, index=window.index)
    )
    total, involved = len(window), int(migrant.sum())
    return {
        "categories": ranked,
        "hours": [int(n) for n in hours],
        "days": [(f"{d:%Y-%m-%d}", int(per_day.get(f"{d:%Y-%m-%d}", 0))) for d in days],
        "partial": today is not None and last_day == today,
        "migrant": {
            "n": involved,
            "total": total,
            "share": involved / total if total else None,
        },
    }
