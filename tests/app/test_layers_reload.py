"""What a running server keeps of the town's layers is read again once ``ember layers import``
changed them (the store's layers version): the API's state (looked at no more than every
``check_s`` seconds) and the console's directory."""

from __future__ import annotations

from pathlib import Path

from app.api._common import ApiState
from layers.demo import build_demo
from store import open_store


def test_what_is_kept_of_the_layers_is_read_again_once_they_changed(tmp_path: Path) -> None:
    frames = build_demo(7, n_incidents=10)
    store = open_store(str(tmp_path / "town.gpkg"))
    try:
        store.write_layers({k: v for k, v in frames.items() if k != "incidents"})
        state = ApiState(store, check_s=0.0)
        ctx, cells = state.context(), state.layer("grid_cells")
        teams = state.names("teams")
        assert state.context() is ctx and state.layer("grid_cells") is cells  # unchanged: kept
        point = cells.geometry.iloc[0].representative_point()
        before = ctx.trinity.assign([point.x], [point.y])["grid_code"].iloc[0]
        assert before == cells["code"].iloc[0]

        grids = frames["grid_cells"]
        store.write_layers({"grid_cells": grids.assign(code="R" + grids["code"].astype(str))})
        again = state.context()
        assert again is not ctx
        assert again.trinity.assign([point.x], [point.y])["grid_code"].iloc[0] == "R" + before
        assert state.layer("grid_cells")["code"].str.startswith("R").all()
        assert state.names("teams") == teams  # read again, the same table

        slow = ApiState(store, check_s=3600.0)  # looked at once an hour: kept meanwhile
        kept = slow.context()
        store.write_layers({"grid_cells": grids})
        assert slow.context() is kept and state.context() is not again
    finally:
        store.close()


def test_the_consoles_directory_places_on_layers_imported_since(tmp_path: Path) -> None:
    """A dispatcher's manual placement after ``ember layers import``: the new grid cells."""
    from app.components.console_directory import directory_of

    frames = build_demo(7, n_incidents=10)
    url = str(tmp_path / "console.gpkg")
    store = open_store(url)
    try:
        store.write_layers({k: v for k, v in frames.items() if k != "incidents"})
        first = directory_of(url)
        assert directory_of(url) is first  # unchanged layers: the same directory
        point = frames["grid_cells"].to_crs(4326).geometry.iloc[0].representative_point()
        code = first.trinity(point.x, point.y)["grid_code"]
        grids = frames["grid_cells"]
        store.write_layers({"grid_cells": grids.assign(code="R" + grids["code"].astype(str))})
        assert directory_of(url).trinity(point.x, point.y)["grid_code"] == f"R{code}"
    finally:
        store.close()
