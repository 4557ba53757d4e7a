"""One function per wall callback: parse what the browser sent, ask :mod:`app.wall_data`.

The frame a view is computed on is the cached history at the page's cut plus the incidents
received since (a small query), so KPIs and the feed include what arrived after the page loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from app import wall_chart_data as wcd
from app import wall_data as wd
from app import wall_kpis
from app.components import wall_detail
from app.i18n import Lang
from incidents._time import local_date
from store.base import IncidentQuery

#: Tiles, choropleth and recent incidents are recomputed at most this often (seconds).
REFRESH_SECONDS = 30


@dataclass(frozen=True)
class Overview:
    """What the filter callback renders."""

    cut: str
    history_url: str
    grid_counts: dict[str, int]
    tiles: list[dict[str, Any]]
    states: list[tuple[str, str, int]]
    total: int
    feed: dict[str, Any]


def current_frame(url: str, cut: str, now: pd.Timestamp) -> pd.DataFrame:
    """History at ``cut`` plus incidents received or changed since, newer rows replacing older ones
    (re-read at most once per :data:`REFRESH_SECONDS`)."""
    return _current(url, cut, _bucket(now))


@lru_cache(maxsize=4)
def _current(url: str, cut: str, bucket: str) -> pd.DataFrame:
    history = wd.history_frame(url, cut)
    recent = _recent(url, cut, bucket)
    if not len(recent):
        return history
    frame = pd.concat([history.loc[~history["id"].isin(recent["id"])], recent])
    return frame.sort_values("received_at", kind="stable").reset_index(drop=True)


def _bucket(now: pd.Timestamp, width: int = REFRESH_SECONDS) -> str:
    """``now`` floored to ``width`` seconds: clients refreshing together share work."""
    seconds = int(now.timestamp()) // width * width
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


@lru_cache(maxsize=4)
def _recent(url: str, cut: str, _bucket: str) -> pd.DataFrame:
    """Incidents received *or changed* since ``cut`` (re-read for every refresh bucket): a
    dispatch, an arrival or a callback on an incident received before the cut counts at once,
    not at the next cut (the tiles lagged the store by up to an hour)."""
    query = IncidentQuery(changed_since=pd.Timestamp(cut).to_pydatetime())
    found = wd._store(url).query_incidents(query, wd.SCOPE)
    return wd._kpi_frame(found) if len(found) else pd.DataFrame()


def overview(url: str, args: dict[str, Any], cut: str | None, advance: bool = False) -> Overview:
    """Tiles, legend, feed, choropleth and history URL for the filter values ``args``.

    ``cut`` is the page's history version; with ``advance`` (the periodic refresh) it moves to
    the current one when the hour has turned, so a wall left on for days reloads its history
    once an hour and every client shares the same cached cut.
    """
    now = wd.now_utc()
    current = wd.cut_of(now)
    if cut is None or (advance and cut != current):
        cut = current
    f = wd.WallFilters.from_args(args)
    bucket = _bucket(now)
    states, total = _legend(url, cut, f, bucket)
    view = Overview(
        cut=cut,
        history_url=wd.history_url(cut, f),
        grid_counts=_grid_counts(url, cut, f, bucket),
        tiles=_tiles(url, cut, f, bucket),
        states=states,
        total=total,
        feed=_feed(url, cut, f, now),
    )
    remember(("overview", url, cut, f), view, now)
    return view


#: The last result per key with its refresh bucket (:func:`remember`, :func:`recent`).
_LAST: dict[tuple[Any, ...], tuple[str, Any]] = {}


def remember(key: tuple[Any, ...], value: Any, now: pd.Timestamp) -> None:
    """Keep ``value`` as the latest for ``key`` (a few hundred keys at most)."""
    if len(_LAST) > 256:
        _LAST.clear()
    _LAST[key] = (_bucket(now), value)


def recent(key: tuple[Any, ...], now: pd.Timestamp | None = None) -> Any:
    """The value :func:`remember` kept for ``key`` in this refresh bucket or the one before,
    else None: the wall's layout takes it instead of computing (its refresh follows)."""
    hit = _LAST.get(key)
    if hit is None:
        return None
    now = wd.now_utc() if now is None else now
    oldest = pd.Timestamp(_bucket(now)) - pd.Timedelta(seconds=REFRESH_SECONDS)
    return hit[1] if pd.Timestamp(hit[0]) >= oldest else None


def charts(url: str, args: dict[str, Any], cut: str | None) -> dict[str, Any]:
    """The charts' data (:func:`app.wall_data.chart_data`) for the filter values ``args``."""
    now = wd.now_utc()
    f = wd.WallFilters.from_args(args)
    return _charts(url, cut or wd.cut_of(now), f, _bucket(now))


# Everything below is computed once per refresh bucket (:data:`REFRESH_SECONDS`) for all
# clients: at 100,000 incidents a filtered copy of the frame alone costs ~0.1 s.


