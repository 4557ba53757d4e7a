"""Persistence behind one contract (:class:`store.base.IncidentStore`, which includes
:class:`store.base.Store`).

``open_store(url)`` picks the backend from ``EMBER_DB``: a file path is the embedded GeoPackage
(default), a ``postgresql://`` URL is PostGIS.
"""

from __future__ import annotations

from store.base import (
    AuditEntry,
    DuplicateIncident,
    Frame,
    IncidentNotFound,
    IncidentQuery,
    IncidentRecord,
    IncidentStore,
    LayerNotFound,
    QuarantineEntry,
    QuarantineNotFound,
    QuarantineRow,
    Scope,
    SourceKey,
    StaleVersion,
    Store,
    StoreError,
)
from store.gpkg import GeoPackageStore


def open_store(url: str) -> IncidentStore:
    """Open the store named by ``url`` (a GeoPackage path or a ``postgresql://`` URL)."""
    if url.startswith(("postgresql://", "postgres://")):
        from store.postgis import PostGISStore

        return PostGISStore(url)
    return GeoPackageStore(url)


__all__ = [
    "AuditEntry",
    "DuplicateIncident",
    "Frame",
    "GeoPackageStore",
    "IncidentNotFound",
    "IncidentQuery",
    "IncidentRecord",
    "IncidentStore",
    "LayerNotFound",
    "QuarantineEntry",
    "QuarantineNotFound",
    "QuarantineRow",
    "Scope",
    "SourceKey",
    "StaleVersion",
    "Store",
    "StoreError",
    "open_store",
]
