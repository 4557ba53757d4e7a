"""The GeoPackage backend's layers (:class:`GpkgLayersMixin`): the town's layers are written and
read through GDAL (pyogrio), beside the incident tables the store writes through sqlite3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyogrio

from incidents.model import Event, Incident
from layers.io import conform
from store import _common as common
from store._flat import from_frame
from store.base import Frame, IncidentQuery, LayerNotFound, Scope, StoreError


class GpkgLayersMixin:
    """``exists``, ``layer_names``, ``read_layer`` and ``write_layers`` of a GeoPackage store
    (which gives ``path``, ``_conn``, ``query_incidents`` and ``add_incidents``)."""

    path: Path

    def _conn(self) -> AbstractContextManager[Any]:  # pragma: no cover - the store's
        raise NotImplementedError

    def _tx(self, point: str | None) -> AbstractContextManager[Any]:  # pragma: no cover
        raise NotImplementedError

    def query_incidents(self, query: IncidentQuery, scope: Scope) -> Any:  # pragma: no cover
        raise NotImplementedError

    def add_incidents(  # pragma: no cover - the store's
        self, incidents: Sequence[Incident], events: Sequence[Event] = (), *, actor: str = "system"
    ) -> int:
        raise NotImplementedError

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
        if name == "incidents":  # personal data masked: a layer read is not an audited view
            return self.query_incidents(IncidentQuery(), Scope.everything("layers"))
        if name not in self.layer_names():
            raise LayerNotFound(f"图层不存在 / no layer {name!r} in {self.path}")
        return conform(pyogrio.read_dataframe(self.path, layer=name), name)

    def write_layers(self, frames: Mapping[str, Frame]) -> None:
        reserved = sorted(common.RESERVED & set(frames))
        if reserved:
            raise StoreError(f"图层名保留给存储 / layer names reserved by the store: {reserved}")
        with self._conn():
            pass  # create the file with the store's schema before GDAL adds layers
        for name, frame in frames.items():
            if name != "incidents":
                pyogrio.write_dataframe(frame, self.path, layer=name, driver="GPKG")
        if any(name != "incidents" for name in frames):
            # raised once every layer is written (GDAL writes each in a transaction of its
            # own): a process that sees the new number builds from the new layers
            with self._tx("write_layers") as conn:
                conn.execute(
                    "UPDATE ember_layers_version SET version = max(version + 1, "
                    "CAST(strftime('%s', 'now') AS INTEGER)), "
                    "changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = 1"
                )
        if "incidents" in frames:
            self.add_incidents(*from_frame(frames["incidents"]), actor="layers")

    def layers_version(self) -> int:
        if not self.exists():
            return 0
        with self._conn() as conn:
            row = conn.execute("SELECT version FROM ember_layers_version WHERE id = 1").fetchone()
        return int(row[0]) if row else 0


__all__ = ["GpkgLayersMixin"]
