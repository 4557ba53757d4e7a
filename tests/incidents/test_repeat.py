"""Repeat-call detection: the rules case by case, a brute-force cross-check and its speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from incidents.masking import normalise_phone
from incidents.repeat import (
    RepeatInputError,
    RepeatPolicy,
    haversine_m,
    link_repeats,
    reach,
    repeat_counts,
    repeat_of,
)

T0 = pd.Timestamp("2026-04-01T09:00", tz="Asia/Shanghai")


def row(id: str, hours: float, x: float, y: float = 0.0, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": id, "received_at": T0 + pd.Timedelta(hours=hours), "x": x, "y": y,
        "category": "wage", "caller_phone": None, "closed_at": pd.NaT, "state": "received",
    }  # fmt: skip
    base.update(kw)
    return base


def links(rows: list[dict[str, object]], **policy: object) -> list[object]:
    return link_repeats(pd.DataFrame(rows), RepeatPolicy(**policy)).tolist()  # type: ignore[arg-type]


def test_same_phone_nearby_while_open_is_a_repeat() -> None:
    rows = [
        row("A", 0, 0, caller_phone="13812345678", category="wage"),
        row("B", 24 * 20, 150, caller_phone="+86 138-1234-5678", category="rental"),
    ]
    assert links(rows) == [None, "A"]  # open for 20 days: still a repeat
    assert links(rows, same_phone=False) == [None, None]  # categories differ
    assert links(rows, radius_m=100) == [None, None]  # 150 m apart


def test_recently_closed_within_t_days_only() -> None:
    closed = T0 + pd.Timedelta(days=1)
    rows = [
        row("A", 0, 0, closed_at=closed, state="closed"),
        row("B", 24 * 7 + 23, 10),  # 6 days 23 h after closing
        row("C", 24 * 9, 10, category="noise"),
    ]
    assert links(rows, days=7) == [None, "A", None]
    rows[1]["received_at"] = closed + pd.Timedelta(days=7, seconds=1)
    assert links(rows, days=7) == [None, None, None]
    # closed after the new call came in: it was open then
    rows[0]["closed_at"] = T0 + pd.Timedelta(days=30)
    assert links(rows, days=7) == [None, "A", None]


def test_returned_incidents_are_not_repeated() -> None:
    returned = T0 + pd.Timedelta(hours=1.5)
    rows = [
        row("A", 0, 0, state="returned"),  # returned, time unknown: never a candidate
        row("B", 1, 0, returned_at=returned),
        row("C", 1.2, 0),  # B not yet returned
        row("D", 2, 0, caller_phone="13900000000"),  # B returned by then; C is the latest
    ]
    assert links(rows) == [None, None, "B", "C"]
    rows[2].update(category="noise", caller_phone="139 0000 0000")  # C: same phone as D only
    assert links(rows) == [None, None, None, "C"]


def test_most_recent_candidate_wins_and_ties_go_by_row_order() -> None:
    rows = [row("A", 0, 0), row("B", 2, 190), row("C", 3, 5), row("D", 3, 5)]
    got = links(rows)
    assert got == [None, "A", "B", "C"]
    assert repeat_counts(pd.Series(got)).to_dict() == {"A": 1, "B": 1, "C": 1}


def test_lon_lat_uses_great_circle_distance() -> None:
    lat = 29.0
    deg = 180 / (np.pi * 6_371_008.8)  # one metre in degrees of latitude
    rows = [
        {"id": "A", "received_at": T0, "lon": 120.1, "lat": lat, "category": "noise"},
        {"id": "B", "received_at": T0 + pd.Timedelta(hours=1), "lon": 120.1,
         "lat": lat + 199 * deg, "category": "noise"},
        {"id": "C", "received_at": T0 + pd.Timedelta(hours=2), "lon": 120.1,
         "lat": lat + 401 * deg, "category": "noise"},
        {"id": "D", "received_at": T0 + pd.Timedelta(hours=3), "lon": None, "lat": None,
         "category": "noise"},
    ]  # fmt: skip
    assert link_repeats(pd.DataFrame(rows)).tolist() == [None, "A", None, None]
    d = haversine_m(np.array([120.0]), np.array([29.0]), np.array([120.01]), np.array([29.0]))
    assert d[0] == pytest.approx(972.6, abs=0.5)


def test_repeat_of_links_only_the_new_rows() -> None:
    existing = pd.DataFrame([row("A", 0, 0), row("B", 1, 50)])
    new = pd.DataFrame([row("N1", 5, 20), row("N2", 6, 5000)], index=[10, 11])
    got = repeat_of(new, existing)
    assert got.index.tolist() == [10, 11] and got.tolist() == ["B", None]


def test_missing_columns_are_typed_errors() -> None:
    with pytest.raises(RepeatInputError):
        link_repeats(pd.DataFrame({"id": ["A"], "received_at": [T0]}))
    with pytest.raises(RepeatInputError, match="x, y"):
        link_repeats(pd.DataFrame({"id": ["A"], "received_at": [T0], "category": ["wage"]}))
    with pytest.raises(ValueError):
        RepeatPolicy(radius_m=0)
    assert link_repeats(pd.DataFrame(columns=["id", "received_at", "category", "x", "y"])).empty


def random_frame(rng: np.random.Generator, n: int, extent: float, days: float) -> pd.DataFrame:
    received = T0 + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")
    closed = received + pd.to_timedelta(rng.exponential(3.0, n), unit="D")
    closed = closed.where(rng.random(n) < 0.8)
    phones = np.array([f"1380000{i:04d}" for i in range(max(n // 4, 1))], dtype=object)
    phone = phones[rng.integers(0, len(phones), n)]
    phone[rng.random(n) >= 0.7] = None
    state = np.where(rng.random(n) < 0.05, "returned", "closed")
    return pd.DataFrame({
        "id": [f"E{i:07d}" for i in range(n)],
        "received_at": received,
        "x": rng.uniform(0, extent, n).round(0),
        "y": rng.uniform(0, extent, n).round(0),
        "category": rng.choice(["wage", "noise", "rental", "help"], n),
        "caller_phone": phone,
        "closed_at": closed,
        "state": state,
    })  # fmt: skip


def brute_force(df: pd.DataFrame, p: RepeatPolicy) -> list[object]:
    """The module docstring's rule, pair by pair."""
    recs = df.to_dict("records")
    out: list[object] = []
    for i, n in enumerate(recs):
        best: tuple[object, ...] | None = None
        for j, c in enumerate(recs):
            if j == i or not (c["received_at"] < n["received_at"] or
                              (c["received_at"] == n["received_at"] and j < i)):  # fmt: skip
                continue
            if c["state"] == "returned":
                continue
            if "lon" in n:
                dist = float(haversine_m(n["lon"], n["lat"], c["lon"], c["lat"]))
            else:
                dist = float(np.hypot(n["x"] - c["x"], n["y"] - c["y"]))
            a, b = c["caller_phone"], n["caller_phone"]
            known = not pd.isna(a) and not pd.isna(b)
            phone = p.same_phone and known and normalise_phone(a) == normalise_phone(b)
            same = phone or (p.same_category and c["category"] == n["category"])
            closed = c["closed_at"]
            open_then = pd.isna(closed) or closed > n["received_at"]
            recent = not pd.isna(closed) and n["received_at"] - closed <= pd.Timedelta(days=p.days)
            if dist <= p.radius_m and same and (open_then or recent):
                key = (-c["received_at"].value, dist, j)
                if best is None or key < best[0]:  # type: ignore[operator]
                    best = (key, c["id"])
        out.append(None if best is None else best[1])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "policy",
    [
        RepeatPolicy(),
        RepeatPolicy(radius_m=500, days=2, same_category=False),
        RepeatPolicy(radius_m=80, days=14, same_phone=False),
    ],
)
def test_vectorised_equals_brute_force(seed: int, policy: RepeatPolicy) -> None:
    df = random_frame(np.random.default_rng(seed), 250, 2000, 60)
    got = link_repeats(df, policy).tolist()
    assert got == brute_force(df, policy)
    assert any(v is not None for v in got)  # the case is not vacuous


