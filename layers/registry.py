"""All layer specs by layer name (the GeoPackage table name)."""

from layers import fire_stations, gazetteer, grid_cells, incidents_layer, pois, police_beats, tables
from layers import town as town_mod
from layers import villages as villages_mod
from layers._schema import LayerSpec

SPECS: dict[str, LayerSpec] = {
    s.kind: s
    for s in (
        town_mod.SPEC,
        villages_mod.SPEC,
        grid_cells.SPEC,
        police_beats.SPEC,
        fire_stations.SPEC,
        fire_stations.COVERAGE_SPEC,
        gazetteer.SPEC,
        pois.POIS,
        pois.INDUSTRIAL_ZONES,
        pois.ROADS,
        tables.DEPARTMENTS,
        tables.TEAMS,
        tables.OFFICERS,
        incidents_layer.SPEC,
    )
}