def _bucket_end(bucket: str) -> pd.Timestamp:
    """The end of a refresh bucket: rolling windows end there (nothing is received later
    than the bucket's frame was read), so incidents of the bucket's first seconds count."""
    return pd.Timestamp(bucket) + pd.Timedelta(seconds=REFRESH_SECONDS)


@lru_cache(maxsize=8)
def _window(url: str, cut: str, f: wd.WallFilters, bucket: str) -> pd.DataFrame:
    """The current frame within the filters (shared, never mutated)."""
    return wd.filtered(current_frame(url, cut, pd.Timestamp(bucket)), f, _bucket_end(bucket))


@lru_cache(maxsize=32)
def _legend(url: str, cut: str, f: wd.WallFilters, bucket: str) -> tuple[list[Any], int]:
    """State counts and total of the window's incidents as they stand now (the history at
    ``cut`` with what changed since: the map's points move on without waiting for the cut)."""
    window = _window(url, cut, f, bucket)
    return wd.state_counts(window), len(window)


_FEEDS: dict[tuple[str, str, wd.WallFilters, str], dict[str, Any]] = {}


def _feed(url: str, cut: str, f: wd.WallFilters, now: pd.Timestamp) -> dict[str, Any]:
    """The live feed, as of the bucket's first request (its times since received too)."""
    key = (url, cut, f, _bucket(now))
    found = _FEEDS.get(key)
    if found is None:
        current = current_frame(url, cut, pd.Timestamp(key[3]))
        every = wd.filtered(current, f, _bucket_end(key[3]), window=False)
        found = wd.feed(_window(url, cut, f, key[3]), now, due_from=every)
        if len(_FEEDS) >= 32:
            _FEEDS.clear()
        _FEEDS[key] = found
    return found


@lru_cache(maxsize=32)
def _tiles(url: str, cut: str, f: wd.WallFilters, bucket: str) -> list[dict[str, Any]]:
    now = pd.Timestamp(bucket)
    return wall_kpis.kpi_tiles(current_frame(url, cut, now), now, f)


@lru_cache(maxsize=32)
def _grid_counts(url: str, cut: str, f: wd.WallFilters, bucket: str) -> dict[str, int]:
    return wd.open_by_grid(_window(url, cut, f, bucket), pd.Timestamp(bucket))


@lru_cache(maxsize=32)
def _charts(url: str, cut: str, f: wd.WallFilters, bucket: str) -> dict[str, Any]:
    """The charts' data: the window's incidents, and the 30 days ending with the window."""
    now = pd.Timestamp(bucket)
    frame = current_frame(url, cut, now)
    frame = frame.loc[frame["received_at"] <= now]  # nothing "received" after the clock
    trend = wcd.trend_filters(f, now)
    window = wd.filtered(frame, f, now)
    today = local_date(now).isoformat()
    return wcd.chart_data(window, wd.filtered(frame, trend, now), str(trend.end), today)


def live(url: str, cut: str, known: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The delta since ``cut`` that the browser lacks.

    ``known`` is what the live layer holds: ``{"key": history URL, "ids": {id: version}}``;
    held features of another history layer (other filters or cut) do not count. The store is
    read at most once per :data:`LIVE_SECONDS` for all clients polling with the same cut and
    filters; what each one lacks is picked from that.
    """
    f = wd.WallFilters.from_args(args)
    held = (known.get("ids") or {}) if known.get("key") == wd.history_url(cut, f) else {}
    now = wd.now_utc()
    changed = _changed(url, cut, f, _bucket(now, LIVE_SECONDS))
    features = []
    for feature in changed["features"]:
        props = feature["properties"]
        if held.get(props["id"]) == props["v"]:
            continue
        if props["new"] and props["id"] in held:
            feature = {**feature, "properties": {**props, "new": 0}}
        features.append(feature)
    return {**changed, "features": features, "n": len(features), "at": now.isoformat()}


#: Live deltas are read from the store at most this often (seconds).
LIVE_SECONDS = 2


@lru_cache(maxsize=16)
def _changed(url: str, cut: str, f: wd.WallFilters, bucket: str) -> dict[str, Any]:
    """Everything new or changed since ``cut`` that the history layer does not show (shared,
    never mutated)."""
    end = pd.Timestamp(bucket) + pd.Timedelta(seconds=LIVE_SECONDS)  # nothing received after
    return wd.delta(url, cut, {}, end, f)


def detail(url: str, incident_id: str, cut: str | None, lang: Lang = "zh") -> dict[str, Any]:
    """The drawer's content for ``incident_id`` (masked, labels in ``lang``)."""
    now = wd.now_utc()
    frame = wd.history_frame(url, cut or wd.cut_of(now))
    return wall_detail.drawer(url, incident_id, frame, now, lang)
