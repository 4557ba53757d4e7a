"""Two writers in two processes on one incident, and a writer killed mid-transaction.

Each backend, real processes (``spawn``): every update either lands or is refused with
:class:`~store.base.StaleVersion`, none is lost, and a SIGKILL before COMMIT leaves nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import timedelta
from typing import Any

import pytest

from incidents.model import Event, State
from store import IncidentQuery, Scope, StaleVersion, open_store
from tests.store.conftest import event, make_incident

CTX = multiprocessing.get_context("spawn")
ALL = Scope.everything("tester")
TIMEOUT_S = 120


def _note(incident_id: str, seq: int, writer: int, n: int) -> Event:
    at = make_incident(1).received_at + timedelta(minutes=1)
    return Event(incident_id, seq, "note", at, f"writer-{writer}", data={"w": writer, "n": n})


def _racer(url: str, writer: int, rounds: int, barrier: Any, lockstep: bool, out: Any) -> None:
    """Append ``rounds`` notes to I0001; in lockstep every round starts from the same version."""
    store = open_store(url)
    landed: list[int] = []
    refused: list[int] = []
    try:
        version = store.get_incident("I0001", ALL).status.version
        barrier.wait(TIMEOUT_S)
        for n in range(rounds):
            if lockstep:
                version = store.get_incident("I0001", ALL).status.version
                barrier.wait(TIMEOUT_S)
            try:
                store.append_event(_note("I0001", version + 1, writer, n), version, ALL)
                landed.append(n)
                version += 1
            except StaleVersion as exc:
                assert exc.expected == version and exc.actual > version
                refused.append(n)
                version = exc.actual
        out.put((writer, landed, refused, None))
    except BaseException as exc:  # report, so the parent fails with the reason
        out.put((writer, landed, refused, repr(exc)))
    finally:
        store.close()


def _race(
    url: str, rounds: int, lockstep: bool
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    store = open_store(url)
    try:
        store.add_incidents([make_incident(1)])
    finally:
        store.close()
    barrier, out = CTX.Barrier(2), CTX.Queue()
    procs = [
        CTX.Process(target=_racer, args=(url, w, rounds, barrier, lockstep, out)) for w in (1, 2)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=TIMEOUT_S) for _ in procs]
    for p in procs:
        p.join(TIMEOUT_S)
        assert p.exitcode == 0
    assert [r[3] for r in results] == [None, None], results
    return {w: lnd for w, lnd, _, _ in results}, {w: ref for w, _, ref, _ in results}


def _check_nothing_lost(url: str, landed: dict[int, list[int]], attempts: int) -> None:
    store = open_store(url)
    try:
        rec = store.get_incident("I0001", ALL)
    finally:
        store.close()
    n_landed = sum(len(v) for v in landed.values())
    assert rec.status.version == 1 + n_landed
    assert [e.seq for e in rec.events] == list(range(1, n_landed + 2))
    stored = sorted((e.data["w"], e.data["n"]) for e in rec.events[1:])
    assert stored == sorted((w, n) for w, ns in landed.items() for n in ns)
    assert all(e.actor == f"writer-{e.data['w']}" for e in rec.events[1:])
    assert attempts >= n_landed


def test_two_writers_in_lockstep_exactly_one_wins_each_round(store_url: str) -> None:
    rounds = 15
    landed, refused = _race(store_url, rounds, lockstep=True)
    for n in range(rounds):  # both acted on the same version: one landed, the other refused
        winners = [w for w in (1, 2) if n in landed[w]]
        losers = [w for w in (1, 2) if n in refused[w]]
        assert len(winners) == 1 and len(losers) == 1, (n, landed, refused)
    _check_nothing_lost(store_url, landed, 2 * rounds)


def test_two_free_running_writers_lose_nothing(store_url: str) -> None:
    rounds = 40
    landed, refused = _race(store_url, rounds, lockstep=False)
    for w in (1, 2):
        assert sorted(landed[w] + refused[w]) == list(range(rounds))
    _check_nothing_lost(store_url, landed, 2 * rounds)


# --- a writer killed between its writes and COMMIT -------------------------------------------


def _stalled_writer(url: str, point: str, ready: Any) -> None:
    """Start a write, and hang inside the transaction just before COMMIT."""
    import store.base

    def hang(name: str) -> None:
        if name == point:
            ready.set()
            time.sleep(600)

    store.base.before_commit = hang
    s = open_store(url)
    if point == "append_event":
        s.append_event(event(make_incident(1), 2, "dispatch", 3), 1, ALL)
    else:
        incs = [make_incident(i) for i in range(100, 150)]
        s.add_incidents(
            incs, [e for i in incs for e in (event(i, 1, "receive", 0), event(i, 2, "dispatch", 1))]
        )


@pytest.mark.parametrize("point", ["append_event", "add_incidents"])
def test_writer_killed_mid_transaction_leaves_nothing(store_url: str, point: str) -> None:
    s = open_store(store_url)
    try:
        s.add_incidents([make_incident(1)])
        before = (s.audit_log(), s.events("I0001", ALL))
        ready = CTX.Event()
        proc = CTX.Process(target=_stalled_writer, args=(store_url, point, ready))
        proc.start()
        assert ready.wait(TIMEOUT_S), "the writer never reached its commit"
        os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
        proc.join(TIMEOUT_S)
        assert proc.exitcode == -signal.SIGKILL
        # nothing of the killed transaction is visible …
        assert ids_of(s) == ["I0001"]
        assert (s.audit_log(), s.events("I0001", ALL)) == before
        assert s.get_incident("I0001", ALL).status.state == State.RECEIVED
        # … its locks are gone, and what it tried can be done now, once
        status = s.append_event(event(make_incident(1), 2, "dispatch", 3), 1, ALL)
        assert status.version == 2
        incs = [make_incident(i) for i in range(100, 150)]
        assert s.add_incidents(incs) == 50
        assert len(ids_of(s)) == 51
    finally:
        s.close()


def ids_of(s: Any) -> list[str]:
    return list(s.query_incidents(IncidentQuery(), ALL)["id"])


def test_a_write_that_waits_past_another_writers_lock_is_refused_as_busy(store_url: str) -> None:
    """A lock held by another connection (a stuck session, a long import) made a dispatcher's
    action wait for ever on PostgreSQL; now, on both backends, it waits ``wait_s`` and is
    refused with :class:`StoreBusy` (nothing written), and goes through once the lock is gone."""
    from store import StoreBusy
    from store.gpkg import GeoPackageStore
    from tests.store.conftest import event

    inc = make_incident(1)
    setup = open_store(store_url)
    setup.add_incidents([inc])
    setup.close()
    pg = store_url.startswith("postgresql://")
    if pg:
        import psycopg

        from store.postgis import PostGISStore

        short: Any = PostGISStore(store_url, wait_s=0.4)
        holder: Any = psycopg.connect(store_url)  # in a transaction until rolled back
        holder.execute("SELECT 1 FROM incidents WHERE id = %s FOR UPDATE", (inc.id,))
    else:
        import sqlite3

        short = GeoPackageStore(store_url, wait_s=0.4)
        holder = sqlite3.connect(store_url, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as another writer holds it
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreBusy, match="held by another writer"):
            short.append_event(event(inc, 2, "note", 5), 1, ALL)
        assert 0.3 <= time.monotonic() - t0 < 10
        holder.rollback() if pg else holder.execute("ROLLBACK")
        assert short.append_event(event(inc, 2, "note", 5), 1, ALL).version == 2
    finally:
        holder.close()
        short.close()
