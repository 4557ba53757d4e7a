"""Conformance of API keys (issue #9), on every backend."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from store import (
    ApiKey,
    ApiKeyNotFound,
    ApiKeyStore,
    DuplicateApiKey,
    IncidentStore,
    StoreError,
)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_schema_has_the_api_key_table(store: IncidentStore) -> None:
    assert isinstance(store, ApiKeyStore)
    assert store.schema_version() >= 4
    assert "api_keys" not in store.layer_names()
    with pytest.raises(StoreError, match="reserved"):
        store.write_layers({"api_keys": pd.DataFrame({"a": [1]})})


def test_add_get_list_by_hash(store: IncidentStore) -> None:
    added = store.apikey_add("city12345", "dispatcher", [], _hash("k1"), actor="admin")
    assert isinstance(added, ApiKey)
    assert (added.name, added.role, added.areas, added.disabled) == (
        "city12345",
        "dispatcher",
        (),
        False,
    )
    assert added.created_at is not None and added.created_at.tzinfo is not None
    grid = store.apikey_add("gridapp", "grid", ["330784199001001"], _hash("k2"), actor="admin")
    assert grid.areas == ("330784199001001",)
    assert [k.name for k in store.apikey_list()] == ["city12345", "gridapp"]
    assert store.apikey_get("gridapp") == grid
    assert store.apikey_by_hash(_hash("k2")) == grid
    assert _hash("k1") not in repr(store.apikey_list())  # no hash in the values


def test_duplicates_and_unknown(store: IncidentStore) -> None:
    store.apikey_add("a", "analyst", [], _hash("k"), actor="t")
    with pytest.raises(DuplicateApiKey, match="exists"):
        store.apikey_add("a", "analyst", [], _hash("other"), actor="t")
    with pytest.raises(DuplicateApiKey):
        store.apikey_add("b", "analyst", [], _hash("k"), actor="t")  # same key, other name
    with pytest.raises(ApiKeyNotFound, match="no API key"):
        store.apikey_get("nobody")
    with pytest.raises(ApiKeyNotFound):
        store.apikey_by_hash(_hash("nope"))
    with pytest.raises(ApiKeyNotFound):
        store.apikey_set_disabled("nobody", True, actor="t")
    with pytest.raises(TypeError):
        store.apikey_add("c", "grid", "330784199001001", _hash("c"), actor="t")  # type: ignore[arg-type]


def test_disable_enable_is_audited(store: IncidentStore) -> None:
    store.apikey_add("hub", "analyst", [], _hash("hub"), actor="admin")
    assert store.apikey_set_disabled("hub", True, actor="admin").disabled
    assert store.apikey_by_hash(_hash("hub")).disabled
    assert not store.apikey_set_disabled("hub", False, actor="admin").disabled
    actions = [(e.actor, e.action, e.detail.get("name")) for e in store.audit_log()]
    assert actions[-3:] == [
        ("admin", "apikey_add", "hub"),
        ("admin", "apikey_disable", "hub"),
        ("admin", "apikey_enable", "hub"),
    ]
    assert all(_hash("hub") not in str(e.detail) for e in store.audit_log())


def test_a_use_is_noted_at_most_once_a_minute(store: IncidentStore) -> None:
    from datetime import UTC, datetime, timedelta

    store.apikey_add("poller", "analyst", [], _hash("p"), actor="admin")
    assert store.apikey_get("poller").last_used_at is None  # never used
    t0 = datetime(2026, 12, 4, 8, 0, 0, 123000, tzinfo=UTC)
    store.apikey_touch("poller", t0)
    assert store.apikey_get("poller").last_used_at == t0
    store.apikey_touch("poller", t0 + timedelta(seconds=59))  # polled again within the minute
    assert store.apikey_get("poller").last_used_at == t0
    store.apikey_touch("poller", t0 + timedelta(minutes=1, seconds=5))
    assert store.apikey_get("poller").last_used_at == t0 + timedelta(minutes=1, seconds=5)
    assert store.apikey_list()[0].last_used_at == t0 + timedelta(minutes=1, seconds=5)
    store.apikey_touch("nobody", t0)  # unknown: nothing to note, no error
    assert [e.action for e in store.audit_log()] == ["apikey_add"]  # a use is not a change
    with pytest.raises(ValueError, match="aware"):
        store.apikey_touch("poller", datetime(2026, 12, 4, 8, 0))
