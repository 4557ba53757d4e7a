"""The officer's phone map: my area and tasks over the town as Ember draws it (no tiles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from app.components import officer_map as omap
from app.components.town_map import TownData, empty_collection, load_town
from store import open_store


@pytest.fixture(scope="module")
def town(demo_gpkg: Path) -> TownData:
    store = open_store(str(demo_gpkg))
    try:
        return load_town(store)
    finally:
        store.close()


def _layers(the_map: Any) -> dict[str, Any]:
    return {n.id: n for n in the_map._traverse() if getattr(n, "id", None)}


def _one_cell(town: TownData) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": town.layers["grid_cells"]["features"][:1]}


def test_without_tiles_the_town_is_drawn_around_my_area(town: TownData) -> None:
    area = _one_cell(town)
    the_map = omap.area_map(town, "", area, empty_collection())
    layers = _layers(the_map)
    (south, west), (north, east) = the_map.bounds
    dx, dy = east - west, north - south
    window = shapely.box(west - dx, south - dy, east + dx, north + dy)
    for name in omap.CONTEXT:
        drawn = layers[omap.CONTEXT_ID.format(name)].data["features"]
        assert drawn, name
        assert all(shape(f["geometry"]).intersects(window) for f in drawn), name
    # cut to the view: a phone is not sent the whole town
    villages = layers[omap.CONTEXT_ID.format("villages")].data["features"]
    assert len(villages) < len(town.layers["villages"]["features"])
    labels = layers[omap.LABELS_ID]
    assert labels.hideout["labelClass"] == "officer-village-label"
    assert 0 < len(labels.data["features"]) < len(town.labels["features"])
    # my area and my tasks above the town's layers
    order = [getattr(n, "id", None) for n in the_map.children]
    assert order.index(omap.CONTEXT_ID.format("roads")) < order.index("officer-area")
    assert order.index(omap.LABELS_ID) < order.index(omap.POINTS_ID)


def test_with_tiles_the_tiles_are_the_basemap(town: TownData) -> None:
    tiles = "http://127.0.0.1:8050/tiles/{z}/{x}/{y}.png"
    layers = _layers(omap.area_map(town, tiles, _one_cell(town), empty_collection()))
    assert not [i for i in layers if str(i).startswith("officer-context")]
    assert "officer-area" in layers
