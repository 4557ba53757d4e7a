"""One function per wall callback: parse what the browser sent, ask :mod:`app.wall_data`.

The frame a view is computed on is the cached history at the page's cut plus the incidents
received since (a small query), so KPIs and the feed include what arrived after the page loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from dash import no_update

from app import wall_data as wd
from app.components import wall_detail
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
    charts: dict[str, Any]


def current_frame(url: str, cut: str, now: pd.Timestamp) -> pd.DataFrame:
    """History at ``cut`` plus incidents received since, newer rows replacing older ones
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


def _bucket(now: pd.Timestamp) -> str:
    """``now`` floored to :data:`REFRESH_SECONDS`: clients refreshing together share work."""
    seconds = int(now.timestamp()) // REFRESH_SECONDS * REFRESH_SECONDS
    return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()


@lru_cache(maxsize=4)
def _recent(url: str, cut: str, _bucket: str) -> pd.DataFrame:
    """Incidents received since ``cut`` (re-read for every refresh bucket)."""
    query = IncidentQuery(received_from=pd.Timestamp(cut).to_pydatetime())
    found = wd._store(url).query_incidents(query, wd.SCOPE)
    return wd._kpi_frame(found) if len(found) else pd.DataFrame()


def overview(url: str, args: dict[str, Any], cut: str | None, advance: bool = False) -> Overview:
    """Tiles, legend, feed, charts, choropleth and history URL for the filter values ``args``.

    ``cut`` is the page's history version; with ``advance`` (the periodic refresh) it moves to
    the current one when the hour has turned, so a wall left on for days reloads its history
    once an hour and every client shares the same cached cut.
    """
    now = wd.now_utc()
    current = wd.cut_of(now)
    if cut is None or (advance and cut != current):
        cut = current
    f = wd.WallFilters.from_args(args)
    window = wd.filtered(wd.history_frame(url, cut), f, now)
    bucket = _bucket(now)
    return Overview(
        cut=cut,
        history_url=wd.history_url(cut, f),
        grid_counts=_grid_counts(url, cut, f, bucket),
        tiles=_tiles(url, cut, f, bucket),
        states=wd.state_counts(window),
        total=len(window),
        feed=wd.feed(wd.filtered(current_frame(url, cut, now), f, now), now),
        charts=_charts(url, cut, f, bucket),
    )


@lru_cache(maxsize=32)
def _tiles(url: str, cut: str, f: wd.WallFilters, bucket: str) -> list[dict[str, Any]]:
    now = pd.Timestamp(bucket)
    return wd.kpi_tiles(current_frame(url, cut, now), now, f)


@lru_cache(maxsize=32)
def _grid_counts(url: str, cut: str, f: wd.WallFilters, bucket: str) -> dict[str, int]:
    now = pd.Timestamp(bucket)
    return wd.open_by_grid(wd.filtered(current_frame(url, cut, now), f, now), now)


@lru_cache(maxsize=32)
def _charts(url: str, cut: str, f: wd.WallFilters, bucket: str) -> dict[str, Any]:
    """The charts' data: the window's incidents, and the 30 days ending with the window."""
    now = pd.Timestamp(bucket)
    frame = current_frame(url, cut, now)
    frame = frame.loc[frame["received_at"] <= now]  # nothing "received" after the clock
    trend = wd.trend_filters(f, now)
    return wd.chart_data(wd.filtered(frame, f, now), wd.filtered(frame, trend, now), str(trend.end))


def live(url: str, cut: str, known: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The delta since ``cut`` that the browser lacks.

    ``known`` is what the live layer holds: ``{"key": history URL, "ids": {id: version}}``;
    held features of another history layer (other filters or cut) do not count.
    """
    f = wd.WallFilters.from_args(args)
    held = (known.get("ids") or {}) if known.get("key") == wd.history_url(cut, f) else {}
    return wd.delta(url, cut, held, wd.now_utc(), f)


def selected_id(triggered_id: Any, triggered: list[dict[str, Any]]) -> Any:
    """The incident a click selects: a marker's or a feed row's id; ``None`` closes the drawer.

    Cluster clicks and freshly drawn feed rows (``n_clicks`` 0) select nothing.
    """

    value = triggered[0].get("value") if triggered else None
    if isinstance(triggered_id, dict):
        if not value:
            return no_update
        if triggered_id.get("type") == "wall-close":
            return None
        return str(triggered_id.get("id"))
    props = (value or {}).get("properties") or {}
    if props.get("cluster") or not props.get("id"):
        return no_update
    return str(props["id"])


def detail(url: str, incident_id: str, cut: str | None) -> dict[str, Any]:
    """The drawer's content for ``incident_id`` (masked)."""
    now = wd.now_utc()
    frame = wd.history_frame(url, cut or wd.cut_of(now))
    return wall_detail.drawer(url, incident_id, frame, now)
