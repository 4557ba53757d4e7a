"""The wall's grid-cell choropleth: open incidents now, or incidents per 1,000 residents.

Two measures, switched on the wall (``wall-grid-mode``):

- ``open``: incidents open now per grid cell (:func:`app.wall_data.open_by_grid`), within the
  filters' codes;
- ``rate``: incidents received in the filters' window per 1,000 residents of the cell, residents
  being registered plus migrant population (``registered_pop`` + ``migrant_pop`` of the grid
  layer); cells without a population are left blank rather than divided by zero.

Everything is computed here, on the server; the browser's ``gridStyle`` only maps a value to one of
five classes of ``value / max`` (:func:`classes` gives the same bounds for the legend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from app import wall_data as wd
from app import wall_view

MODES = ("open", "rate")
DEFAULT_MODE = "open"
PER = 1_000
#: Population columns of the grid layer whose sum is a cell's residents.
POPULATION_COLUMNS = ("registered_pop", "migrant_pop")


@dataclass(frozen=True)
class Choropleth:
    """Values per grid code and what they measure."""

    mode: str
    values: dict[str, float] = field(default_factory=dict)

    @property
    def max(self) -> float:
        return max(self.values.values(), default=0.0)

    def hideout(self) -> dict[str, Any]:
        """The grid layer's ``hideout`` (read by ``dashExtensions.wall.gridStyle``)."""
        return {"counts": self.values, "max": self.max or 1, "mode": self.mode}


def mode_of(value: Any) -> str:
    """A valid mode from a control's value (unknown values give :data:`DEFAULT_MODE`)."""
    return value if value in MODES else DEFAULT_MODE


def population_by_grid(grid_cells: dict[str, Any]) -> dict[str, int]:
    """Residents per grid code from the grid layer's GeoJSON (cells without any population
    column are left out)."""
    out: dict[str, int] = {}
    for f in grid_cells.get("features", []):
        p = f.get("properties") or {}
        parts = [p.get(c) for c in POPULATION_COLUMNS]
        known = [int(v) for v in parts if v is not None and not pd.isna(v)]
        if p.get("code") and known:
            out[str(p["code"])] = sum(known)
    return out


def received_by_grid(frame: pd.DataFrame) -> dict[str, int]:
    """Incidents per grid code of an already filtered frame."""
    if not len(frame) or "grid_code" not in frame:
        return {}
    counts = frame["grid_code"].dropna().astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items() if v}


def rate_per_1000(counts: dict[str, int], population: dict[str, int]) -> dict[str, float]:
    """``counts`` per :data:`PER` residents, two decimals; cells without residents omitted."""
    return {
        code: round(counts.get(code, 0) * PER / pop, 2)
        for code, pop in population.items()
        if pop > 0 and counts.get(code, 0)
    }


def choropleth(
    mode: str, open_counts: dict[str, int], received: dict[str, int], population: dict[str, int]
) -> Choropleth:
    """The values of ``mode`` from open counts, window counts and residents per grid code."""
    if mode_of(mode) == "rate":
        return Choropleth("rate", rate_per_1000(received, population))
    return Choropleth("open", {k: float(v) for k, v in open_counts.items()})


def classes(top: float) -> list[tuple[float, float]]:
    """The legend's ``[low, high)`` bounds of the five non-zero classes of ``gridStyle``:
    class ``1 + min(4, floor(4 v / max))``, so quarters of the maximum, the maximum itself last."""
    top = top or 1
    quarters = [top * i / 4 for i in range(5)]
    return [(quarters[i], quarters[i + 1]) for i in range(4)] + [(top, top)]


# --- the wall's callback ----------------------------------------------------------------


def for_wall(
    url: str, cut: str | None, args: dict[str, Any], mode: Any, population: dict[str, int]
) -> Choropleth:
    """The choropleth of ``mode`` for the filter values ``args`` at the page's ``cut``
    (counts cached per refresh bucket, as the rest of the overview)."""
    now = wd.now_utc()
    cut = cut or wd.cut_of(now)
    f = wd.WallFilters.from_args(args)
    bucket = wall_view._bucket(now)
    if mode_of(mode) == "rate":
        return choropleth("rate", {}, _received(url, cut, f, bucket), population)
    return choropleth("open", wall_view._grid_counts(url, cut, f, bucket), {}, population)


@lru_cache(maxsize=32)
def _received(url: str, cut: str, f: Any, bucket: str) -> dict[str, int]:
    now = pd.Timestamp(bucket)
    frame = wall_view.current_frame(url, cut, now)
    frame = frame.loc[frame["received_at"] <= now]  # nothing "received" after the clock
    return received_by_grid(wd.filtered(frame, f, now))
