"""Keyset cursors of the incidents collection's ``next``/``prev`` links.

A cursor names the incident a page continues from, as ``(received_at, id)`` (the collection's
order) and a direction, so the store reads a deep page as cheaply as the first one
(:attr:`store.IncidentQuery.after`); an ``offset`` reads, and throws away, every row it skips.
Incidents stored while a harvester pages do not shift the pages after its cursor. The token is
opaque to clients (base64url of a small JSON array); only this module reads it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

import orjson
import pandas as pd


class BadCursor(ValueError):
    """A cursor this server did not write (message bilingual)."""


@dataclass(frozen=True)
class Cursor:
    """Continue after (``forward``) or before the incident received at ``at`` with ``id``."""

    forward: bool
    at: datetime
    id: str

    def token(self) -> str:
        """The cursor as a URL-safe token."""
        at = pd.Timestamp(self.at).tz_convert("UTC").isoformat(timespec="milliseconds")
        raw = orjson.dumps(["n" if self.forward else "p", at, self.id])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor of ``token``.

        Raises
        ------
        BadCursor
            The token is not one :meth:`token` wrote.
        """
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            way, at, inc_id = orjson.loads(raw)
            stamp = pd.Timestamp(at)
            if way not in ("n", "p") or not isinstance(inc_id, str) or stamp.tzinfo is None:
                raise ValueError(token)
        except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
            raise BadCursor(
                f"cursor 无效，请使用上一页返回的链接 / cursor is not valid (follow the links "
                f"of the page before): {token[:80]!r}"
            ) from None
        return cls(way == "n", stamp.to_pydatetime(), inc_id)


__all__ = ["BadCursor", "Cursor"]
