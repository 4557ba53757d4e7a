"""Embedded backend: one GeoPackage file (SQLite), the default store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyogrio

from layers.io import conform, write_layers
from store.base import Frame, LayerNotFound, StoreError


class GeoPackageStore:
    """Layers kept as the tables of one GeoPackage file that GDAL and QGIS open directly."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.url = str(self.path)

    def exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def layer_names(self) -> list[str]:
        if not self.exists():
            return []
        return [str(name) for name, _ in pyogrio.list_layers(self.path)]

    def read_layer(self, name: str) -> Frame:
        if not self.exists():
            raise StoreError(
                f"数据库文件不存在：{self.path}（先运行 ember demo 或 ember layers import）/ "
                f"store file not found: {self.path} (run `ember demo` or `ember layers import`)"
            )
        if name not in self.layer_names():
            raise LayerNotFound(f"图层不存在 / no layer {name!r} in {self.path}")
        return conform(pyogrio.read_dataframe(self.path, layer=name), name)

    def write_layers(self, frames: Mapping[str, Frame]) -> None:
        if not self.exists():
            write_layers(self.path, frames)
            return
        for name, frame in frames.items():
            pyogrio.write_dataframe(frame, self.path, layer=name, driver="GPKG")
