"""PAI and PEI* on small hand-computed cases, and the fit-then-score helper on the demo."""

from __future__ import annotations

from typing import Any

import pytest

from geo.hotspots.forecast import counts_scorer, fit_and_score, gi_scorer, kde_scorer, pai_pei


def test_pai_pei_equal_cells_by_hand():
    scores = [5, 4, 3, 2, 1]
    actual = [1, 0, 6, 2, 1]  # N = 10
    area = [1, 1, 1, 1, 1]
    # Top 40%: cells 0 and 1 hold 1 of 10 incidents on 2 of 5 cells.
    r = pai_pei(scores, actual, area, 40)
    assert r["area_share"] == pytest.approx(0.4) and r["n"] == 1 and r["N"] == 10
    assert r["pai"] == pytest.approx((1 / 10) / (2 / 5))  # 0.25
    assert r["n_star"] == 8  # best two cells: 6 + 2
    assert r["pei_star"] == pytest.approx(1 / 8)
    # Top 20%: cell 0 alone.
    r = pai_pei(scores, actual, area, 20)
    assert r["pai"] == pytest.approx(0.1 / 0.2) and r["pei_star"] == pytest.approx(1 / 6)
    # A perfect forecast has PEI* 1.
    r = pai_pei(actual, actual, area, 40)
    assert r["pei_star"] == 1 and r["pai"] == pytest.approx((8 / 10) / 0.4)


def test_pai_pei_unequal_areas_by_hand():
    scores = [5, 4, 3, 2, 1]
    actual = [1, 0, 6, 2, 1]
    area = [2, 1, 1, 1, 1]  # A = 6
    # 50% = 3 units: cells 0 (2) and 1 (1); 1 incident.
    r = pai_pei(scores, actual, area, 50)
    assert r["area_share"] == pytest.approx(0.5)
    assert r["pai"] == pytest.approx((1 / 10) / 0.5)
    # Densest 3 units: cells 2, 3, 4 (6, 2 and 1 per unit) hold 9.
    assert r["n_star"] == 9 and r["pei_star"] == pytest.approx(1 / 9)
    # Less than one cell's worth still flags the top cell.
    r = pai_pei(scores, actual, area, 1)
    assert r["area_share"] == pytest.approx(2 / 6)


def test_fit_and_score_on_demo(demo: dict[str, Any]):
    table = fit_and_score(
        demo["incidents"],
        demo["grid_cells"],
        "2026-09-01",
        {"counts": counts_scorer, "kde": kde_scorer(200.0), "gi": gi_scorer},
        k_pcts=(5.0, 10.0),
    )
    print(table[["method", "k_pct", "area_share", "pai", "pei_star"]].to_string())
    assert len(table) == 6
    assert (table["pei_star"] <= 1 + 1e-12).all() and (table["pei_star"] > 0).all()
    # Any of these beats flagging area at random (PAI 1) on the demo.
    assert (table["pai"] > 1.5).all()
