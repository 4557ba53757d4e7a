"""Password hashing with argon2id (argon2-cffi's :class:`~argon2.PasswordHasher` defaults).

Nothing here logs, prints or stores a password; the store keeps only the hash.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
#: Verified against when the username is unknown, so that the answer takes as long either way.
_DUMMY = _HASHER.hash("ember-no-such-user")
MIN_LENGTH = 8


class WeakPassword(ValueError):
    """A new password is too short or blank; the message is bilingual."""


def check_new_password(password: str) -> str:
    """``password`` if acceptable as a new password (8+ characters, not only blanks)."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise WeakPassword(
            f"密码至少 {MIN_LENGTH} 个字符 / the password needs at least {MIN_LENGTH} characters"
        )
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (a new salt each time)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; ``None`` (no such user) is checked
    against a dummy hash and is always False."""
    try:
        ok = _HASHER.verify(stored_hash or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's defaults."""
    return _HASHER.check_needs_rehash(stored_hash)
