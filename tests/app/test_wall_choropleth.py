"""The grid choropleth: open incidents or incidents per 1,000 residents, computed on the server;
the legend says which."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app import wall_choropleth as choro
from app import wall_data as wd
from app.components import wall_grid
from app.components.town_map import load_town
from store import open_store


def text_of(component: object) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list):
        return " ".join(text_of(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else text_of(children)


def test_population_rate_and_classes() -> None:
    cells = {
        "features": [
            {"properties": {"code": "A", "registered_pop": 1500, "migrant_pop": 500}},
            {"properties": {"code": "B", "registered_pop": 800, "migrant_pop": None}},
            {"properties": {"code": "C"}},  # no population: left blank, not divided by 0
            {"properties": {"code": "D", "registered_pop": 0, "migrant_pop": 0}},
        ]
    }
    population = choro.population_by_grid(cells)
    assert population == {"A": 2000, "B": 800, "D": 0}
    frame = pd.DataFrame({"grid_code": ["A", "A", "A", "B", "C", "D", None]})
    counts = choro.received_by_grid(frame)
    assert counts == {"A": 3, "B": 1, "C": 1, "D": 1}
    rate = choro.choropleth("rate", {"A": 9}, counts, population)
    assert rate.values == {"A": 1.5, "B": 1.25}  # 3 / 2,000 × 1,000; 1 / 800 × 1,000
    assert rate.hideout() == {"counts": rate.values, "max": 1.5, "mode": "rate"}
    opened = choro.choropleth("open", {"A": 9, "C": 2}, counts, population)
    assert opened.values == {"A": 9.0, "C": 2.0} and opened.max == 9
    assert choro.choropleth("nonsense", {}, {}, {}).mode == "open"
    assert choro.classes(8) == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 8)]


def test_legend_says_which_measure() -> None:
    rate = choro.Choropleth("rate", {"A": 1.5, "B": 0.5})
    zh, en = (text_of(wall_grid.legend(rate, "30d", lang)) for lang in ("zh", "en"))
    assert "每千名常住人口" in zh and "近30天" in zh and "1.5" in zh
    assert "per 1,000 residents" in en and "30 days" in en
    opened = choro.Choropleth("open", {"A": 12.0})
    assert "在办" in text_of(wall_grid.legend(opened, "7d", "zh"))
    # a small maximum: the classes no count falls in are left out, not shown as "—"
    few = wall_grid.legend(choro.Choropleth("open", {"A": 3.0, "B": 1.0}), "7d", "zh")
    items = [(li.className, li.children) for li in few[1].children]
    assert items == [("wall-ckey-0", "0"), ("wall-ckey-2", "1"), ("wall-ckey-3", "2"),
                     ("wall-ckey-5", "3")]  # fmt: skip
    assert "open incidents" in text_of(wall_grid.legend(opened, "7d", "en"))
    assert "无人口数据" in text_of(wall_grid.legend(choro.Choropleth("rate"), "7d", "zh"))


def test_wall_modes_on_the_demo(demo_gpkg: Path) -> None:
    url = str(demo_gpkg)
    town = load_town(open_store(url))
    population = choro.population_by_grid(town.layers["grid_cells"])
    assert len(population) == town.count("grid_cells") and min(population.values()) > 0
    cut = wd.cut_of(wd.now_utc())
    args = {"window": "year"}
    opened = choro.for_wall(url, cut, args, "open", population)
    rate = choro.for_wall(url, cut, args, "rate", population)
    assert opened.mode == "open" and rate.mode == "rate"
    assert opened.values and all(v == int(v) for v in opened.values.values())
    # The rate is the year's incidents of a cell per 1,000 of its residents.
    frame = wd.filtered(wd.history_frame(url, cut), wd.WallFilters("year"), wd.now_utc())
    code, n = frame["grid_code"].value_counts().index[0], frame["grid_code"].value_counts().iloc[0]
    assert rate.values[code] == pytest.approx(n * 1000 / population[code], abs=0.01)
    assert set(rate.values) <= set(population)


@pytest.mark.parametrize(
    ("top", "labels"),
    [
        (3, ["—", "1", "2", "—", "3"]),
        (10, ["1–2", "3–4", "5–7", "8–9", "10"]),
    ],
)
def test_count_legend_names_the_counts_each_colour_holds(top: int, labels: list[str]) -> None:
    """Whole counts per class, as gridStyle classes them (1 + min(4, floor(4n / max)))."""
    from app.components.wall_grid import _counts

    got = [_counts(lo, hi, last=i == 4) for i, (lo, hi) in enumerate(choro.classes(top))]
    assert got == labels
    for n in range(1, top + 1):  # the class each count is drawn in shows that count
        step = 1 + min(4, (4 * n) // top)
        text = labels[step - 1]
        first, _, last = text.partition("–")
        assert int(first) <= n <= int(last or first), (n, text)