def _lon_lat(df: pd.DataFrame, lon0: float, lat0: float) -> pd.DataFrame:
    """``df``'s metric x, y as lon/lat around (lon0, lat0) (a local equirectangular map)."""
    m = 180 / (np.pi * 6_371_008.8)  # degrees of latitude in a metre
    lat = lat0 + df["y"] * m
    lon = lon0 + df["x"] * m / np.cos(np.radians(lat0))
    return df.drop(columns=["x", "y"]).assign(lon=lon, lat=lat)


@pytest.mark.parametrize("seed", [1, 2])
def test_lon_lat_of_one_town_equals_brute_force(seed: int) -> None:
    df = _lon_lat(random_frame(np.random.default_rng(seed), 250, 2000, 60), 120.1, 29.0)
    got = link_repeats(df).tolist()
    assert got == brute_force(df, RepeatPolicy())
    assert any(v is not None for v in got)


def test_no_pair_within_the_radius_is_missed_across_20_degrees_of_latitude() -> None:
    """Cells were radius_m wide at the frame's mean latitude: further north a degree of
    longitude is shorter, and a pair 190 m apart east-west could land two cells apart and
    never be compared (here 4 of 125 pairs between 20° and 40° N; a reviewer's 13)."""
    rng = np.random.default_rng(1)
    n = 125
    lat = np.linspace(20.0, 40.0, n)
    lon = 100.0 + rng.uniform(0, 20, n)
    side = np.where(rng.random(n) < 0.5, 1.0, -1.0)  # east or west of the first call
    lon2 = lon + side * 190 * 180 / (np.pi * 6_371_008.8) / np.cos(np.radians(lat))
    assert np.all(haversine_m(lon, lat, lon2, lat) < 200)
    df = pd.DataFrame({
        "id": [f"A{i:03d}" for i in range(n)] + [f"B{i:03d}" for i in range(n)],
        "received_at": [T0] * n + [T0 + pd.Timedelta(hours=1)] * n,
        "lon": np.r_[lon, lon2], "lat": np.r_[lat, lat], "category": "noise",
    })  # fmt: skip
    got = link_repeats(df).tolist()
    assert got[n:] == [f"A{i:03d}" for i in range(n)]
    assert got[:n] == [None] * n
    south = df.assign(lat=-df["lat"])  # the southern hemisphere alike
    assert link_repeats(south).tolist()[n:] == [f"A{i:03d}" for i in range(n)]


