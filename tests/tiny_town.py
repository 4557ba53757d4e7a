"""A tiny, hand-checkable town for tests: 2 villages × 2 grid cells, 1 beat, 1 fire station.

Laid out in EPSG:4549 metres near 120.10E 29.00N (2,000 m × 1,000 m), returned in EPSG:4326.

    +---------+---------+---------+---------+
    | 201001  | 201002  | 202001  | 202002  |   villages 330784199201 | 330784199202
    +---------+---------+---------+---------+
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely import Point, box

X0, Y0 = 509_700.0, 3_208_400.0  # about 120.10E 29.00N in EPSG:4549
TOWN = "330784199"


def metric_box(x0: float, y0: float, x1: float, y1: float):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def make_tiny_town() -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    def gdf(data: dict, geoms: list) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=geoms, crs=4549).to_crs(4326)

    grids = gdf(
        {
            "code": [f"{TOWN}201001", f"{TOWN}201002", f"{TOWN}202001", f"{TOWN}202002"],
            "name": ["青溪村第1网格", "青溪村第2网格", "桃源村第1网格", "桃源村第2网格"],
            "village_code": [f"{TOWN}201", f"{TOWN}201", f"{TOWN}202", f"{TOWN}202"],
            "officer_id": ["G1", "G2", "G3", "G4"],
            "officer_name": ["张伟", "王芳", "李娜", "刘洋"],
            "officer_phone": ["13800000001", "13800000002", "13800000003", "13800000004"],
            "registered_pop": [300, 200, 250, 150],
            "migrant_pop": [500, 700, 100, 50],
            "households": [120, 90, 100, 60],
        },
        [metric_box(i * 500, 0, (i + 1) * 500, 1000) for i in range(4)],
    )
    villages = gdf(
        {
            "code": [f"{TOWN}201", f"{TOWN}202"],
            "name": ["青溪村", "桃源村"],
            "kind": ["村", "村"],
            "town_code": [TOWN, TOWN],
            "registered_pop": [500, 400],
            "migrant_pop": [1200, 150],
        },
        [metric_box(0, 0, 1000, 1000), metric_box(1000, 0, 2000, 1000)],
    )
    town = gdf({"code": [TOWN], "name": ["演示镇"]}, [metric_box(0, 0, 2000, 1000)])
    beats = gdf(
        {
            "code": [f"{TOWN}J01"],
            "name": ["第1警格"],
            "officer_id": ["B1"],
            "officer_name": ["陈刚"],
            "officer_phone": ["13900000001"],
            "police_station": ["演示镇派出所"],
        },
        [metric_box(0, 0, 2000, 1000)],
    )
    stations = gdf(
        {
            "code": [f"{TOWN}X01"],
            "name": ["青溪村微型消防站"],
            "kind": ["微型消防站"],
            "crew": [6],
            "phone": ["0579-80000001"],
        },
        [Point(X0 + 700, Y0 + 500)],
    )
    coverage = gdf(
        {"station_code": [f"{TOWN}X01"], "minutes": [3]},
        [Point(X0 + 700, Y0 + 500).buffer(800).intersection(metric_box(0, 0, 2000, 1000))],
    )
    return {
        "town": town,
        "villages": villages,
        "grid_cells": grids,
        "police_beats": beats,
        "fire_stations": stations,
        "fire_station_coverage": coverage,
    }
