"""Persistence behind one contract (:class:`store.base.IncidentStore`, which includes
:class:`store.base.Store`).

``open_store(url)`` picks the backend from ``EMBER_DB``: a file path is the embedded GeoPackage
(default), a ``postgresql://`` URL is PostGIS.
"""

from __future__ import annotations

from pathlib import Path

from store._apikeys import ApiKeyNotFound, DuplicateApiKey
from store.accounts import AccountStore, User
from store.apikeys import ApiKey, ApiKeyStore
from store.base import (
    QUERY_COLUMNS,
    AuditEntry,
    DuplicateIncident,
    DuplicateUser,
    Frame,
    IncidentNotFound,
    IncidentQuery,
    IncidentRecord,
    IncidentStore,
    LayerNotFound,
    QuarantineEntry,
    QuarantineNotFound,
    QuarantineRow,
    ReadOnlyScope,
    Scope,
    SourceKey,
    StaleVersion,
    Store,
    StoreBusy,
    StoreError,
    UserNotFound,
    WriteRefused,
)
from store.gpkg import GeoPackageStore
from store.quarantine import QuarantineStore


def open_store(url: str, *, create: bool = True) -> IncidentStore:
    """Open the store named by ``url`` (a GeoPackage path or a ``postgresql://`` URL).

    A GeoPackage that does not exist is made when first used; with ``create=False`` it is refused
    instead (:class:`StoreError`), for commands that need an existing store, so that a mistyped
    path does not quietly give a new, empty one — then and at every later connection (a file
    removed under a long-running ``ember watch`` is not made anew either). (A PostGIS database
    must exist either way; its schema is made on first use.)
    """
    if url.startswith(("postgresql://", "postgres://")):
        from store.postgis import PostGISStore

        return PostGISStore(url)
    if not create and not Path(url).is_file():
        raise StoreError(
            f"找不到存储文件：{url}（ember demo 或 ember layers import 会新建）/ no such store: "
            f"{url} (ember demo builds one, or ember layers import)"
        )
    return GeoPackageStore(url, create=create)


__all__ = [
    "QUERY_COLUMNS",
    "AccountStore",
    "ApiKey",
    "ApiKeyNotFound",
    "ApiKeyStore",
    "AuditEntry",
    "DuplicateApiKey",
    "DuplicateIncident",
    "DuplicateUser",
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
    "QuarantineStore",
    "ReadOnlyScope",
    "Scope",
    "SourceKey",
    "StaleVersion",
    "Store",
    "StoreBusy",
    "StoreError",
    "User",
    "UserNotFound",
    "WriteRefused",
    "open_store",
]
