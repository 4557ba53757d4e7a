"""Keyset cursors of the OGC incidents links (``app.api._cursor``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.api._cursor import BadCursor, Cursor

CST = timezone(timedelta(hours=8))


def test_a_cursor_survives_its_token_to_the_millisecond_in_utc() -> None:
    at = datetime(2026, 3, 1, 9, 30, 5, 123000, tzinfo=CST)
    back = Cursor.parse(Cursor(False, at, "NB52-甲").token())
    assert back == Cursor(False, at, "NB52-甲") and back.at.utcoffset() == timedelta(0)
    token = Cursor(True, at, "x").token()
    assert token.isascii() and "=" not in token and Cursor.parse(token).forward


@pytest.mark.parametrize(
    "token",
    ["", "nope", "W10", "WyJ4IiwiMjAyNi0wMS0wMSIsIngiXQ", "WyJuIiwiMjAyNi0wMS0wMSIsIngiXQ"],
)
def test_a_token_it_did_not_write_is_refused_in_both_languages(token: str) -> None:
    # "[]", ["x", "2026-01-01", "x"] (no direction), ["n", "2026-01-01", "x"] (no zone)
    with pytest.raises(BadCursor, match=r"cursor 无效.*cursor is not valid"):
        Cursor.parse(token)


def test_times_compare_as_instants() -> None:
    utc = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert Cursor.parse(Cursor(True, utc.astimezone(CST), "a").token()).at == utc
