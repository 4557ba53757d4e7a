"""Accounts and sign-in attempts, shared by both backends (:class:`AccountsMixin`).

The statements are plain SQL both SQLite and PostgreSQL accept (``INSERT … ON CONFLICT DO
NOTHING``, booleans bound as parameters); a backend supplies only its parameter marker
(:attr:`AccountsMixin._ph`), how it binds a time (:attr:`AccountsMixin._time_as_text`) and its
``_tx(point)`` transaction, which yields something with ``execute(sql, params)``. Times are
UTC; account changes are written to ``audit_log`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from store import _codec as codec
from store.accounts import User
from store.base import DuplicateUser, UserNotFound

#: Sign-in attempts are kept this long (rate limiting looks back minutes, not days).
KEEP_ATTEMPTS = timedelta(days=1)
_COLUMNS = "username, role, areas, disabled, created_at, last_login_at"


def _user(row: Sequence[Any]) -> User:
    username, role, areas, disabled, created_at, last_login_at = row[:6]
    return User(
        username=str(username),
        role=str(role),
        areas=tuple(str(a) for a in codec.from_json(areas) or ()),
        disabled=bool(disabled),
        created_at=codec.parse_time(created_at),
        last_login_at=codec.parse_time(last_login_at),
    )


def _not_found(username: str) -> UserNotFound:
    return UserNotFound(f"用户不存在 / no user {username!r}")


class AccountsMixin:
    """The :class:`~store.accounts.AccountStore` methods, on top of a backend's ``_tx``."""

    #: Parameter marker of the backend's driver.
    _ph: ClassVar[str] = "?"
    #: Whether the backend binds times as ISO text (SQLite) rather than datetimes (psycopg).
    _time_as_text: ClassVar[bool] = True

    def _tx(self, point: str | None) -> AbstractContextManager[Any]:  # pragma: no cover
        raise NotImplementedError

    def _time(self, t: datetime) -> Any:
        return codec.iso_ms(t) if self._time_as_text else codec.utc_ms(t)

    def _sql(self, text: str) -> str:
        return text.replace("?", self._ph)

    def _audit_user(self, db: Any, actor: str, action: str, detail: dict[str, Any]) -> None:
        db.execute(
            self._sql(
                "INSERT INTO audit_log (at, actor, action, incident_id, detail) "
                "VALUES (?, ?, ?, NULL, ?)"
            ),
            (self._time(datetime.now(UTC)), actor, action, codec.to_json(detail)),
        )

    def user_add(
        self, username: str, role: str, areas: Sequence[str], password_hash: str, *, actor: str
    ) -> User:
        if isinstance(areas, str):
            raise TypeError("areas 须为序列 / areas must be a sequence of codes")
        codes = [str(a) for a in areas]
        with self._tx("user_add") as db:
            cur = db.execute(
                self._sql(
                    "INSERT INTO users (username, password_hash, role, areas, disabled, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING"
                ),
                (
                    username,
                    password_hash,
                    role,
                    codec.to_json(codes),
                    False,
                    self._time(datetime.now(UTC)),
                ),
            )
            if cur.rowcount != 1:
                raise DuplicateUser(f"用户已存在 / user {username!r} exists already")
            detail = {"username": username, "role": role, "areas": codes}
            self._audit_user(db, actor, "user_add", detail)
        return self.user_get(username)

    def _row(self, db: Any, username: str, extra: str = "") -> Sequence[Any]:
        row = db.execute(
            self._sql(f"SELECT {_COLUMNS}{extra} FROM users WHERE username = ?"), (username,)
        ).fetchone()
        if row is None:
            raise _not_found(username)
        return row  # type: ignore[no-any-return]

    def user_get(self, username: str) -> User:
        with self._tx(None) as db:
            return _user(self._row(db, username))

    def user_list(self) -> list[User]:
        with self._tx(None) as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM users ORDER BY username").fetchall()
        return [_user(r) for r in rows]

    def user_credentials(self, username: str) -> tuple[User, str]:
        with self._tx(None) as db:
            row = self._row(db, username, ", password_hash")
        return _user(row), str(row[6])

    def user_set_password(self, username: str, password_hash: str, *, actor: str) -> None:
        with self._tx("user_set_password") as db:
            cur = db.execute(
                self._sql("UPDATE users SET password_hash = ? WHERE username = ?"),
                (password_hash, username),
            )
            if cur.rowcount != 1:
                raise _not_found(username)
            self._audit_user(db, actor, "user_password", {"username": username})

    def user_set_disabled(self, username: str, disabled: bool, *, actor: str) -> User:
        with self._tx("user_set_disabled") as db:
            cur = db.execute(
                self._sql("UPDATE users SET disabled = ? WHERE username = ?"),
                (bool(disabled), username),
            )
            if cur.rowcount != 1:
                raise _not_found(username)
            action = "user_disable" if disabled else "user_enable"
            self._audit_user(db, actor, action, {"username": username})
        return self.user_get(username)

    def login_attempt(self, username: str, ip: str, *, success: bool, at: datetime) -> None:
        when = self._time(at)
        with self._tx("login_attempt") as db:
            db.execute(
                self._sql("DELETE FROM login_attempts WHERE at < ?"),
                (self._time(at - KEEP_ATTEMPTS),),
            )
            db.execute(
                self._sql(
                    "INSERT INTO login_attempts (at, username, ip, success) VALUES (?, ?, ?, ?)"
                ),
                (when, username, ip, bool(success)),
            )
            if success:
                db.execute(
                    self._sql("UPDATE users SET last_login_at = ? WHERE username = ?"),
                    (when, username),
                )

    def login_failures(self, username: str, ip: str, since: datetime) -> tuple[int, int]:
        failures = "SELECT count(*) FROM login_attempts WHERE success = ? AND at >= ?"
        with self._tx(None) as db:
            last = db.execute(
                self._sql("SELECT max(at) FROM login_attempts WHERE username = ? AND success = ?"),
                (username, True),
            ).fetchone()[0]
            last_ok = codec.parse_time(last)
            start = since if last_ok is None else max(since, last_ok + timedelta(microseconds=1))
            by_user = db.execute(
                self._sql(failures + " AND username = ?"), (False, self._time(start), username)
            ).fetchone()[0]
            by_ip = db.execute(
                self._sql(failures + " AND ip = ?"), (False, self._time(since), ip)
            ).fetchone()[0]
        return int(by_user), int(by_ip)
