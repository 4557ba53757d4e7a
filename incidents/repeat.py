"""Repeat calls (重复报警): a new incident about a matter already open or recently closed.

A row ``n`` repeats an earlier row ``c`` when all of these hold (:class:`RepeatPolicy`):

- ``c`` was received before ``n`` (equal times: the earlier row of the frame) and had not been
  returned (退回) by then;
- they are within ``radius_m`` metres of each other (rows without coordinates never link);
- they share the caller's phone (normalised digits) or the category;
- ``c`` was open when ``n`` came in (not closed, or closed after it), or was closed at most
  ``days`` days before it.

Of several candidates the most recently received wins (then the nearest). Vectorised: candidates
come from the same phone and from the same category in the neighbouring ``radius_m`` grid cells,
walked back in time only until the winner is certain (never all pairs, see :func:`_scan`).
"""

from __future__ import annotations

from collections.abc import Callable
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


def _coords(frame: pd.DataFrame, radius_m: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Metric (x, y) per row and whether they are lon/lat (then distances use haversine).

    From lon/lat, (x, y) only place rows in the ``radius_m`` grid cells, and must never put
    two rows within ``radius_m`` of each other more than a cell apart: ``y`` is the
    meridian arc (never more than the distance), ``x`` the arc of longitude on the parallel
    farthest from the equator that a path of ``radius_m`` from any row reaches, where a
    degree of longitude is shortest (so never more than the distance either). A frame of one
    town loses nothing by it; one spanning many degrees of latitude has wider cells (in
    metres) in the south rather than pairs missed in the north."""
    if "x" in frame and "y" in frame:
        return frame["x"].to_numpy(float), frame["y"].to_numpy(float), False
    if "lon" in frame and "lat" in frame:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        finite = np.abs(lat[np.isfinite(lat)])
        far = np.radians(finite.max()) + radius_m / EARTH_RADIUS_M if finite.size else 0.0
        x = np.radians(lon) * EARTH_RADIUS_M * np.cos(min(far, np.pi / 2))
        return x, np.radians(lat) * EARTH_RADIUS_M, True
    raise RepeatInputError("缺少坐标列 / the frame needs x, y (metres) or lon, lat (WGS84)")


def phone_keys(phones: pd.Series) -> np.ndarray:
    """Each phone as repeat links compare it (:func:`~incidents.masking.normalise_phone`; ""
    for none), each distinct value normalised once."""
    raw, distinct = pd.factorize(phones.to_numpy(object), use_na_sentinel=True)
    keys = np.array([normalise_phone(str(v)) for v in distinct] + [""], dtype=object)
    return keys[raw]  # code -1 (no phone): the last, ""


def _phone_codes(frame: pd.DataFrame) -> np.ndarray:
    """Per row, a code shared by the rows with the same normalised phone; -1 without one
    (from ``phone_key`` when the frame has it: phones normalised already)."""
    keys = frame["phone_key"] if "phone_key" in frame else phone_keys(frame["caller_phone"])
    codes, distinct = pd.factorize(keys, use_na_sentinel=True)
    empty = np.flatnonzero(np.asarray(distinct == ""))
    return np.where(codes == empty[0], -1, codes) if empty.size else codes


def _cell_keys(
    x: np.ndarray, y: np.ndarray, group: np.ndarray, radius_m: float
) -> tuple[np.ndarray, int]:
    """One key per (group, ``radius_m`` grid cell) of finite points, and ``h``: the key of a
    neighbouring cell is the key plus ``dx * h + dy`` (dx, dy in -1, 0, 1)."""
    cx = np.floor(x / radius_m).astype(np.int64)
    cy = np.floor(y / radius_m).astype(np.int64)
    cx, cy = cx - cx.min() + 1, cy - cy.min() + 1  # neighbours stay >= 0
    w, h = int(cx.max()) + 2, int(cy.max()) + 2
    return (group.astype(np.int64) * w + cx) * h + cy, h


def _around(keys: np.ndarray, h: int) -> np.ndarray:
    """The keys of the cells around (and at) ``keys``, each once."""
    return np.unique(
        np.concatenate([keys + (dx * h + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
    )


Valid = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _scan(
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    rank: np.ndarray,
    t: np.ndarray,
    valid: Valid,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate pairs (new row, earlier row, distance) that win on time: each new row's
    most recent valid candidates (several on a tie), found group by group.

    Each group is ``(member rows, their keys, asking rows, the key each asks for)``. Hand-written
    because a merge on the keys pairs every call with every earlier call of the same key — in a
    hotspot that is millions of pairs, of which only the most recent valid one counts. Instead,
    each asking row walks back through its key's members in (time, row) order, a window at a
    time (vectorised over all askers), and stops once the next member is older than the best
    valid candidate found so far in any group: an older one can never win. The askers of a
    group come in (key, rank) order, so each binary search starts where the one before ended
    (numpy narrows a search by the previous key: ~5× faster than in random order).
    """
    best = np.full(len(t), np.iinfo(np.int64).min, dtype=np.int64)
    out_n, out_c, out_d = [], [], []
    scans = []
    n = len(rank)
    sorted_by: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for members, keys, askers, wanted in groups:
        # the neighbouring cells' groups share members and keys: sorted once for all of them
        memo = (id(members), id(keys))
        if memo not in sorted_by:
            uniq, inverse = np.unique(keys, return_inverse=True)
            comp = inverse.astype(np.int64) * n + rank[members]
            order = np.argsort(comp, kind="stable")
            sorted_by[memo] = (uniq, comp[order], members[order])
        uniq, comp, sorted_rows = sorted_by[memo]
        slot = np.searchsorted(uniq, wanted).clip(0, max(len(uniq) - 1, 0))
        found = (uniq[slot] == wanted) if len(uniq) else np.zeros(len(wanted), bool)
        base = slot[found].astype(np.int64) * n
        asking = askers[found]
        top = np.searchsorted(comp, base + rank[asking])  # members before the asker
        avail = top - np.searchsorted(comp, base)
        scans.append((sorted_rows, asking, top, avail, np.zeros(len(asking), np.int64)))
    window = 4
    while scans:
        pending = []
        for sorted_rows, asking, top, avail, done in scans:
            take = np.minimum(window, avail - done)
            q = np.repeat(np.arange(len(asking)), take)
            step = np.arange(q.size) - np.repeat(np.cumsum(take) - take, take)
            rn, rc = asking[q], sorted_rows[top[q] - 1 - done[q] - step]
            ok, dist = valid(rn, rc)
            rn, rc = rn[ok], rc[ok]
            out_n.append(rn)
            out_c.append(rc)
            out_d.append(dist[ok])
            np.maximum.at(best, rn, t[rc])
            done = done + take
            more = done < avail
            after = sorted_rows[np.where(more, top - 1 - done, 0)] if len(top) else top
            go = more & (t[after] >= best[asking])
            if go.any():
                pending.append((sorted_rows, asking[go], top[go], avail[go], done[go]))
        scans, window = pending, window * 2
    if not out_n:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    rn, rc, dist = np.concatenate(out_n), np.concatenate(out_c), np.concatenate(out_d)
    won = t[rc] == best[rn]  # the older ones found before the best was known can never win
    return rn[won], rc[won], dist[won]


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
        ``lon``/``lat``), and optionally ``caller_phone`` (or ``phone_key``: the phone
        normalised already, as :func:`~incidents.masking.normalise_phone` gives it),
        ``closed_at``, ``returned_at`` or ``state`` (``returned`` rows without a
        ``returned_at`` never link).
    policy : RepeatPolicy
        Radius, days and which keys count.
    only : boolean mask, optional
        Rows to link (e.g. the new incidents of a batch); all rows can still be linked *to*.

    Returns
    -------
    Series of object on ``frame.index``: the linked id or None.
    """
    values = ids_at(frame, repeated_rows(frame, policy, only=only))
    return pd.Series(values, index=frame.index, dtype=object)


def ids_at(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The ``id`` of ``frame`` at each position of ``rows`` (None at -1), as objects."""
    out = np.full(len(rows), None, dtype=object)
    out[rows >= 0] = frame["id"].to_numpy(object)[rows[rows >= 0]]
    return out


