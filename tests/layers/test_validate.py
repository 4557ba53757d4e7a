"""Layer validation: good layers pass; each kind of breakage is named with its feature."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import Polygon

from layers import SPECS
from layers.importer import validate_layers
from layers.validate import validate_layer
from tests.tiny_town import X0, Y0, make_tiny_town, metric_box


@pytest.fixture
def town() -> dict:
    return make_tiny_town()


def checks(problems) -> set[tuple[str, str, str]]:
    return {(p.layer, p.feature, p.check) for p in problems}


def test_tiny_town_is_valid(town):
    assert validate_layers(town) == []


def test_missing_column_and_empty_value(town):
    grids = town["grid_cells"].drop(columns=["officer_name"])
    grids.loc[1, "name"] = " "
    got = checks(validate_layer(grids, SPECS["grid_cells"]))
    assert ("grid_cells", "", "missing_columns") in got
    assert ("grid_cells", "330784199201002", "required") in got


def test_bad_and_duplicate_codes(town):
    grids = town["grid_cells"].copy()
    grids.loc[0, "code"] = "33078419920100"  # 14 digits
    grids.loc[3, "code"] = grids.loc[2, "code"]
    got = checks(validate_layer(grids, SPECS["grid_cells"]))
    assert ("grid_cells", "33078419920100", "code_format") in got
    assert ("grid_cells", "330784199202001", "duplicate_code") in got


def test_invalid_geometry_is_located(town):
    grids = town["grid_cells"].copy()
    bow = Polygon([(120.1, 29.0), (120.11, 29.01), (120.11, 29.0), (120.1, 29.01)])
    grids.loc[2, "geometry"] = bow
    problems = validate_layer(grids, SPECS["grid_cells"])
    (p,) = [p for p in problems if p.check == "invalid_geometry"]
    assert p.feature == "330784199202001"
    assert "Self-intersection" in p.en and p.lon is not None
    assert "几何无效" in p.zh


def test_negative_population_and_wrong_geometry_type(town):
    grids = town["grid_cells"].copy()
    grids.loc[0, "migrant_pop"] = -5
    stations = town["fire_stations"].copy()
    stations["geometry"] = stations.to_crs(4549).buffer(50).to_crs(4326)
    assert ("grid_cells", "330784199201001", "not_integer") in checks(
        validate_layer(grids, SPECS["grid_cells"])
    )
    assert ("fire_stations", "330784199X01", "geometry_type") in checks(
        validate_layer(stations, SPECS["fire_stations"])
    )


def _set_metric(frame: gpd.GeoDataFrame, row: int, geom) -> gpd.GeoDataFrame:
    m = frame.to_crs(4549)
    m.loc[row, "geometry"] = geom
    return m.to_crs(4326)


def test_overlap_and_gap_are_found(town):
    # cell 0 grows 10 m into cell 1: overlap of 10 m × 1000 m = 10,000 m²
    town["grid_cells"] = _set_metric(town["grid_cells"], 0, metric_box(0, 0, 510, 1000))
    # cell 3 shrinks, leaving a 20 m strip uncovered: a gap of 20,000 m²
    town["grid_cells"] = _set_metric(town["grid_cells"], 3, metric_box(1500, 0, 1980, 1000))
    problems = validate_layers(town)
    overlap = [p for p in problems if p.check == "overlap"]
    gap = [p for p in problems if p.check == "gap"]
    assert len(overlap) == 1 and overlap[0].feature == "330784199201001"
    assert "10000.0" in overlap[0].en
    assert len(gap) == 1 and "20000.0" in gap[0].en
    assert abs(gap[0].lon - 120.1) < 0.05 and abs(gap[0].lat - 29.0) < 0.05
    # the beat now has ground no cell covers
    assert ("police_beats", "330784199J01", "not_union_of_cells") in checks(problems)


def test_tolerance_ignores_sub_square_metre_slivers(town):
    # 0.0005 m × 1000 m = 0.5 m² overlap: noise, not an error
    town["grid_cells"] = _set_metric(town["grid_cells"], 0, metric_box(0, 0, 500.0005, 1000))
    assert validate_layers(town) == []


def test_cell_across_villages_and_wrong_village_code(town):
    grids = town["grid_cells"].copy()
    grids.loc[3, "village_code"] = "330784199201"  # lies in 202
    grids.loc[3, "code"] = "330784199201003"
    villages = _set_metric(town["villages"], 0, metric_box(0, 0, 750, 1000))
    villages = _set_metric(villages, 1, metric_box(750, 0, 2000, 1000))
    town.update(grid_cells=grids, villages=villages)
    got = checks(validate_layers(town))
    assert ("grid_cells", "330784199201002", "not_in_one_villages") in got
    assert ("grid_cells", "330784199201003", "wrong_village_code") in got


def test_beat_cutting_a_cell(town):
    beats = town["police_beats"].to_crs(4549)
    first = beats.iloc[[0]].copy()
    first["geometry"] = [metric_box(0, 0, 1250, 1000)]
    second = beats.iloc[[0]].copy()
    second["code"] = "330784199J02"
    second["geometry"] = [metric_box(1250, 0, 2000, 1000)]
    town["police_beats"] = gpd.GeoDataFrame(
        gpd.pd.concat([first, second], ignore_index=True), crs=4549
    ).to_crs(4326)
    got = checks(validate_layers(town))
    assert ("grid_cells", "330784199202001", "not_in_one_police_beats") in got


def test_code_hierarchy_and_station_outside(town):
    grids = town["grid_cells"].copy()
    grids.loc[0, "code"] = "330784199209001"
    stations = town["fire_stations"].to_crs(4549)
    stations["geometry"] = gpd.points_from_xy([X0 - 500], [Y0 - 500])
    town.update(grid_cells=grids, fire_stations=stations.to_crs(4326))
    got = checks(validate_layers(town))
    assert ("grid_cells", "330784199209001", "code_prefix") in got
    assert ("fire_stations", "330784199X01", "outside_town") in got


def test_problem_text_is_bilingual(town):
    town["grid_cells"] = _set_metric(town["grid_cells"], 0, metric_box(0, 0, 510, 1000))
    (p,) = [p for p in validate_layers(town) if p.check == "overlap"]
    text = str(p)
    assert "重叠" in text and "overlaps" in text and "grid_cells[330784199201001]" in text
