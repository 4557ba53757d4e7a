"""``/healthz``: up, degraded (stalled feed) and down; and the JSON access log carries no
query string."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from app.health import STALL_AFTER, health, init_health
from store import open_store
from tests.store.conftest import make_incident


def _store(tmp_path: Path) -> str:
    url = str(tmp_path / "ember.gpkg")
    store = open_store(url)
    store.add_incidents([make_incident(1)])
    store.close()
    return url


def test_fresh_store_is_ok_and_a_stalled_feed_degrades(tmp_path: Path) -> None:
    url = _store(tmp_path)
    doc, status = health(url)
    assert status == 200 and doc["status"] == "ok", doc
    assert doc["store"] == {"reachable": True, "schema_version": doc["store"]["schema_version"],
                            "schema_current": True}  # fmt: skip
    assert doc["ingest"]["stalled"] is False and doc["quarantine"] == {"open": 0}
    later = datetime.now(UTC) + STALL_AFTER + timedelta(minutes=1)
    doc, status = health(url, now=later)
    assert status == 200 and doc["status"] == "degraded" and doc["ingest"]["stalled"] is True
    assert doc["ingest"]["minutes_since"] > STALL_AFTER.total_seconds() / 60


def test_unreachable_store_is_503(tmp_path: Path) -> None:
    (tmp_path / "broken.gpkg").write_bytes(b"this is not a database" * 100)
    doc, status = health(str(tmp_path / "broken.gpkg"))
    assert status == 503 and doc["status"] == "down" and doc["store"]["reachable"] is False


def test_route_and_access_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = Flask(__name__)
    init_health(server, _store(tmp_path))
    with caplog.at_level(logging.INFO, logger="ember.access"):
        response = server.test_client().get("/healthz?phone=13812345678")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["status"] == "ok"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ember.access"]
    entry = json.loads(line)
    assert entry["path"] == "/healthz" and entry["status"] == 200 and entry["ms"] >= 0
    assert "13812345678" not in line