def test_a_city_year_in_seconds() -> None:
    df = random_frame(np.random.default_rng(0), 100_000, 30_000, 365)
    start = time.perf_counter()
    got = link_repeats(df)
    elapsed = time.perf_counter() - start
    assert got.notna().sum() > 0
    assert elapsed < 10, f"100k incidents took {elapsed:.1f} s"


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "policy",
    [
        RepeatPolicy(),
        RepeatPolicy(radius_m=500, same_category=False),
        RepeatPolicy(same_phone=False),
    ],
)
@pytest.mark.parametrize("geographic", [False, True])
def test_linking_against_the_candidates_in_reach_gives_the_same_links(
    seed: int, policy: RepeatPolicy, geographic: bool
) -> None:
    df = random_frame(np.random.default_rng(seed), 600, 3000, 30)
    if geographic:
        df = _lon_lat(df, 120.1, 29.0)
    old, new = df.iloc[:450].reset_index(drop=True), df.iloc[450:].reset_index(drop=True)
    kept = reach(old, new, policy)
    assert 0 < kept.sum() < len(old)  # it leaves some out, and keeps some
    assert repeat_of(new, old[kept], policy).tolist() == repeat_of(new, old, policy).tolist()
    # each kept one is near a new row and shares its phone or category
    for c in old[kept].to_dict("records"):
        assert any(
            (policy.same_category and c["category"] == n["category"])
            or (policy.same_phone and not pd.isna(c["caller_phone"])
                and c["caller_phone"] == n["caller_phone"])
            for n in new.to_dict("records")
        )  # fmt: skip


def test_reach_keeps_a_pair_a_cell_apart_and_drops_what_no_key_shares() -> None:
    old = pd.DataFrame([
        row("A", 0, 199, category="noise"),  # next cell, same category
        row("B", 0, 150, category="rental", caller_phone="13812345678"),  # same phone
        row("C", 0, 100, category="rental"),  # near, shares nothing
        row("D", 0, 5000, category="noise"),  # same category, far
        row("E", 0, np.nan, category="noise"),  # no place
    ])  # fmt: skip
    new = pd.DataFrame([row("N", 1, 0, category="noise", caller_phone="138 1234 5678")])
    assert reach(old, new).tolist() == [True, True, False, False, False]
    assert reach(old, new, RepeatPolicy(same_phone=False)).tolist() == [True, False] + [False] * 3
    assert reach(old.iloc[:0], new).tolist() == []
    with pytest.raises(RepeatInputError):
        reach(old.drop(columns=["x"]), new)
