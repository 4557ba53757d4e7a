"""The wall's charts: data against a brute-force count on a small frame, and the figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app import wall_chart_data as wcd
from app import wall_data as wd
from app import wall_view
from app.components import wall_charts as wc
from incidents._time import LOCAL_TZ

NOW = pd.Timestamp("2026-11-20 08:00", tz="UTC")  # 16:00 in Shanghai


def small_frame() -> pd.DataFrame:
    """40 incidents over ~45 days: categories, sources and migrant flags cycling."""
    cats = ["wage", "noise", "help", "wage", "family", "rental", "neighbour", "consumer", "other"]
    rows = []
    for i in range(40):
        rows.append(
            {
                "id": f"E{i:03d}",
                "category": cats[i % len(cats)],
                "source": "110" if i % 3 else "12345",
                "village_code": "V1" if i % 2 else "V2",
                "received_at": NOW - pd.Timedelta(hours=27 * i + 1),
                "involves_migrant": i % 4 == 0,
            }
        )
    return pd.DataFrame(rows)


def test_chart_data_matches_a_brute_force_count() -> None:
    frame = small_frame()
    f = wd.WallFilters("30d", source="110")
    window = wd.filtered(frame, f, NOW)
    trend_f = wcd.trend_filters(f, NOW)
    assert (trend_f.start, trend_f.end) == ("2026-10-22", "2026-11-20")
    data = wcd.chart_data(window, wd.filtered(frame, trend_f, NOW), str(trend_f.end))
    start = NOW - pd.Timedelta(days=30)
    picked = [
        r
        for r in frame.itertuples()
        if start <= r.received_at < NOW and r.source == "110"  # brute force
    ]
    assert len(picked) == len(window) > 0
    # Category mix: at most TOP_CATEGORIES bars, the rest under 其他, summing to the window.
    cats = data["categories"]
    assert 0 < len(cats) <= wcd.TOP_CATEGORIES
    assert sum(n for _, _, n in cats) == len(picked)
    named = {code: n for code, _, n in cats if code != "other"}
    for code, n in named.items():
        assert n == sum(1 for r in picked if r.category == code)
    assert [n for c, _, n in cats if c != "other"] == sorted(named.values(), reverse=True)
    # 24 hours, local time.
    assert len(data["hours"]) == 24
    for h in range(24):
        want = sum(1 for r in picked if r.received_at.tz_convert(LOCAL_TZ).hour == h)
        assert data["hours"][h] == want
    # 30 days ending today (local), counted on the source filter only.
    assert len(data["days"]) == 30
    assert data["days"][-1][0] == "2026-11-20" and data["days"][0][0] == "2026-10-22"
    for day, n in data["days"]:
        want = sum(
            1
            for r in frame.itertuples()
            if r.source == "110" and r.received_at.tz_convert(LOCAL_TZ).strftime("%Y-%m-%d") == day
        )
        assert n == want, day
    # Migrant share in [0, 1], equal to the count.
    m = data["migrant"]
    assert m["total"] == len(picked)
    assert m["n"] == sum(1 for r in picked if r.involves_migrant)
    assert 0.0 <= m["share"] <= 1.0
    assert m["share"] == m["n"] / m["total"]


def test_chart_data_of_nothing() -> None:
    frame = small_frame().iloc[:0]
    data = wcd.chart_data(frame, frame, "2026-11-20")
    assert data["categories"] == []
    assert data["hours"] == [0] * 24
    assert len(data["days"]) == 30 and all(n == 0 for _, n in data["days"])
    assert data["migrant"] == {"n": 0, "total": 0, "share": None}
    figs = wc.figures(data, 16)
    assert len(figs) == 4  # "暂无事项" placeholders, no error


def test_trend_ends_with_a_custom_window() -> None:
    f = wd.WallFilters("custom", "2026-10-01", "2026-10-05", category="wage")
    t = wcd.trend_filters(f, NOW)
    assert (t.start, t.end, t.category) == ("2026-09-06", "2026-10-05", "wage")
    today = wcd.trend_filters(wd.WallFilters("today"), NOW)
    assert today.end == "2026-11-20"


def test_figures_are_styled_for_the_wall(demo_gpkg: Path) -> None:
    data = wall_view.charts(str(demo_gpkg), {"window": "30d"}, None)
    assert sum(n for _, _, n in data["categories"]) == data["migrant"]["total"] > 0
    figs = wc.figures(data, 32.0)  # 4K: rem is 32 px
    assert len(figs) == len(wc.CHARTS) == 4
    for fig in figs:
        layout = fig.layout
        assert layout.paper_bgcolor == "rgba(0,0,0,0)"
        assert layout.plot_bgcolor == "rgba(0,0,0,0)"
        assert layout.font.size >= 30  # scales with the wall
    labels = list(figs[0].data[0].y)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in labels)  # Chinese
    assert len(figs[1].data[0].y) == 24
    assert data["partial"]  # the demo ends now: the trend's last day is today
    assert len(figs[2].data[0].y) == 29  # the complete days; today drawn apart
    assert wc.CONFIG == {"displayModeBar": False, "staticPlot": True}
    notes = wc.notes(data)
    assert len(notes) == 4 and "件" in notes[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_today_is_drawn_apart_from_the_complete_days(lang: str) -> None:
    frame = small_frame()
    f = wd.WallFilters("30d")
    trend_f = wcd.trend_filters(f, NOW)
    window = wd.filtered(frame, f, NOW)
    trend = wd.filtered(frame, trend_f, NOW)
    today = wcd.chart_data(window, trend, str(trend_f.end), "2026-11-20")
    assert today["partial"]
    line, step, point = wc.figures(today, 16, lang)[2].data
    assert list(line.x) == [d for d, _ in today["days"][:-1]] and line.fill == "tozeroy"
    assert list(step.x) == [d for d, _ in today["days"][-2:]] and step.line.dash == "dot"
    assert list(point.x) == ["2026-11-20"] and point.marker.color == "#050912"  # hollow
    ticks = wc.figures(today, 16, lang)[2].layout.xaxis.ticktext
    assert ticks[-1] == ("今日" if lang == "zh" else "today") and ticks[-2] == "11-13"
    # A window that ended before today: every day is whole.
    past = wcd.chart_data(window, trend, str(trend_f.end), "2026-11-21")
    line, point = wc.figures(past, 16, lang)[2].data
    assert not past["partial"] and len(line.x) == 30 and point.marker.color != "#050912"
    assert wc.figures(past, 16, lang)[2].layout.xaxis.ticktext[-1] == "11-20"


@pytest.mark.parametrize(
    ("top", "step"), [(0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (7, 5), (30, 10), (12345, 5000)]
)
def test_count_axes_have_whole_number_ticks(top: int, step: int) -> None:
    """A quiet day's busiest hour of one incident is labelled 0, 1 (not "500m"); large counts
    keep readable whole-number ticks."""
    frame = small_frame().iloc[:0]
    data = wcd.chart_data(frame, frame, "2026-11-20")
    data["hours"] = [0] * 23 + [top]
    axis = wc.figures(data, 16)[1].layout.yaxis
    assert axis.tickformat == ",d" and "~s" not in str(axis.tickformat)
    assert axis.tick0 == 0 and axis.dtick == step
    assert axis.range[1] >= max(1, top)
