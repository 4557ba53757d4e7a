"""Emerging hot spot categories: the rules on hand-made series, and small synthetic cubes."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.hotspots._cube import mann_kendall
from geo.hotspots.emerging import classify, classify_cube, emerging_hotspots, space_time_cube


def _flags(pattern: str) -> np.ndarray:
    return np.array([c == "H" for c in pattern])


@pytest.mark.parametrize(
    ("hot", "cold", "tau", "p", "expected"),
    [
        ("....................", "....................", 0.0, 1.0, "no pattern"),
        ("...................H", "....................", 0.0, 1.0, "new"),
        ("................HHHH", "....................", 0.5, 0.01, "consecutive"),
        ("HHHHHHHHHHHHHHHHHHHH", "....................", 0.6, 0.001, "intensifying"),
        ("HHHHHHHHH.HHHHHHHHHH", "....................", 0.1, 0.5, "persistent"),
        ("HHHHHHHHHHHHHHHHHHHH", "....................", -0.6, 0.001, "diminishing"),
        ("..H...H..HH.....H..H", "....................", 0.2, 0.3, "sporadic"),
        ("..H...H..HH.....H..H", "....H...............", 0.2, 0.3, "oscillating"),
        ("HHHHHHHHHHHHHHHHHH..", "....................", -0.2, 0.2, "historical"),
        # 17 of 20 hot: under 90%, so a final run after a gap is sporadic, not persistent.
        ("HHHHHHHHHHHHH...HHHH", "....................", 0.0, 1.0, "sporadic"),
    ],
)
def test_category_rules(hot: str, cold: str, tau: float, p: float, expected: str):
    assert classify(_flags(hot), _flags(cold), tau, p) == expected
    # Cold spots mirror hot ones (the trend sign flips with them).
    mirrored = classify(_flags(cold), _flags(hot), -tau, p)
    assert mirrored == (expected if expected == "no pattern" else f"{expected} cold")


def test_mann_kendall_is_kendalls_tau_against_time():
    t = np.arange(12, dtype=float)
    series = np.column_stack([t, -t, np.sin(t) * 0.01 + 1, np.ones(12)])
    tau, p = mann_kendall(series)
    assert tau[0] == pytest.approx(1.0) and p[0] < 1e-4
    assert tau[1] == pytest.approx(-1.0) and p[1] < 1e-4
    assert p[2] > 0.05 and p[3] == 1.0


def _lattice(n: int = 7, cell: float = 500.0) -> gpd.GeoDataFrame:
    xs, ys = np.meshgrid(np.arange(n) * cell, np.arange(n) * cell)
    boxes = gpd.GeoSeries.from_xy(xs.ravel(), ys.ravel()).buffer(cell / 2, cap_style="square")
    return gpd.GeoDataFrame(geometry=boxes.to_numpy(), crs=4549)


def _block(row: int, col: int, n: int = 9) -> list[int]:
    return [(row + dr) * n + col + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)]


def test_synthetic_cube_patterns():
    cells = _lattice(9)
    rng = np.random.default_rng(11)
    steps = 20
    cube = rng.poisson(10, (steps, len(cells))).astype(float)
    new, growing, old = _block(1, 1), _block(1, 7), _block(7, 4)  # 3 x 3 blocks, apart
    cube[-1, new] += 40  # hot only in the final week
    cube[:, growing] += np.linspace(25, 60, steps)[:, None]  # hot throughout, rising
    cube[:-2, old] += 30  # hot for 18 of 20 weeks, then gone
    out = classify_cube(cube, cells, time_lag=0)
    centre = {name: block[4] for name, block in (("new", new), ("grow", growing), ("old", old))}
    assert out.loc[centre["new"], "pattern"] == "new"
    assert out.loc[centre["grow"], "pattern"] == "intensifying"
    assert out.loc[centre["old"], "pattern"] == "historical"
    assert out.loc[centre["grow"], "n_hot"] == steps
    corner = 8 * 9  # row 8, col 0: no block touches it or its neighbours
    assert out.loc[corner, "pattern"] == "no pattern"
    # A cold block: empty for the last 5 weeks amid busy cells is a consecutive cold spot.
    busy = rng.poisson(30, (steps, len(cells))).astype(float)
    busy[-5:, _block(4, 4)] = 0
    cold = classify_cube(busy, cells, time_lag=0)
    assert cold.loc[4 * 9 + 4, "pattern"] == "consecutive cold"


def test_space_time_cube_bins_by_local_week():
    cells = _lattice(2)
    pts = cells.geometry.centroid.iloc[[0, 0, 3]]
    times = pd.to_datetime(
        ["2026-03-01T23:30+08:00", "2026-03-02T00:30+08:00", "2026-03-10T12:00+08:00"]
    )
    incidents = gpd.GeoDataFrame({"received_at": times}, geometry=pts.to_numpy(), crs=4549)
    cube = space_time_cube(incidents, cells)
    # Sunday 23:30 and Monday 00:30 local time fall in different weeks (weeks start Monday).
    assert cube.counts.shape == (3, 4)
    assert cube.counts[:, 0].tolist() == [1.0, 1.0, 0.0]
    assert cube.counts[:, 3].tolist() == [0.0, 0.0, 1.0]
    assert str(cube.steps.tz) == "UTC"


def test_demo_runs(demo: dict[str, Any]):
    out = emerging_hotspots(demo["incidents"], demo["grid_cells"])
    assert len(out) == len(demo["grid_cells"])
    assert set(out["pattern"]) <= {"no pattern"} | {
        f"{p}{s}" for p in ("new", "consecutive", "intensifying", "persistent", "diminishing",
                            "sporadic", "oscillating", "historical") for s in ("", " cold")
    }  # fmt: skip
