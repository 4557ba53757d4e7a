"""Who is calling an API: an API key (``X-API-Key`` header or ``api_key`` parameter), a signed-in
session, or nobody; and the :class:`~store.Scope` that follows.

Keys are ``ek_`` + 43 URL-safe characters from :func:`secrets.token_urlsafe` (256 bits). The
store keeps their SHA-256 only. A fast unsalted hash is enough here, unlike passwords (argon2):
the key is random and high-entropy, so there is nothing to guess with a dictionary and no use in
slowing each lookup down; and a deterministic hash lets the store find the key by an index.
Personal data is never unmasked through the APIs: every scope made here has
``personal_data=False``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import request

from app.auth.roles import scope_for, user_scope
from app.auth.session import current_account
from store import ApiKeyNotFound, ApiKeyStore, Scope
from store.apikeys import ApiKey

log = logging.getLogger(__name__)

#: Prefix of every key (makes a leaked key easy to recognise in logs and scanners).
PREFIX = "ek_"
HEADER = "X-API-Key"


class KeyRefused(PermissionError):
    """An API key was given but is unknown or disabled (403); the message is bilingual."""


def new_key() -> str:
    """A fresh API key (shown once; only :func:`hash_key` of it is stored)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The SHA-256 (hex) of ``key``, as stored (see the module docstring for why SHA-256)."""
    return hashlib.sha256(key.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling: ``kind`` is ``apikey``, ``session`` or ``anonymous``."""

    kind: str
    name: str
    scope: Scope

    @property
    def anonymous(self) -> bool:
        return self.kind == "anonymous"


def given_key() -> str | None:
    """The API key of the current request (header first, then query or form), if any."""
    key = request.headers.get(HEADER) or request.args.get("api_key")
    if key is None and request.method == "POST" and not request.is_json:
        key = request.form.get("api_key")
    return key.strip() if key and key.strip() else None


def _note_use(store: ApiKeyStore, name: str) -> None:
    """Note the key's use (``ember apikey list`` shows when each was last used). Bookkeeping:
    a store too busy to note it does not refuse the request; the failure is logged (the key's
    name, never the key)."""
    try:
        store.apikey_touch(name, datetime.now(UTC))
    except Exception:  # any store failure: the request goes on
        log.warning("could not note the use of API key %s", name, exc_info=True)


def _usable(store: ApiKeyStore, key: str) -> ApiKey:
    try:
        found = store.apikey_by_hash(hash_key(key))
    except ApiKeyNotFound:
        raise KeyRefused("API 密钥无效 / invalid api_key") from None
    if found.disabled:
        raise KeyRefused("API 密钥已停用 / this api_key is disabled")
    return found


def refuse_bad_key(store: ApiKeyStore) -> None:
    """Raise :class:`KeyRefused` when the request carries an unknown or disabled key, also on
    a view that needs none (a disabled key went on working there, unnoticed)."""
    key = given_key()
    if key is not None:
        _usable(store, key)


def caller(store: ApiKeyStore, key: str | None = None) -> Caller:
    """The caller of the current request and its scope (anonymous: the empty scope).

    Raises
    ------
    KeyRefused
        A key was given that is unknown or disabled.
    """
    key = key if key is not None else given_key()
    if key is not None:
        found = _usable(store, key)
        _note_use(store, found.name)
        actor = f"apikey:{found.name}"
        return Caller("apikey", found.name, scope_for(found.role, found.areas, actor))
    account = current_account()
    if account is not None:
        return Caller("session", account.username, user_scope(account))
    return Caller("anonymous", "", Scope(actor="anonymous", read_only=True))
