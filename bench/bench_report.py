"""The monthly review (月月改进) at 100,000 incidents: Ember's report against a plain pandas
pipeline over the same GeoPackage.

Ours: :func:`app.reports.build_report` on a GeoPackage holding ``build_demo(7)``'s incidents
(100,000; 10,000 with ``--quick``), for the last complete month — the store's query of the
columns a report shows (through the account's scope, masked), the KPI frame
(:func:`incidents.frame.prepare`: SLA deadlines, callback days), the ten KPIs of
:mod:`incidents.kpi` for the month, the month before and the same month a year earlier, for the
town and per village, grid cell and team, and the overdue and unsatisfied lists.

Peer, in the same run: what an analyst would write — ``pyogrio.read_dataframe`` of the same
columns from the same file, then, for the same three windows and four levels, one pandas
``groupby`` of four KPIs (received, on scene within 10 minutes of dispatch, satisfied among the
rated, open at the window's end). It does less than ours: four KPIs of ten, no pending rule (an
arrival not yet due counts as a miss), no masking, no lists.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from bench._timing import Result, median_time
from layers.demo import build_demo

#: What the peer reads: the codes of the levels and the times of its four KPIs.
PEER_COLUMNS = ["id", "received_at", "dispatched_at", "on_scene_at", "callback_at", "closed_at",
                "satisfaction", "village_code", "grid_code", "team_code"]  # fmt: skip
SATISFIED = ("满意", "基本满意")


def peer(path: Path, windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> dict[str, Any]:
    """Four KPIs per level and window with pandas (see the module docstring)."""
    df = pyogrio.read_dataframe(path, layer="incidents", columns=PEER_COLUMNS, read_geometry=False)
    times = ["received_at", "dispatched_at", "on_scene_at", "callback_at", "closed_at"]
    for c in times:
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601")
    out: dict[str, Any] = {}
    for start, end in windows:

        def within(c: str, start: pd.Timestamp = start, end: pd.Timestamp = end) -> pd.Series:
            return (df[c] >= start) & (df[c] < end)

        dispatched = within("dispatched_at")
        rated = within("callback_at") & df["satisfaction"].notna()
        parts = pd.DataFrame(
            {
                "received": within("received_at"),
                "dispatched": dispatched,
                "arrived_10min": dispatched
                & ((df["on_scene_at"] - df["dispatched_at"]) <= pd.Timedelta(minutes=10)),
                "rated": rated,
                "satisfied": rated & df["satisfaction"].isin(SATISFIED),
                "open": (df["received_at"] < end) & ~(df["closed_at"] < end),
            }
        )
        out[f"town {start:%Y-%m}"] = parts.sum()
        for level in ("village_code", "grid_code", "team_code"):
            out[f"{level} {start:%Y-%m}"] = parts.groupby(df[level]).sum()
    return out


def run(quick: bool = False) -> list[Result]:
    from app.reports import build_report, window_of
    from store import Scope, open_store

    n = 10_000 if quick else 100_000
    frames = build_demo(7, n_incidents=n)
    end = frames["incidents"]["received_at"].max().tz_convert("Asia/Shanghai")
    month = (end.replace(day=1) - pd.Timedelta(days=1)).date()  # the last complete month
    window = window_of("monthly", date(month.year, month.month, 1))
    windows = [(w.start, w.end) for w in (window, window.previous(), window.year_earlier())]
    scope = Scope.everything("analyst")  # masked: a report never shows personal data
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ember.gpkg"
        store = open_store(str(path))
        store.write_layers(frames)
        report = build_report(store, "monthly", window.start.date(), scope=scope, as_of=end)
        town = report.levels["town"][0].kpis
        found = peer(path, windows)[f"town {window.start:%Y-%m}"]
        # both count the same month: the incidents received in it
        assert town["repeat"].current.denominator == found["received"] == report.received
        repeat = 1 if quick else 3
        ours_s = median_time(
            lambda: build_report(store, "monthly", window.start.date(), scope=scope, as_of=end),
            repeat=repeat,
        )
        peer_s = median_time(lambda: peer(path, windows), repeat=repeat)
        store.close()
    print(
        f"  monthly review of {n:,} incidents: ours {ours_s:.2f} s · pandas {peer_s:.2f} s",
        flush=True,
    )
    return [
        Result(
            "monthly review (report)",
            f"{n:,} demo incidents, 10 KPIs × 3 windows × town, villages, grid cells, teams",
            ours_s,
            "pyogrio + pandas groupby (4 KPIs)",
            peer_s,
            f"{report.received:,} incidents received in {report.period}; ours also masks, "
            "applies the pending rules and lists the overdue and unsatisfied; the peer computes "
            "4 KPIs of 10 (ratio < 1: ours is slower)",
        )
    ]


__all__ = ["run"]
