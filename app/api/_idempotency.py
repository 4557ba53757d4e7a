"""``Idempotency-Key`` on Open311 POSTs: a client's retry of one request answers as the first
did, and never makes a second incident.

GeoReport v2 gives a request no id of the client's, so a POST whose answer was lost (a timeout,
a dropped connection) and is sent again was a second incident. A client that sends the header
(the IETF ``Idempotency-Key`` draft, as Stripe and most payment APIs take it) gets a token made
from its key name and the header's value, keyed with the server's secret (so tokens stay
unguessable): the ingest pipeline stores one incident per token, and a request sent again with
the same key is answered from what the first one became — 201 with its request id, or 202 with
its token while it is held for review. The same key with another request (another category or
description) is refused (422): it names a different request.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app

from app.api._open311_input import Open311Error
from store import Scope
from store.base import IncidentStore, QuarantineEntry

HEADER = "Idempotency-Key"
#: A key: 1-255 visible ASCII characters (a UUID as most clients send, or any id of theirs).
_VALID = re.compile(r"[\x21-\x7e]{1,255}")
_READER = Scope.everything("open311")


def idempotency_key(value: str | None) -> str | None:
    """The key a request's ``Idempotency-Key`` header (``value``) gives, or None without one.

    Raises
    ------
    Open311Error
        400 when the header is there but not a key.
    """
    if value is None:
        return None
    value = value.strip().strip('"')  # the draft's form is a quoted string; both are taken
    if not _VALID.fullmatch(value):
        raise Open311Error(
            400,
            f"{HEADER} 须为 1–255 个可见 ASCII 字符 / {HEADER} must be 1-255 visible ASCII "
            "characters",
        )
    return value


def request_token(key_name: str, idempotency: str) -> str:
    """The token of the request the API key ``key_name`` sent with ``idempotency`` (20 hex
    digits, as a random token), keyed with the server's secret."""
    secret = str(current_app.secret_key or "").encode()
    message = f"{key_name}\x1f{idempotency}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:20]


def request_state(store: IncidentStore, token: str) -> tuple[str | None, QuarantineEntry | None]:
    """What the request of ``token`` became: its incident id, or its quarantine entry while it
    is held (both None when no request had it)."""
    found = store.source_keys("open311", [token]).get(token)
    if found is not None:
        return found.incident_id, None
    held = (e for e in store.quarantine_list(source="open311") if e.source_id == token)
    return None, next(held, None)


def earlier(
    store: IncidentStore, token: str, category: str, description: str
) -> tuple[str | None, QuarantineEntry | None]:
    """:func:`request_state` of an earlier request of ``token``, checked to be this one.

    Raises
    ------
    Open311Error
        422 when the earlier request was another one (category or description differ).
    """
    done, held = request_state(store, token)
    if done is not None:
        first = store.get_incident(done, _READER).incident
        _same(first.category == category.split(".")[0] and first.description == description)
    elif held is not None:
        raw = held.raw
        _same(raw.get("service_code") == category and raw.get("description") == description)
    return done, held


def _same(same: bool) -> None:
    if not same:
        raise Open311Error(
            422,
            f"该 {HEADER} 已用于另一个请求 / this {HEADER} was used for a different request",
        )


__all__ = ["HEADER", "earlier", "idempotency_key", "request_state", "request_token"]
