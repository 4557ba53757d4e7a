"""What the map wall shows, from store results: filters, points, KPI tiles, feed, drawer.

Everything here is a function of the store and a :class:`WallFilters` value; the page's callbacks
call one of these and render the result. The wall never sees personal data: every store call
uses :data:`SCOPE` (``personal_data=False``), so names and phones arrive masked.

Caching: the incidents of the last ~13 months are read once per *cut* (the history version a page
is built against: the current hour, advanced by the periodic refresh) and kept per process,
keyed by ``(store url, cut)``; nothing mutable is shared between requests, so several workers
agree.
Filters are applied on the server to that cached frame; incidents that changed since the cut
travel as small deltas (:func:`delta`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from incidents import kpi, sla
from incidents._time import LOCAL_TZ
from incidents.frame import prepare
from incidents.model import STATE_ZH, State
from layers.incidents_layer import CATEGORIES
from store import open_store
from store.base import IncidentQuery, IncidentStore, Scope

log = logging.getLogger(__name__)

#: Who the wall is, for the store: everything, never personal data.
SCOPE = Scope.everything(actor="wall")
#: Time windows of the filter bar: code -> (label, days; 0 is "since local midnight").
WINDOWS: dict[str, tuple[str, int]] = {
    "today": ("今日", 0),
    "7d": ("近7天", 7),
    "30d": ("近30天", 30),
    "year": ("近一年", 365),
}
DEFAULT_WINDOW = "7d"
SOURCES: dict[str, str] = {
    "110": "110转办",
    "12345": "12345工单",
    "patrol": "网格上报",
    "walk_in": "来访",
    "callback": "回访",
    "open311": "网上诉求",
}
#: State order of the colour legend (index = ``s`` in the points payload).
STATES: tuple[str, ...] = tuple(s.value for s in State)
OPEN_STATES = tuple(s.value for s in State if s.is_open)
#: How far back the cached frame reaches: a year plus a month, for 同比 of this month.
HISTORY_DAYS = 400
#: Width of a cut (the history layer's version) in seconds: the browser reloads its history
#: layer once per cut; in between, changes arrive as deltas.
CUT_SECONDS = 3600
#: Deltas look this far behind the cut, for transfers that arrive with an older time.
LOOKBACK = pd.Timedelta(minutes=30)


@dataclass(frozen=True)
class WallFilters:
    """The filter bar: time window (or custom dates) and category / source / village codes."""

    window: str = "7d"
    start: str | None = None  # custom window, local dates YYYY-MM-DD (end inclusive)
    end: str | None = None
    category: str | None = None
    source: str | None = None
    village: str | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> WallFilters:
        """Filters from URL query arguments or component values (unknown values dropped)."""

        def pick(key: str) -> str | None:
            value = args.get(key)
            return str(value) if value not in (None, "", "all") else None

        window = pick("window") or DEFAULT_WINDOW
        if window not in WINDOWS and window != "custom":
            window = DEFAULT_WINDOW
        start, end = _day(pick("start")), _day(pick("end"))
        if window == "custom" and start is None:
            window = DEFAULT_WINDOW  # as an unknown window: the default, not an error page
        return cls(
            window,
            start,
            end if start is not None and end is not None and end >= start else None,
            pick("category"),
            pick("source"),
            pick("village"),
        )

    def as_args(self) -> dict[str, str]:
        """Non-empty fields as URL query arguments."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def bounds(self, now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``[start, end)`` of the window, aware UTC."""
        local = now.tz_convert(LOCAL_TZ)
        if self.window == "custom" and self.start:
            start = pd.Timestamp(self.start).tz_localize(LOCAL_TZ)
            end_day = pd.Timestamp(self.end or self.start).tz_localize(LOCAL_TZ)
            return start.tz_convert("UTC"), (end_day + pd.Timedelta(days=1)).tz_convert("UTC")
        days = WINDOWS.get(self.window, WINDOWS["today"])[1]
        start = local.normalize() if days == 0 else local - pd.Timedelta(days=days)
        return start.tz_convert("UTC"), now.tz_convert("UTC")


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(text: str | None) -> str | None:
    """``text`` when it is a calendar date YYYY-MM-DD (a custom window's end), else None."""
    if text is None or not _DAY.fullmatch(text):
        return None
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text


def now_utc() -> pd.Timestamp:
    """The wall's clock (UTC)."""
    return pd.Timestamp.now(tz="UTC")


