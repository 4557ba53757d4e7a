"""Persistence behind one Protocol (:class:`store.base.Store`).

``open_store(url)`` picks the backend from ``EMBER_DB``: a file path is the embedded GeoPackage
(default), a ``postgresql://`` URL is PostGIS.
"""

from __future__ import annotations

from store.base import Frame, LayerNotFound, Store, StoreError
from store.gpkg import GeoPackageStore


def open_store(url: str) -> Store:
    """Open the store named by ``url`` (a GeoPackage path or a ``postgresql://`` URL)."""
    if url.startswith(("postgresql://", "postgres://")):
        # The PostGIS backend lands with the store issue (#4); until then say so plainly.
        raise StoreError(
            "PostGIS 后端尚未实现（见 issue #4），请使用 GeoPackage 文件路径 / "
            "the PostGIS backend is not implemented yet (issue #4); use a GeoPackage path"
        )
    return GeoPackageStore(url)


__all__ = ["Frame", "GeoPackageStore", "LayerNotFound", "Store", "StoreError", "open_store"]
