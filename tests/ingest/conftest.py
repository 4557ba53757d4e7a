"""Ingest fixtures: the demo town (seed 7) the fixture files were made from, its ingest context,
and the store fixtures of ``tests/store`` (every test taking ``store`` runs on both backends)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.pipeline import IngestContext, IngestSummary
from store import IncidentStore
from tests.ingest.make_fixtures import SEED, N
from tests.store.conftest import (  # noqa: F401
    pg_server,
    pg_url,
    raw_sql,
    store,
    store_url,
    template_copy,
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


@pytest.fixture
def reference_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty store of ``store_url``'s backend, for a reference run to compare with."""
    url = str(request.getfixturevalue("store_url"))
    if not url.startswith("postgresql://"):
        yield str(tmp_path / "reference.gpkg")
        return
    import psycopg

    name = f"{psycopg.conninfo.conninfo_to_dict(url)['dbname']}_ref"
    with template_copy(request.getfixturevalue("pg_server"), name) as ref:
        yield ref


def gbk_rows() -> list[dict[str, str]]:
    """The rows of the GBK 110 fixture, to be changed and written back by :func:`write_csv`."""
    text = (DATA / "110_gbk.csv").read_bytes().decode("gbk")
    return list(csv.DictReader(io.StringIO(text)))


def write_csv(rows: list[dict[str, str]], path: Path) -> Path:
    """``rows`` as a UTF-8 CSV at ``path`` (the header of the first row); returns ``path``."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def balanced(s: IngestSummary) -> IngestSummary:
    """Assert the invariant of every run and hand the summary back."""
    assert s.read == s.stored + s.updated + s.duplicates + s.quarantined, s.as_dict()
    assert s.invariant_ok
    return s


def stored_id(db: IncidentStore, source_id: str, source: str = "110") -> str:
    """The id of the incident stored for (source, source_id) (it depends on when it was
    received, see :func:`ingest.pipeline.incident_id`)."""
    return db.source_keys(source, [source_id])[source_id].incident_id
