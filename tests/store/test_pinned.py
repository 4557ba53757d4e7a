"""``store.pinned()``: bulk work shares one connection per thread, and every transaction inside
still commits (or rolls back) on its own, on both backends."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from store import DuplicateIncident, IncidentQuery, IncidentStore, Scope, open_store
from tests.store.conftest import make_incident

EVERYONE = Scope.everything(actor="test")


def ids(store: IncidentStore) -> list[str]:
    return sorted(store.query_incidents(IncidentQuery(), EVERYONE)["id"])


def test_each_write_in_a_pinned_block_commits_on_its_own(store: Any, store_url: str) -> None:
    other = open_store(store_url)  # another client: sees only what is committed
    try:
        with store.pinned():
            store.add_incidents([make_incident(1)])
            assert ids(other) == [make_incident(1).id]
            with pytest.raises(DuplicateIncident):  # rolled back, as a whole
                store.add_incidents([make_incident(2), make_incident(1)])
            with store.pinned():  # nested: the same connection, still usable
                store.add_incidents([make_incident(3)])
            assert ids(other) == sorted([make_incident(1).id, make_incident(3).id])
        store.add_incidents([make_incident(4)])  # after the block: a connection of its own
        assert len(ids(other)) == 3
    finally:
        other.close()


def test_other_threads_keep_their_own_connections(store: Any) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            store.add_incidents([make_incident(n)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    with store.pinned():
        store.add_incidents([make_incident(1)])
        worker = threading.Thread(target=write, args=(2,))
        worker.start()
        worker.join(timeout=30)
        store.add_incidents([make_incident(3)])
    assert not errors, errors
    assert ids(store) == sorted(make_incident(n).id for n in (1, 2, 3))


def test_a_call_inside_another_transaction_is_not_nested_into_it(store: Any) -> None:
    """A store call made while a transaction of this thread is open (as the ingest's hooks and
    audit helpers may) runs as it would outside a pinned block: in its own transaction."""
    with store.pinned():
        with store._tx("outer"):  # open, uncommitted
            assert store.query_incidents(IncidentQuery(), EVERYONE).empty
        store.add_incidents([make_incident(1)])
    assert ids(store) == [make_incident(1).id]