def repeated_rows(
    frame: pd.DataFrame,
    policy: RepeatPolicy | None = None,
    *,
    only: pd.Series | np.ndarray | None = None,
) -> np.ndarray:
    """:func:`link_repeats` as the position in ``frame`` of the row each row repeats (-1:
    none)."""
    policy = policy or RepeatPolicy()
    missing = [c for c in ("id", "received_at", "category") if c not in frame]
    if missing:
        raise RepeatInputError(f"缺少列 / the frame lacks columns: {', '.join(missing)}")
    n = len(frame)
    result = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return result
    x, y, geographic = _coords(frame, policy.radius_m)
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

    # (received_at, row) order: a candidate must come strictly before the new row in it
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), t))] = np.arange(n)
    days_ns = int(policy.days * 86_400e9)
    if geographic:
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)

    def valid(rn: np.ndarray, rc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = (returned[rc] > t[rn]) & ((closed[rc] > t[rn]) | (t[rn] - closed[rc] <= days_ns))
        if geographic:
            dist = haversine_m(lon[rn], lat[rn], lon[rc], lat[rc])
        else:
            dist = np.hypot(x[rn] - x[rc], y[rn] - y[rc])
        return ok & (dist <= policy.radius_m), dist

    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    if policy.same_phone and ("caller_phone" in frame or "phone_key" in frame):
        code = _phone_codes(frame)
        member = located & (code >= 0)
        asks = np.flatnonzero(member & wanted)
        asks = asks[np.lexsort((rank[asks], code[asks]))]  # see _scan: askers in key order
        groups.append((np.flatnonzero(member), code[member], asks, code[asks]))
    if policy.same_category:
        cat = pd.factorize(frame["category"], use_na_sentinel=True)[0]
        member = located & (cat >= 0)
        rows = np.flatnonzero(member)
        if rows.size:
            key, h = _cell_keys(x[rows], y[rows], cat[rows], policy.radius_m)
            asks = np.flatnonzero(np.isin(rows, left))
            asks = asks[np.lexsort((rank[rows[asks]], key[asks]))]  # in key order, see _scan
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):  # a neighbour's key: the asker's plus a constant
                    groups.append((rows, key, rows[asks], key[asks] + (dx * h + dy)))
    if not groups:
        return result
    rn, rc, dist = _scan(groups, rank, t, valid)
    if rn.size == 0:
        return result
    # all equally recent: the nearest first, then the earlier row
    order = np.lexsort((rc, dist, rn))
    rn, rc = rn[order], rc[order]
    first = np.r_[True, rn[1:] != rn[:-1]]
    result[rn[first]] = rc[first]
    return result


