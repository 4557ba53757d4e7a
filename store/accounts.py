"""Accounts: the :class:`User` value and the :class:`AccountStore` part of the store contract.

Every backend implements it (through :class:`store._users.AccountsMixin`); the conformance tests
in ``tests/store/test_users.py`` run against each. The store keeps argon2 hashes made by the
caller (``app.auth``) and never sees a password. Roles are plain text here: which roles exist and
what each may see is decided by :mod:`app.auth.roles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from store.apikeys import ApiKeyStore


@dataclass(frozen=True)
class User:
    """One account, without its password hash.

    Attributes
    ----------
    username : str
    role : str
        One of :data:`app.auth.roles.ROLES`.
    areas : tuple of str
        The codes the account is responsible for (grid cells, beat, team, …; per role).
    disabled : bool
        A disabled account cannot sign in, and its open sessions end at their next request.
    created_at, last_login_at : datetime or None
        UTC.
    """

    username: str
    role: str
    areas: tuple[str, ...] = ()
    disabled: bool = False
    created_at: datetime | None = None
    last_login_at: datetime | None = None


@runtime_checkable
class AccountStore(ApiKeyStore, Protocol):
    """Accounts and sign-in attempts, kept in the store (several app workers share them), and
    the API keys of client systems (:class:`~store.apikeys.ApiKeyStore`)."""

    def user_add(
        self, username: str, role: str, areas: Sequence[str], password_hash: str, *, actor: str
    ) -> User:
        """Create an account (audited as ``user_add``). Raises :class:`DuplicateUser`."""
        ...

    def user_get(self, username: str) -> User:
        """One account. Raises :class:`UserNotFound`."""
        ...

    def user_list(self) -> list[User]:
        """All accounts, by username."""
        ...

    def user_credentials(self, username: str) -> tuple[User, str]:
        """An account with its password hash, for signing in. Raises :class:`UserNotFound`."""
        ...

    def user_set_password(self, username: str, password_hash: str, *, actor: str) -> None:
        """Replace the hash (audited as ``user_password``). Raises :class:`UserNotFound`."""
        ...

    def user_set_disabled(self, username: str, disabled: bool, *, actor: str) -> User:
        """Disable or enable an account (audited). Raises :class:`UserNotFound`."""
        ...

    def login_attempt(self, username: str, ip: str, *, success: bool, at: datetime) -> None:
        """Record one sign-in attempt; a success also sets the account's ``last_login_at``.
        Attempts older than a day are pruned."""
        ...

    def login_failures(self, username: str, ip: str, since: datetime) -> tuple[int, int]:
        """``(by_user, by_ip)``: failed attempts at or after ``since`` for ``username`` (only
        those after its latest success) and from ``ip`` (any username)."""
        ...
