"""Repeat calls (重复报警): a new incident about a matter already open or recently closed.

A row ``n`` repeats an earlier row ``c`` when all of these hold (:class:`RepeatPolicy`):

- ``c`` was received before ``n`` (equal times: the earlier row of the frame) and had not been
  returned (退回) by then;
- they are within ``radius_m`` metres of each other (rows without coordinates never link);
- they share the caller's phone (normalised digits) or the category;
- ``c`` was open when ``n`` came in (not closed, or closed after it), or was closed at most
  ``days`` days before it.

Of several candidates the most recently received wins (then the nearest). Vectorised: pairs come
from a merge on phone and on (category, ``radius_m`` grid cell), never from all pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from incidents.masking import normalise_phone

EARTH_RADIUS_M = 6_371_008.8
_NEVER = np.iinfo(np.int64).max


class RepeatInputError(ValueError):
    """The incidents frame lacks what repeat detection needs (message bilingual)."""


@dataclass(frozen=True)
class RepeatPolicy:
    """How near in space and time a new call must be to repeat an earlier one."""

    radius_m: float = 200.0
    days: float = 7.0
    same_phone: bool = True
    same_category: bool = True

    def __post_init__(self) -> None:
        if not self.radius_m > 0 or not self.days >= 0:
            raise ValueError("半径须大于 0、天数不小于 0 / radius_m must be > 0 and days >= 0")


def haversine_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres between WGS84 points (degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def _ns(values: pd.Series, missing: int) -> np.ndarray:
    t = pd.to_datetime(values, utc=True)
    out = t.to_numpy("datetime64[ns]").astype(np.int64)
    return np.where(t.isna().to_numpy(), missing, out)


def _coords(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, bool]:
    """Metric (x, y) per row and whether they are lon/lat (then distances use haversine)."""
    if "x" in frame and "y" in frame:
        return frame["x"].to_numpy(float), frame["y"].to_numpy(float), False
    if "lon" in frame and "lat" in frame:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        lat0 = np.nanmean(lat) if np.isfinite(lat).any() else 0.0
        x = np.radians(lon) * EARTH_RADIUS_M * np.cos(np.radians(lat0))
        return x, np.radians(lat) * EARTH_RADIUS_M, True
    raise RepeatInputError("缺少坐标列 / the frame needs x, y (metres) or lon, lat (WGS84)")


def _pairs_on(keys: pd.DataFrame, left: np.ndarray, on: list[str]) -> pd.DataFrame:
    """Index pairs (n, c) of rows sharing ``on`` with ``n`` among ``left``."""
    new = keys.iloc[left]
    merged = new.merge(keys, on=on, suffixes=("_n", "_c"))
    return merged[["row_n", "row_c"]]


def link_repeats(
    frame: pd.DataFrame,
    policy: RepeatPolicy | None = None,
    *,
    only: pd.Series | np.ndarray | None = None,
) -> pd.Series:
    """For each row, the id of the earlier incident it repeats, else None.

    Parameters
    ----------
    frame : DataFrame
        Columns ``id``, ``received_at``, ``category``, coordinates (``x``/``y`` in metres or
        ``lon``/``lat``), and optionally ``caller_phone``, ``closed_at``, ``returned_at`` or
        ``state`` (``returned`` rows without a ``returned_at`` never link).
    policy : RepeatPolicy
        Radius, days and which keys count.
    only : boolean mask, optional
        Rows to link (e.g. the new incidents of a batch); all rows can still be linked *to*.

    Returns
    -------
    Series of object on ``frame.index``: the linked id or None.
    """
    policy = policy or RepeatPolicy()
    missing = [c for c in ("id", "received_at", "category") if c not in frame]
    if missing:
        raise RepeatInputError(f"缺少列 / the frame lacks columns: {', '.join(missing)}")
    n = len(frame)
    result = pd.Series([None] * n, index=frame.index, dtype=object)
    if n == 0:
        return result
    x, y, geographic = _coords(frame)
    t = _ns(frame["received_at"], _NEVER)
    closed = _ns(frame["closed_at"], _NEVER) if "closed_at" in frame else np.full(n, _NEVER)
    returned = _ns(frame["returned_at"], _NEVER) if "returned_at" in frame else np.full(n, _NEVER)
    if "state" in frame:  # returned, time unknown: returned from the start
        no_time = (frame["state"].to_numpy(object) == "returned") & (returned == _NEVER)
        returned = np.where(no_time, t, returned)
    located = np.isfinite(x) & np.isfinite(y) & (t != _NEVER)
    wanted = located if only is None else located & np.asarray(only, dtype=bool)
    left = np.flatnonzero(wanted)
    if left.size == 0:
        return result

    keys = pd.DataFrame({"row": np.arange(n)})
    pairs = []
    if policy.same_phone and "caller_phone" in frame:
        phones = frame["caller_phone"].to_numpy(object)
        known = pd.notna(phones)
        norm = np.full(n, None, dtype=object)
        norm[known] = [normalise_phone(str(v)) or None for v in phones[known]]
        keys["phone"] = norm
        ok = keys[keys["phone"].notna().to_numpy() & located]
        pairs.append(_pairs_on(ok, np.flatnonzero(np.isin(ok["row"], left)), ["phone"]))
    if policy.same_category:
        cell = policy.radius_m
        keys["cat"] = frame["category"].astype(object).to_numpy()
        keys["cx"] = np.floor(np.where(located, x, 0) / cell).astype(np.int64)
        keys["cy"] = np.floor(np.where(located, y, 0) / cell).astype(np.int64)
        ok = keys[located & keys["cat"].notna().to_numpy()][["row", "cat", "cx", "cy"]]
        new = ok[np.isin(ok["row"], left)]
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                shifted = new.assign(cx=new["cx"] + dx, cy=new["cy"] + dy)
                m = shifted.merge(ok, on=["cat", "cx", "cy"], suffixes=("_n", "_c"))
                pairs.append(m[["row_n", "row_c"]])
    if not pairs:
        return result
    p = pd.concat(pairs, ignore_index=True).drop_duplicates()
    rn, rc = p["row_n"].to_numpy(np.int64), p["row_c"].to_numpy(np.int64)

    earlier = (t[rc] < t[rn]) | ((t[rc] == t[rn]) & (rc < rn))
    not_returned = returned[rc] > t[rn]
    open_then = closed[rc] > t[rn]
    recent = (t[rn] - closed[rc]) <= int(policy.days * 86_400e9)
    keep = earlier & not_returned & (open_then | recent)
    rn, rc = rn[keep], rc[keep]
    if geographic:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        dist = haversine_m(lon[rn], lat[rn], lon[rc], lat[rc])
    else:
        dist = np.hypot(x[rn] - x[rc], y[rn] - y[rc])
    near = dist <= policy.radius_m
    rn, rc, dist = rn[near], rc[near], dist[near]
    if rn.size == 0:
        return result
    # most recent candidate first, then the nearest, then the earlier row
    order = np.lexsort((rc, dist, -t[rc], rn))
    rn, rc = rn[order], rc[order]
    first = np.r_[True, rn[1:] != rn[:-1]]
    ids = frame["id"].to_numpy(object)
    values = np.full(n, None, dtype=object)
    values[rn[first]] = ids[rc[first]]
    return pd.Series(values, index=frame.index, dtype=object)


def repeat_of(
    new: pd.DataFrame, existing: pd.DataFrame, policy: RepeatPolicy | None = None
) -> pd.Series:
    """Links for the rows of ``new`` against ``existing`` and each other (index of ``new``)."""
    both = pd.concat([existing, new], ignore_index=True)
    mask = np.r_[np.zeros(len(existing), bool), np.ones(len(new), bool)]
    linked = link_repeats(both, policy, only=mask)
    return pd.Series(linked.to_numpy(object)[len(existing) :], index=new.index, dtype=object)


def repeat_counts(repeat_of_ids: pd.Series) -> pd.Series:
    """How many repeat calls each incident received (direct links), by incident id."""
    return repeat_of_ids.dropna().value_counts().rename("repeats")