def cut_of(now: pd.Timestamp) -> str:
    """The history version for ``now``: the start of its :data:`CUT_SECONDS` slot, ISO UTC."""
    seconds = int(now.timestamp()) // CUT_SECONDS * CUT_SECONDS
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


def parse_cut(text: str | None, now: pd.Timestamp) -> str:
    """A cut from a URL: aligned to :data:`CUT_SECONDS`, not in the future, naive means UTC
    (a ``+`` in a query string decodes to a space); else the current cut."""
    try:
        ts = pd.Timestamp(str(text).strip().replace(" ", "+"))
    except ValueError:
        return cut_of(now)
    if pd.isna(ts):
        return cut_of(now)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts > now or int(ts.timestamp()) % CUT_SECONDS:
        return cut_of(now)
    return ts.isoformat()


@lru_cache(maxsize=4)
def _store(url: str) -> IncidentStore:
    return open_store(url)  # type: ignore[return-value]


def history_frame(url: str, cut: str) -> pd.DataFrame:
    """The KPI frame (plus lon, lat, source, village, migrant flag) of the incidents received
    in the :data:`HISTORY_DAYS` before ``cut``, read once per (store, cut): concurrent first
    requests wait for one read instead of each reading."""
    with _HISTORY_LOCK:
        return _history_frame(url, cut)


_HISTORY_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _history_frame(url: str, cut: str) -> pd.DataFrame:
    end = pd.Timestamp(cut)
    query = IncidentQuery(received_from=(end - pd.Timedelta(days=HISTORY_DAYS)).to_pydatetime())
    found = _store(url).query_incidents(query, SCOPE)
    return _kpi_frame(found)


def warm(url: str) -> None:
    """Read the current cut's history into the cache (run at start-up, in the background)."""
    try:
        history_frame(url, cut_of(now_utc()))
    except Exception:  # a store without incidents yet: the first request will say so
        log.warning("大屏缓存预热失败 / wall cache warm-up failed", exc_info=True)


def _kpi_frame(found: Any) -> pd.DataFrame:
    geom = found.geometry
    flat = pd.DataFrame(found.drop(columns="geometry"))
    flat["lon"] = np.round(geom.x.to_numpy(float), 6)
    flat["lat"] = np.round(geom.y.to_numpy(float), 6)
    return prepare(flat).reset_index(drop=True)


def filtered(
    frame: pd.DataFrame, f: WallFilters, now: pd.Timestamp, *, window: bool = True
) -> pd.DataFrame:
    """Rows of ``frame`` within the filters' window (unless not ``window``) and codes
    (server-side filtering)."""
    keep = np.ones(len(frame), dtype=bool)
    if window:
        start, end = f.bounds(now)
        keep = ((frame["received_at"] >= start) & (frame["received_at"] < end)).to_numpy(bool)
    for col, value in (("category", f.category), ("source", f.source)):
        if value:
            keep = keep & (frame[col] == value).to_numpy(bool)
    if f.village:
        keep = keep & (frame["village_code"] == f.village).to_numpy(bool)
    return frame.loc[keep]


def overdue_flags(frame: pd.DataFrame, now: pd.Timestamp) -> np.ndarray:
    if not len(frame):
        return np.zeros(0, dtype=bool)
    return sla.overdue_frame(frame, now)["any"].to_numpy(bool)


def history_url(cut: str, f: WallFilters) -> str:
    """The URL of the history layer for ``cut`` and ``f`` (a new URL when either changes)."""
    from urllib.parse import urlencode

    return "/wall/history.geojson?" + urlencode({"cut": cut, **f.as_args()})


# --- numbers ------------------------------------------------------------------------------


def wan(n: float | int | None) -> str:
    """A count the Chinese way: ``9,876``, ``1.2万``, ``—`` for none."""
    if n is None or (isinstance(n, float) and np.isnan(n)):
        return "—"
    if abs(n) >= 10_000:
        return f"{n / 10_000:.1f}万".replace(".0万", "万")
    return f"{round(n):,}"


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


# --- choropleth, legend, feed -------------------------------------------------------------


def open_by_grid(frame: pd.DataFrame, now: pd.Timestamp) -> dict[str, int]:
    """Open incidents per grid code now (:func:`incidents.kpi.compute_by`)."""
    if not len(frame):
        return {}
    window = kpi.Window(now - pd.Timedelta(days=1), now)
    by = kpi.compute_by(frame, window, "grid", as_of=now)
    return {str(k): int(v) for k, v in by["open"].items() if v}


