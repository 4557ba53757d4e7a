"""The wall's feed alarm: says when no incident has arrived for a while (issue #10).

The staleness banner says the *wall* lost its server; this one says the *feeds* went quiet: the
store added no incident for longer than :data:`app.health.STALL_AFTER` (a 110 export that
stopped, a broken watch folder). It shows the minutes and leaves the judgement (a quiet night,
or a broken link) to the people in the room. Refreshed with the wall's slow tick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, html

from app.health import health
from app.i18n import Lang, lang_of, t

BANNER_ID = "wall-feeds"


def banner(url: str | None = None, lang: Lang = "zh") -> html.Div:
    """The alarm as it stands for the store at ``url`` (empty without one); the slow tick
    refreshes it."""
    text, cls = feeds_alarm(url, lang) if url else ("", "wall-feeds")
    return html.Div(text, id=BANNER_ID, className=cls)


def feeds_alarm(url: str, lang: Lang, now: datetime | None = None) -> tuple[str, str]:
    """The alarm's text and class for the store at ``url`` (empty when feeds are live)."""
    doc, status = health(url, now)
    ingest = doc.get("ingest") or {}
    if status != 200 or not ingest.get("stalled"):
        return "", "wall-feeds"
    minutes = ingest.get("minutes_since")
    if minutes is None:
        return t("feeds.never", lang), "wall-feeds wall-feeds-on"
    return t("feeds.stalled", lang, n=int(minutes)), "wall-feeds wall-feeds-on"


def register(app: Dash, url: str) -> None:
    """Refresh the alarm on the wall's slow tick (the page comes with it: :func:`banner`)."""

    @app.callback(
        Output(BANNER_ID, "children"),
        Output(BANNER_ID, "className"),
        Input("wall-slow", "n_intervals"),
        State("wall-i18n", "data"),
        prevent_initial_call=True,
    )
    def _feeds(_n: Any, i18n: dict[str, Any] | None) -> tuple[str, str]:
        return feeds_alarm(url, lang_of((i18n or {}).get("lang")))
