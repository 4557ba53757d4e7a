"""Regenerate the small fixture files in tests/data (run from the repo root).

    .venv/bin/python -m tests.data.make_fixtures

The files are committed; this script documents exactly how they were made.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyogrio

from geo.crs import from_wgs84
from tests.tiny_town import make_tiny_town

HERE = Path(__file__).parent

# Column names as a county's GIS office exports them: Chinese, in GBK, no .cpg file.
CHINESE_COLUMNS = {
    "code": "网格编码",
    "name": "网格名称",
    "village_code": "所属村社区",
    "officer_id": "网格员编号",
    "officer_name": "网格员",
    "officer_phone": "网格员电话",
    "registered_pop": "户籍人口",
    "migrant_pop": "流动人口",
    "households": "户数",
}


def main() -> None:
    town = make_tiny_town()
    out = HERE / "gbk_grid_cells"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    grids = town["grid_cells"].rename(columns=CHINESE_COLUMNS)
    pyogrio.write_dataframe(grids, out / "wangge.shp", encoding="GBK")
    (out / "wangge.cpg").unlink()  # many real exports carry no .cpg: Ember must detect GBK

    villages = town["villages"].copy()

    def to_gcj(xy):
        import numpy as np

        lon, lat = from_wgs84(xy[:, 0], xy[:, 1], "gcj02")
        return np.column_stack([lon, lat])

    import shapely

    villages["geometry"] = shapely.transform(villages.geometry.to_numpy(), to_gcj)
    target = HERE / "villages_gcj02.geojson"
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(villages, target, driver="GeoJSON")


if __name__ == "__main__":
    main()
