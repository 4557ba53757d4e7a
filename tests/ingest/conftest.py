"""Ingest fixtures: the demo town (seed 7) the fixture files were made from, its ingest context,
and the store fixtures of ``tests/store`` (every test taking ``store`` runs on both backends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import IngestContext, IngestSummary
from tests.ingest.make_fixtures import SEED, N
from tests.store.conftest import (  # noqa: F401
    pg_server,
    pg_url,
    raw_sql,
    store,
    store_url,
    two_stores,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def town() -> dict[str, Any]:
    from layers.demo import build_demo

    return build_demo(SEED, n_incidents=N)


@pytest.fixture(scope="session")
def ctx(town: dict[str, Any]) -> IngestContext:
    return IngestContext.from_frames(town)


def balanced(s: IngestSummary) -> IngestSummary:
    """Assert the invariant of every run and hand the summary back."""
    assert s.read == s.stored + s.updated + s.duplicates + s.quarantined, s.as_dict()
    assert s.invariant_ok
    return s
