"""``stats()`` on both backends: freshness and quarantine backlog for health checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store import IncidentStore, QuarantineRow
from tests.store.conftest import T0, make_incident


def test_stats_of_an_empty_and_a_used_store(store: IncidentStore) -> None:
    empty = store.stats()
    assert empty.last_received_at is None and empty.last_added_at is None
    assert empty.quarantine_open == 0 and empty.schema_version == store.schema_version()
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.add_incidents([make_incident(n) for n in range(3)])
    store.quarantine_add(
        [
            QuarantineRow(
                source="110",
                file="a.csv",
                line=n,
                raw={"警情编号": f"J{n}"},
                problems=({"code": "bad_time", "column": "报警时间", "zh": "坏", "en": "bad"},),
            )
            for n in (2, 3)
        ]
    )
    s = store.stats()
    assert s.last_received_at == make_incident(2).received_at.astimezone(UTC)
    assert s.last_added_at is not None and before <= s.last_added_at <= datetime.now(UTC)
    assert s.quarantine_open == 2
    assert s.last_received_at > T0
