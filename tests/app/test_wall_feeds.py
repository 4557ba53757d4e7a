"""The wall's feeds alarm: silent while incidents arrive, the minutes once they stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.components.wall_feeds import feeds_alarm
from store import open_store
from tests.store.conftest import make_incident


def test_alarm_follows_the_last_added_incident(tmp_path: Path) -> None:
    url = str(tmp_path / "ember.gpkg")
    store = open_store(url)
    store.schema_version()
    text, cls = feeds_alarm(url, "zh")
    assert text == "尚未接入任何事项" and "wall-feeds-on" in cls
    store.add_incidents([make_incident(1)])
    store.close()
    assert feeds_alarm(url, "zh") == ("", "wall-feeds")
    later = datetime.now(UTC) + timedelta(hours=2)
    text, cls = feeds_alarm(url, "en", now=later)
    assert text.startswith("Feeds quiet: no new incident for 1") and "min" in text
    assert "wall-feeds-on" in cls


def test_no_alarm_when_the_store_is_unreachable(tmp_path: Path) -> None:
    """The staleness banner covers a dead server; this alarm is about the feeds only."""
    (tmp_path / "bad.gpkg").write_bytes(b"not a database" * 100)
    assert feeds_alarm(str(tmp_path / "bad.gpkg"), "zh") == ("", "wall-feeds")
