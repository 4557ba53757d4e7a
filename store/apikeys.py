"""API keys: the :class:`ApiKey` value and the :class:`ApiKeyStore` part of the store contract.

Each client system (a city's 12345 platform, a province data hub, QGIS on an analyst's desk) gets
its own key, bound to a role and areas like an account (:mod:`app.auth.roles`), so what it may
see is a :class:`~store.Scope` the store enforces. The store keeps only a hash of the key, made
by the caller (:mod:`app.api._auth`); it never sees the key itself. Every backend implements
this through :class:`store._apikeys.ApiKeysMixin`; the conformance tests are in
``tests/store/test_apikeys.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ApiKey:
    """One API key, without its hash.

    Attributes
    ----------
    name : str
        The client system (unique), e.g. ``city12345``.
    role : str
        One of :data:`app.auth.roles.ROLES`.
    areas : tuple of str
        The codes the key is responsible for (per role, as for an account).
    disabled : bool
        A disabled key is refused (403).
    created_at : datetime or None
        UTC.
    last_used_at : datetime or None
        UTC; noted at most once a minute (None: never used).
    """

    name: str
    role: str
    areas: tuple[str, ...] = ()
    disabled: bool = False
    created_at: datetime | None = None
    last_used_at: datetime | None = None


@runtime_checkable
class ApiKeyStore(Protocol):
    """API keys of client systems, kept hashed in the store."""

    def apikey_add(
        self, name: str, role: str, areas: Sequence[str], key_hash: str, *, actor: str
    ) -> ApiKey:
        """Create a key (audited as ``apikey_add``). Raises :class:`DuplicateApiKey` when the
        name or the hash is taken."""
        ...

    def apikey_get(self, name: str) -> ApiKey:
        """One key by name. Raises :class:`ApiKeyNotFound`."""
        ...

    def apikey_list(self) -> list[ApiKey]:
        """All keys, by name."""
        ...

    def apikey_by_hash(self, key_hash: str) -> ApiKey:
        """The key whose hash is ``key_hash`` (disabled ones too: the caller refuses them).
        Raises :class:`ApiKeyNotFound`."""
        ...

    def apikey_set_disabled(self, name: str, disabled: bool, *, actor: str) -> ApiKey:
        """Disable or enable a key (audited). Raises :class:`ApiKeyNotFound`."""
        ...

    def apikey_touch(self, name: str, at: datetime) -> None:
        """Note that the key was used at ``at`` (aware): written only when the last use noted is
        a minute or more earlier, so a client polling every second costs one write a minute.
        An unknown name is ignored (not audited: a use is not a change)."""
        ...
