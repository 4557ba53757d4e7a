"""``GET /healthz`` and request logging: what an operator's monitor and log shipper read.

The health document says whether the store answers, whether its schema is this Ember's, how
long since a feed last delivered an incident (``stalled`` past :data:`STALL_AFTER`) and how many
rows wait in the quarantine. 200 when the store answers (``status`` ``ok`` or ``degraded``), 503
when it does not. Request logs are one JSON object a line on the ``ember.access`` logger: method,
path (never the query string, which may carry a phone number someone searched for), status and
milliseconds — no personal data.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask, Response, g, request

from store import IncidentStore, open_store
from store.migrations import load

#: No incident added for this long during the day is reported as a stalled feed.
STALL_AFTER = timedelta(minutes=30)
access_log = logging.getLogger("ember.access")


@lru_cache(maxsize=4)
def _store(url: str) -> IncidentStore:
    """One store per URL for every probe (a PostGIS store holds a connection pool: opening one
    per probe, every 30 s per wall, would churn connections)."""
    return open_store(url)


def health(url: str, now: datetime | None = None) -> tuple[dict[str, Any], int]:
    """The health document of the store at ``url`` and its HTTP status."""
    now = now or datetime.now(UTC)
    doc: dict[str, Any] = {"time": now.isoformat(timespec="seconds")}
    try:
        stats = _store(url).stats()
    except Exception as exc:  # the probe reports any failure; it must not raise
        doc.update(status="down", store={"reachable": False, "error": type(exc).__name__})
        return doc, 503
    latest = len(load("postgis" if url.startswith(("postgresql://", "postgres://")) else "gpkg"))
    last = stats.last_added_at
    minutes = None if last is None else round((now - last).total_seconds() / 60, 1)
    stalled = last is None or now - last > STALL_AFTER
    doc["store"] = {
        "reachable": True,
        "schema_version": stats.schema_version,
        "schema_current": stats.schema_version == latest,
    }
    doc["ingest"] = {
        "last_added_at": None if last is None else last.isoformat(timespec="seconds"),
        "last_received_at": (
            None
            if stats.last_received_at is None
            else stats.last_received_at.isoformat(timespec="seconds")
        ),
        "minutes_since": minutes,
        "stalled": stalled,
    }
    doc["quarantine"] = {"open": stats.quarantine_open}
    ok = doc["store"]["schema_current"] and not stalled
    doc["status"] = "ok" if ok else "degraded"
    return doc, 200


def init_health(server: Flask, url: str) -> None:
    """Add ``/healthz`` and the JSON access log to ``server``."""

    def healthz() -> Response:
        doc, status = health(url)
        body = json.dumps(doc, ensure_ascii=False)
        return Response(body, status=status, mimetype="application/json",
                        headers={"Cache-Control": "no-store"})  # fmt: skip

    server.add_url_rule("/healthz", "healthz", healthz)

    @server.before_request
    def _start() -> None:
        g.ember_t0 = time.perf_counter()

    @server.after_request
    def _log(response: Response) -> Response:
        t0 = g.get("ember_t0")
        if t0 is not None and access_log.isEnabledFor(logging.INFO):
            access_log.info(
                json.dumps(
                    {
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - t0) * 1000, 1),
                    }
                )
            )
        return response
