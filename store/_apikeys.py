"""API keys, shared by both backends (:class:`ApiKeysMixin`).

Plain SQL that SQLite and PostgreSQL both accept, on top of :class:`store._users.AccountsMixin`
(its parameter marker, time binding, ``_tx`` and audit helper). The store keeps the key's hash
only; hashing is the caller's (:func:`app.api._auth.hash_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from store import _codec as codec
from store._users import AccountsMixin
from store.apikeys import ApiKey
from store.base import StoreError

_COLUMNS = "name, role, areas, disabled, created_at, last_used_at"
#: How long a noted use stands before the next use is written (apikey_touch).
TOUCH_EVERY = timedelta(minutes=1)


class ApiKeyNotFound(StoreError, KeyError):
    """No API key with that name (or hash)."""

    def __str__(self) -> str:
        return str(self.args[0])


class DuplicateApiKey(StoreError):
    """An API key with that name (or hash) exists already."""


def _key(row: Sequence[Any]) -> ApiKey:
    name, role, areas, disabled, created_at, last_used_at = row[:6]
    return ApiKey(
        name=str(name),
        role=str(role),
        areas=tuple(str(a) for a in codec.from_json(areas) or ()),
        disabled=bool(disabled),
        created_at=codec.parse_time(created_at),
        last_used_at=codec.parse_time(last_used_at),
    )


def _not_found(name: str) -> ApiKeyNotFound:
    return ApiKeyNotFound(f"API 密钥不存在 / no API key {name!r}")


class ApiKeysMixin(AccountsMixin):
    """The :class:`~store.apikeys.ApiKeyStore` methods, on top of a backend's ``_tx``."""

    def apikey_add(
        self, name: str, role: str, areas: Sequence[str], key_hash: str, *, actor: str
    ) -> ApiKey:
        if isinstance(areas, str):
            raise TypeError("areas 须为序列 / areas must be a sequence of codes")
        codes = [str(a) for a in areas]
        with self._tx("apikey_add") as db:
            taken = db.execute(
                self._sql("SELECT count(*) FROM api_keys WHERE name = ? OR key_hash = ?"),
                (name, key_hash),
            ).fetchone()[0]
            if int(taken):
                raise DuplicateApiKey(f"API 密钥已存在 / API key {name!r} exists already")
            db.execute(
                self._sql(
                    "INSERT INTO api_keys (name, key_hash, role, areas, disabled, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (
                    name,
                    key_hash,
                    role,
                    codec.to_json(codes),
                    False,
                    self._time(datetime.now(UTC)),
                ),
            )
            self._audit_user(db, actor, "apikey_add", {"name": name, "role": role, "areas": codes})
        return self.apikey_get(name)

    def _apikey_where(self, column: str, value: str) -> ApiKey:
        with self._tx(None) as db:
            row = db.execute(
                self._sql(f"SELECT {_COLUMNS} FROM api_keys WHERE {column} = ?"), (value,)
            ).fetchone()
        if row is None:
            raise _not_found(value if column == "name" else "…")
        return _key(row)

    def apikey_get(self, name: str) -> ApiKey:
        return self._apikey_where("name", name)

    def apikey_by_hash(self, key_hash: str) -> ApiKey:
        return self._apikey_where("key_hash", key_hash)

    def apikey_list(self) -> list[ApiKey]:
        with self._tx(None) as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY name").fetchall()
        return [_key(r) for r in rows]

    def apikey_set_disabled(self, name: str, disabled: bool, *, actor: str) -> ApiKey:
        with self._tx("apikey_set_disabled") as db:
            cur = db.execute(
                self._sql("UPDATE api_keys SET disabled = ? WHERE name = ?"),
                (bool(disabled), name),
            )
            if cur.rowcount != 1:
                raise _not_found(name)
            action = "apikey_disable" if disabled else "apikey_enable"
            self._audit_user(db, actor, action, {"name": name})
        return self.apikey_get(name)

    def apikey_touch(self, name: str, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("使用时间须带时区 / the time of use must be aware")
        with self._tx("apikey_touch") as db:
            db.execute(
                self._sql(
                    "UPDATE api_keys SET last_used_at = ? WHERE name = ? "
                    "AND (last_used_at IS NULL OR last_used_at <= ?)"
                ),
                (self._time(at), name, self._time(at - TOUCH_EVERY)),
            )
