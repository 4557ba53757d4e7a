"""When the demo incidents happen and how each one runs through the lifecycle.

Times are ``datetime64[ms]`` arrays in UTC (naive, converted to aware at the end); "local" is
Asia/Shanghai, UTC+8 all year (no daylight saving since 1991).
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

#: Arrays of times (``datetime64[ms]``) or days (``datetime64[D]``).
Times = npt.NDArray[np.datetime64]

LOCAL = np.timedelta64(8, "h")
DAY = np.timedelta64(1, "D")
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
NAT = np.datetime64("NaT", "ms")
#: ``None`` as a 0-d object array for :func:`numpy.where` (its stubs do not accept a bare None).
_NONE = np.array(None, dtype=object)

#: Spring Festival (春节) dates; wage disputes peak in the weeks before it.
SPRING_FESTIVALS = tuple(
    np.datetime64(d)
    for d in ("2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17",
              "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23")
)  # fmt: skip

#: Relative hourly intake by category (local hour 0-23).
HOURLY: dict[str, list[float]] = {
    "wage": [.2, .1, .1, .1, .1, .2, .4, 1, 3, 5, 5, 5, 3, 4, 5, 5, 5, 4, 2.5, 1.5, 1, .6, .3, .3],
    "neighbour": [.5, .3, .2, .1, .1, .2, .5, 1.5, 2.5, 3, 3, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5,
                  3, 3.5, 3.5, 3, 2, 1],
    "family": [.8, .5, .3, .2, .1, .1, .2, .5, 1, 1.2, 1.3, 1.3, 1.5, 1.2, 1.2, 1.3, 1.5, 1.8,
               2.5, 3.5, 4.5, 4.5, 3.5, 1.8],
    "rental": [.2, .1, .1, .1, .1, .2, .5, 1.5, 2.5, 3, 3, 2.5, 2.5, 2.5, 3, 3, 3, 3, 3, 3,
               2.5, 2, 1, .5],
    "consumer": [.1, .1, .1, .1, .1, .1, .2, .5, 1.5, 3, 3.5, 3.5, 3, 3, 3.5, 3.5, 3.5, 3, 3,
                 3, 2.5, 1.5, .8, .3],
    "noise": [2.5, 1.5, .8, .4, .2, .2, .5, 1.2, 1.5, 1.2, 1, 1, 1.5, 1.5, 1, 1, 1, 1, 1.5,
              2.5, 3.5, 4.5, 5, 4],
    "help": [1, .7, .5, .5, .5, .6, 1, 1.5, 2, 2.2, 2.2, 2, 2, 2, 2, 2, 2, 2.2, 2.2, 2.2, 2,
             1.8, 1.5, 1.2],
    "other": [.2, .1, .1, .1, .1, .2, .5, 1.5, 3, 3.5, 3.5, 3, 2.5, 3, 3.5, 3.5, 3, 2.5, 1.5,
              1, .8, .5, .3, .2],
}  # fmt: skip
#: Weekend intake relative to weekdays (mild weekly seasonality).
WEEKEND = {"wage": 0.85, "neighbour": 1.1, "family": 1.15, "rental": 1.05, "consumer": 1.1,
           "noise": 1.15, "help": 1.0, "other": 0.8}  # fmt: skip
#: Median and log-sd of on-scene -> resolved (minutes), and the longest it takes.
RESOLVE_MIN = {"wage": (2880, 0.9), "neighbour": (360, 1.0), "family": (180, 0.9),
               "rental": (1440, 0.9), "consumer": (1440, 0.8), "noise": (30, 0.7),
               "help": (45, 0.8), "other": (240, 1.0)}  # fmt: skip
RETURN_RATE = {"other": 0.15, "help": 0.04, "consumer": 0.04}


def _secs(ms: npt.ArrayLike) -> npt.NDArray[np.timedelta64]:
    """Durations in (float) milliseconds as ``timedelta64[ms]`` of whole seconds."""
    return (np.asarray(ms) // 1000 * 1000).astype(np.int64).astype("timedelta64[ms]")


@overload
def local_day(t: np.datetime64) -> np.datetime64: ...
@overload
def local_day(t: Times) -> Times: ...
def local_day(t: np.datetime64 | Times) -> np.datetime64 | Times:
    """Local (UTC+8) calendar day of UTC times, as ``datetime64[D]``."""
    return (t + LOCAL).astype("datetime64[D]")


@overload
def utc_of_local(day: np.datetime64, offset_ms: int = 0) -> np.datetime64: ...
@overload
def utc_of_local(day: Times, offset_ms: npt.ArrayLike = 0) -> Times: ...
def utc_of_local(day: np.datetime64 | Times, offset_ms: npt.ArrayLike = 0) -> np.datetime64 | Times:
    """UTC time of local midnight of ``day`` plus ``offset_ms``."""
    offset = np.asarray(offset_ms).astype(np.int64).astype("timedelta64[ms]")
    return day.astype("datetime64[ms]") - LOCAL + offset


def spring_festivals(first: np.datetime64, last: np.datetime64) -> list[np.datetime64]:
    """Spring Festival days whose surrounding weeks touch ``[first, last]``."""
    return [d for d in SPRING_FESTIVALS if first - 21 * DAY <= d <= last + 43 * DAY]


def day_rates(codes: list[str], days: Times) -> npt.NDArray[np.float64]:
    """Relative daily intake (category x day) with the festival, summer and weekly patterns."""
    dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    out = np.ones((len(codes), len(days)))
    for c, code in enumerate(codes):
        out[c] *= np.where(dow >= 5, WEEKEND[code], 1.0)
    for sf in spring_festivals(days[0], days[-1]):
        rel = (days - sf).astype(np.int64)
        pre = (rel >= -42) & (rel <= -2)
        holiday = (rel >= -1) & (rel <= 10)
        for c, code in enumerate(codes):
            if code == "wage":
                out[c] *= np.where(pre, 1.6 + 2.0 * (rel + 42) / 40, 1.0)
                out[c] *= np.where(holiday, 0.2, np.where((rel > 10) & (rel <= 20), 0.7, 1.0))
            else:
                out[c] *= np.where(holiday, 1.2 if code == "family" else 0.6, 1.0)
    noise = codes.index("noise")
    out[noise] *= np.where((month >= 6) & (month <= 8), 1.5, np.where(month <= 2, 0.8, 1.0))
    return out


def received_times(
    rng: np.random.Generator, code: str, count: int, days: Times, weight: npt.NDArray[np.float64]
) -> Times:
    """``count`` intake times (UTC) on ``days`` weighted by ``weight``, by the hourly profile."""
    h = np.asarray(HOURLY[code])
    day = days[rng.choice(len(days), size=count, p=weight / weight.sum())]
    hour = rng.choice(24, size=count, p=h / h.sum())
    ms = hour * HOUR_MS + rng.integers(0, 3600, count) * 1000
    return utc_of_local(day, ms)


def lifecycle(
    rng: np.random.Generator,
    code: npt.NDArray[np.object_],
    received: Times,
    money: npt.NDArray[np.float64],
    end: np.datetime64,
) -> dict[str, npt.NDArray[Any]]:
    """Every step after intake, truncated at ``end``; ``state`` is the state at ``end``.

    ``code`` holds category codes per row; ``money`` is the amount at stake (NaN for none).
    """
    n = len(code)
    ret_p = np.array([RETURN_RATE.get(c, 0.02) for c in code]) if n else np.zeros(0)
    returned = rng.random(n) < ret_p
    dispatched = received + _secs(rng.integers(60, 301, n) * 1000)
    hour = (received + LOCAL).astype("datetime64[h]").astype(np.int64) % 24
    fast = rng.random(n) < np.where(hour < 6, 0.90, 0.955)
    travel = np.where(
        fast,
        rng.triangular(1.5, 5.0, 10.0, n) * MINUTE_MS,
        (10 + np.minimum(rng.gamma(1.5, 6.0, n), 30.0)) * MINUTE_MS,
    )
    on_scene = dispatched + _secs(travel)
    median = np.array([RESOLVE_MIN[c][0] for c in code]) if n else np.zeros(0)
    sigma = np.array([RESOLVE_MIN[c][1] for c in code]) if n else np.zeros(0)
    handle = np.clip(median * np.exp(sigma * rng.standard_normal(n)), 10, 15 * 1440)
    resolved = on_scene + _secs(handle * MINUTE_MS)

    money_kind = np.isin(code, ["wage", "rental", "consumer"]) & np.isfinite(money)
    committed = money_kind & (rng.random(n) < 0.05) & ~returned
    due_in: npt.NDArray[np.timedelta64] = rng.integers(3, 31, n).astype("timedelta64[D]")
    due_day = local_day(resolved) + due_in
    callback_day: Times = np.where(committed, due_day, local_day(resolved))
    callback_day = callback_day + DAY
    office = (9 * 60 + rng.uniform(0, 510, n)) * MINUTE_MS  # 09:00-17:30
    callback = utc_of_local(callback_day, office // 1000 * 1000)
    kept = ~(committed & (rng.random(n) < 0.12))
    sat = rng.choice(3, size=n, p=[0.86, 0.11, 0.03])
    sat = np.where(~kept, 2, np.where(committed & (sat == 2), 0, sat))
    reopened = sat == 2
    redo_days = np.where(committed, rng.uniform(0.5, 3.0, n), rng.uniform(1.0, 5.0, n))
    closed = callback + _secs(
        np.where(reopened, redo_days * 1440 * MINUTE_MS, rng.uniform(1, 30, n) * MINUTE_MS)
    )

    steps = {"dispatched_at": dispatched, "on_scene_at": on_scene, "resolved_at": resolved,
             "callback_at": callback, "closed_at": closed}  # fmt: skip
    reached = ~returned
    state = np.where(returned, "returned", "received").astype(object)
    names = {"dispatched_at": "dispatched", "on_scene_at": "on_scene", "resolved_at": "resolved",
             "callback_at": "callback_due", "closed_at": "closed"}  # fmt: skip
    for key, t in steps.items():
        reached = reached & (t < end)
        t[~reached] = NAT
        state[reached] = names[key]
    called = ~np.isnat(callback)
    due_now = ~called & ~np.isnat(resolved) & (utc_of_local(callback_day) <= end)
    state[due_now] = "callback_due"
    state[called & np.isnat(closed) & reopened] = "reopened"
    satisfaction = np.array(["满意", "基本满意", "不满意"], dtype=object)[sat]
    kept_out = np.where(committed & called, kept, _NONE).astype(object)
    return {
        **steps,
        "state": state,
        "returned": returned,
        "satisfaction": np.where(called, satisfaction, _NONE),
        "commitment_amount": np.where(committed, money, np.nan),
        "commitment_due": np.where(committed, utc_of_local(due_day), NAT),
        "commitment_kept": kept_out,
        "reopened": called & reopened,
    }