def reach(
    candidates: pd.DataFrame, new: pd.DataFrame, policy: RepeatPolicy | None = None
) -> np.ndarray:
    """Which rows of ``candidates`` some row of ``new`` may repeat, by place and keys alone.

    A candidate is kept when it lies in a ``radius_m`` grid cell next to a new row's and shares
    its normalised phone or its category (times, states and exact distances are left to
    :func:`link_repeats`). Never a pair missed: linking ``new`` against the kept candidates
    (in their order) gives the links it gets against all of them.

    Parameters
    ----------
    candidates, new : DataFrame
        As :func:`link_repeats` takes them (``x``/``y`` in both, else ``lon``/``lat``).
    policy : RepeatPolicy
        Radius and which keys count.

    Returns
    -------
    ndarray of bool, one per row of ``candidates``.
    """
    policy = policy or RepeatPolicy()
    m = len(candidates)
    out = np.zeros(m, dtype=bool)
    if m == 0 or len(new) == 0:
        return out
    metric = all("x" in f and "y" in f for f in (candidates, new))
    cols = ["x", "y"] if metric else ["lon", "lat"]
    if any(c not in f for f in (candidates, new) for c in cols):
        raise RepeatInputError("缺少坐标列 / the frame needs x, y (metres) or lon, lat (WGS84)")
    both = pd.concat([candidates[cols], new[cols]], ignore_index=True)
    x, y, _ = _coords(both, policy.radius_m)
    rows = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    mine = rows >= m
    if not mine.any() or mine.all():
        return out
    # first by place alone (numbers only), then the keys of the few near a new row
    key, h = _cell_keys(x[rows], y[rows], np.zeros(rows.size, np.int64), policy.radius_m)
    near = rows[~mine][np.isin(key[~mine], _around(key[mine], h))]
    if near.size == 0:
        return out
    asking = rows[mine] - m
    near_new = np.r_[np.zeros(near.size, bool), np.ones(asking.size, bool)]
    keep = np.zeros(near.size, dtype=bool)
    by = next((c for c in ("phone_key", "caller_phone") if c in candidates and c in new), None)
    if policy.same_phone and by is not None:
        phones = pd.concat(
            [candidates[by].iloc[near], new[by].iloc[asking]], ignore_index=True
        ).to_frame(by)
        code = _phone_codes(phones)
        asked = code[near_new]
        keep |= np.isin(code[~near_new], asked[asked >= 0]) & (code[~near_new] >= 0)
    if policy.same_category:
        cats = pd.concat(
            [candidates["category"].iloc[near], new["category"].iloc[asking]], ignore_index=True
        )
        cat = pd.factorize(cats, use_na_sentinel=True)[0]
        known = np.flatnonzero(cat >= 0)
        is_new = near_new[known]
        if is_new.any() and not is_new.all():
            at = np.r_[near, asking + m][known]
            ck, ch = _cell_keys(x[at], y[at], cat[known], policy.radius_m)
            hit = np.isin(ck[~is_new], _around(ck[is_new], ch))
            keep[known[~is_new][hit]] = True
    out[near[keep]] = True
    return out


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