def state_counts(frame: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(state, 中文, count) of every state present in ``frame``."""
    counts = frame["state"].value_counts()
    return [(s, STATE_ZH[State(s)], int(counts.get(s, 0))) for s in STATES]


def since_text(then: pd.Timestamp, now: pd.Timestamp) -> str:
    """``3分钟前``, ``2小时前``, ``5天前``."""
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}分钟前"
    if minutes < 24 * 60:
        return f"{minutes // 60}小时前"
    return f"{minutes // 1440}天前"


def feed(
    frame: pd.DataFrame, now: pd.Timestamp, n: int = 12, *, due_from: pd.DataFrame | None = None
) -> dict[str, Any]:
    """The live feed: newest ``n`` received before ``now``, overdue flagged; callbacks due today
    among ``due_from`` (default ``frame``; the wall passes its frame without the time window:
    a callback due today is due whatever window the wall shows)."""
    past = frame.loc[frame["received_at"] <= now]
    newest = past.tail(n).iloc[::-1]
    late = overdue_flags(newest, now)
    rows = [
        {
            "id": r.id,
            "category": CATEGORIES.get(str(r.category), str(r.category)),
            "category_code": str(r.category),
            "address": str(getattr(r, "address", "") or ""),
            "state": str(r.state),
            "state_zh": STATE_ZH[State(r.state)],
            "since": since_text(r.received_at, now),
            "minutes": max(0, int((now - r.received_at).total_seconds() // 60)),
            "time": r.received_at.tz_convert(LOCAL_TZ).strftime("%H:%M"),
            "overdue": bool(o),
        }
        for r, o in zip(newest.itertuples(), late, strict=True)
    ]
    today = now.tz_convert(LOCAL_TZ).normalize().tz_convert("UTC")
    pool = frame if due_from is None else due_from
    due = pool.loc[pool["next_callback_at"].notna() & (pool["next_callback_at"] <= today)]
    due = due.loc[due["state"].isin(["resolved", "callback_due"])]
    return {"rows": rows, "callbacks_due": len(due)}


# --- live deltas --------------------------------------------------------------------------


def delta(
    url: str, cut: str, known: dict[str, int], now: pd.Timestamp, f: WallFilters
) -> dict[str, Any]:
    """Incidents new or changed since ``cut`` that the browser does not hold at their version.

    Reads the incidents whose latest event is later than ``cut`` minus :data:`LOOKBACK` (late
    transfers carry their original times) and drops those in ``known`` (id -> version held by
    the browser's live layer). Returns only the new or changed features (history-layer
    properties plus ``v`` version and ``new`` flag) and the server time: once the browser holds
    the recent changes, a refresh is a few hundred bytes when nothing moved.
    """
    since = (pd.Timestamp(cut) - LOOKBACK).to_pydatetime()
    found = _store(url).query_incidents(IncidentQuery(changed_since=since), SCOPE)
    features: list[dict[str, Any]] = []
    if len(found):
        frame = filtered(_kpi_frame(found), f, now)
        # What the history layer at ``cut`` shows (the same filter as the history route's).
        history = filtered(history_frame(url, cut), f, pd.Timestamp(cut))
        drawn = dict(zip(history["id"], history["version"], strict=True))
        late = overdue_flags(frame, now)
        for r, o in zip(frame.itertuples(), late, strict=True):
            version = int(r.version)
            # Not skipped when this worker's own history shows the same version: with several
            # workers the browser's history layer may come from another worker's earlier read,
            # so only what the browser says it holds (``known``) is certain. Incidents changed
            # since the cut are thus sent once per browser and cut (a few per hour in a town).
            if pd.isna(r.lon) or version == known.get(r.id):
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                    "properties": {
                        "id": r.id,
                        "s": STATES.index(r.state),
                        "o": int(bool(o)),
                        "v": version,
                        "new": int(r.id not in drawn and r.id not in known),
                    },
                }
            )
    # ``key`` names the history layer these deltas complete: a new one (another cut or other
    # filters) makes the browser drop the live features it holds.
    key = history_url(cut, f)
    return {"features": features, "at": now.isoformat(), "key": key, "n": len(features)}


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
