"""Conformance of the quarantine table and the (source, source_id) lookup, on every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from incidents.model import Event
from store import IncidentStore, QuarantineNotFound, QuarantineRow, Scope
from tests.store.conftest import make_incident

PROBLEM = {"code": "missing_id", "column": "警情编号", "zh": "缺少警情编号", "en": "no 警情编号"}


def _row(line: int, phone: str = "13812345678", **kw: object) -> QuarantineRow:
    fields: dict[str, object] = {
        "source": "110",
        "file": "feed.csv",
        "line": line,
        "raw": {"警情编号": "", "联系电话": phone, "报警地址": f"演示镇测试路{line}号"},
        "problems": (PROBLEM,),
    }
    fields.update(kw)
    return QuarantineRow(**fields)  # type: ignore[arg-type]


def test_add_list_get(store: IncidentStore) -> None:
    assert store.quarantine_add([_row(2), _row(3)]) == 2
    entries = store.quarantine_list()
    assert [e.line for e in entries] == [2, 3]
    first = store.quarantine_get(entries[0].id)
    assert first.status == "open" and first.code == "missing_id" and first.column == "警情编号"
    assert first.raw["联系电话"] == "13812345678"  # the raw row is kept as read
    assert first.reason == "缺少警情编号 / no 警情编号"
    assert first.problems[0]["code"] == "missing_id"
    assert first.file == "feed.csv" and first.source == "110"


def test_add_is_idempotent(store: IncidentStore) -> None:
    assert store.quarantine_add([_row(2)]) == 1
    assert store.quarantine_add([_row(2), _row(5)]) == 1  # same raw row again: skipped
    assert len(store.quarantine_list()) == 2


def test_undecodable_text_is_stored(store: IncidentStore) -> None:
    bad = "演示镇\udcb2\udce2路"  # bytes the reader could not decode, kept as surrogates
    assert store.quarantine_add([_row(7, raw={"报警地址": bad})]) == 1
    (e,) = store.quarantine_list()
    assert "\ufffd" in e.raw["报警地址"]


def test_resolve_and_filters(store: IncidentStore) -> None:
    store.quarantine_add([_row(2), _row(3), _row(4, source="12345")])
    e2, e3, e4 = store.quarantine_list()
    done = store.quarantine_resolve(e2.id, actor="clerk-1", incident_id="I0001", note="fixed")
    assert done.status == "resolved" and done.incident_id == "I0001"
    assert done.resolved_by == "clerk-1" and done.resolved_at is not None
    store.quarantine_resolve(e3.id, actor="clerk-1", status="discarded")
    assert [e.id for e in store.quarantine_list()] == [e4.id]
    assert [e.id for e in store.quarantine_list(status=None, source="110")] == [e2.id, e3.id]
    assert [e.id for e in store.quarantine_list(status="discarded")] == [e3.id]
    with pytest.raises(QuarantineNotFound):
        store.quarantine_resolve(e2.id, actor="clerk-1")  # already resolved
    with pytest.raises(QuarantineNotFound):
        store.quarantine_get(999_999)
    with pytest.raises(ValueError):
        store.quarantine_resolve(e4.id, actor="clerk-1", status="open")
    actions = [a.action for a in store.audit_log()]
    assert actions.count("quarantine_resolve") == 2 and "quarantine_add" in actions
    assert all("13812345678" not in str(a.detail) for a in store.audit_log())


def test_source_keys(store: IncidentStore) -> None:
    a, b = make_incident(1), make_incident(2)
    recv = Event(a.id, 1, "receive", a.received_at, "ingest", data={"content_hash": "h1"})
    store.add_incidents([a, b], [recv], actor="ingest")
    keys = store.source_keys("110", [a.source_id, b.source_id, "nope"])
    assert set(keys) == {a.source_id, b.source_id}
    assert keys[a.source_id].incident_id == a.id and keys[a.source_id].version == 1
    assert keys[a.source_id].content_hashes == ("h1",) and keys[b.source_id].content_hashes == ()
    amend = Event(a.id, 2, "amend", recv.at, "ingest", data={"content_hash": "h2"})
    store.append_event(amend, 1, Scope.everything())
    note = Event(a.id, 3, "note", recv.at, "clerk", data={})
    store.append_event(note, 2, Scope.everything())
    key = store.source_keys("110", [a.source_id])[a.source_id]
    assert (key.version, key.content_hashes) == (3, ("h1", "h2"))
    assert store.source_keys("12345", [a.source_id]) == {}
    many = [replace(make_incident(10), id=f"X{i}", source_id=f"S{i}") for i in range(6000)]
    store.add_incidents(many)
    assert len(store.source_keys("110", [f"S{i}" for i in range(6000)])) == 6000
