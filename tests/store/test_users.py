"""Conformance of accounts and sign-in attempts (issue #7), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from store import (
    DuplicateUser,
    IncidentStore,
    ReadOnlyScope,
    Scope,
    StoreError,
    User,
    UserNotFound,
)
from store.migrations import load
from tests.store.conftest import event, make_incident

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def test_schema_has_the_account_tables(store: IncidentStore) -> None:
    assert store.schema_version() == len(load("gpkg")) == len(load("postgis")) >= 3
    assert "users" not in store.layer_names() and "login_attempts" not in store.layer_names()
    with pytest.raises(StoreError, match="reserved"):
        store.write_layers({"users": pd.DataFrame({"a": [1]})})


def test_add_get_list(store: IncidentStore) -> None:
    added = store.user_add(
        "wang01", "grid", ["330784199001001", "330784199001002"], HASH, actor="t"
    )
    assert isinstance(added, User)
    assert added.username == "wang01" and added.role == "grid" and not added.disabled
    assert added.areas == ("330784199001001", "330784199001002")
    assert added.created_at is not None and added.created_at.tzinfo is not None
    assert added.last_login_at is None
    store.user_add("admin", "admin", [], HASH, actor="t")
    assert [u.username for u in store.user_list()] == ["admin", "wang01"]
    assert store.user_get("wang01") == added
    assert "argon2" not in repr(store.user_list())  # no hash in the account values


def test_duplicate_and_unknown(store: IncidentStore) -> None:
    store.user_add("li", "dispatcher", [], HASH, actor="t")
    with pytest.raises(DuplicateUser, match="exists"):
        store.user_add("li", "analyst", [], HASH, actor="t")
    assert store.user_get("li").role == "dispatcher"
    with pytest.raises(UserNotFound, match="no user"):
        store.user_get("nobody")
    with pytest.raises(UserNotFound):
        store.user_credentials("nobody")
    with pytest.raises(UserNotFound):
        store.user_set_disabled("nobody", True, actor="t")
    with pytest.raises(UserNotFound):
        store.user_set_password("nobody", HASH, actor="t")


def test_credentials_password_and_disable_are_audited(store: IncidentStore) -> None:
    store.user_add("zhao", "team", ["T01"], HASH, actor="cli:root")
    user, stored = store.user_credentials("zhao")
    assert stored == HASH and user.areas == ("T01",)
    store.user_set_password("zhao", HASH + "x", actor="admin")
    assert store.user_credentials("zhao")[1] == HASH + "x"
    assert store.user_set_disabled("zhao", True, actor="admin").disabled
    assert store.user_credentials("zhao")[0].disabled
    assert not store.user_set_disabled("zhao", False, actor="admin").disabled
    log = [(e.actor, e.action, e.detail) for e in store.audit_log()]
    assert log == [
        ("cli:root", "user_add", {"username": "zhao", "role": "team", "areas": ["T01"]}),
        ("admin", "user_password", {"username": "zhao"}),
        ("admin", "user_disable", {"username": "zhao"}),
        ("admin", "user_enable", {"username": "zhao"}),
    ]
    assert all(e.incident_id is None for e in store.audit_log())
    assert "argon2" not in repr(store.audit_log())


def test_login_failures_per_user_and_per_ip(store: IncidentStore) -> None:
    store.user_add("a", "analyst", [], HASH, actor="t")
    for i in range(3):
        store.login_attempt("a", "10.0.0.1", success=False, at=NOW + timedelta(seconds=i))
    store.login_attempt("b", "10.0.0.1", success=False, at=NOW + timedelta(seconds=5))
    store.login_attempt("a", "10.0.0.2", success=False, at=NOW + timedelta(seconds=6))
    since = NOW - timedelta(minutes=15)
    assert store.login_failures("a", "10.0.0.1", since) == (4, 4)
    assert store.login_failures("a", "10.0.0.9", since) == (4, 0)
    assert store.login_failures("c", "10.0.0.2", since) == (0, 1)
    assert store.login_failures("a", "10.0.0.1", NOW + timedelta(seconds=2)) == (2, 2)
    # A success resets the count of the account (not of the address) and is remembered.
    store.login_attempt("a", "10.0.0.1", success=True, at=NOW + timedelta(seconds=10))
    assert store.login_failures("a", "10.0.0.1", since) == (0, 4)
    assert store.user_get("a").last_login_at == NOW + timedelta(seconds=10)
    store.login_attempt("a", "10.0.0.1", success=False, at=NOW + timedelta(seconds=11))
    assert store.login_failures("a", "10.0.0.1", since) == (1, 5)


def test_old_attempts_are_pruned(store: IncidentStore, raw_sql: object) -> None:
    store.login_attempt("a", "10.0.0.1", success=False, at=NOW)
    store.login_attempt("a", "10.0.0.1", success=False, at=NOW + timedelta(days=2))
    rows = raw_sql("SELECT count(*) FROM login_attempts")  # type: ignore[operator]
    assert rows[0][0] == 1


def test_read_only_scope_cannot_append(store: IncidentStore) -> None:
    inc = make_incident(1)
    store.add_incidents([inc])
    looker = Scope(actor="analyst1", all=True, read_only=True)
    assert store.get_incident(inc.id, looker).status.version == 1
    with pytest.raises(ReadOnlyScope, match="may view but not act"):
        store.append_event(event(inc, 2, "dispatch", 3), 1, looker)
    assert isinstance(ReadOnlyScope("x", "y"), PermissionError)
    assert store.get_incident(inc.id, Scope.everything()).status.version == 1
