"""An ingest batch through its phases, what the run knows of each (source, source id), and the
incident id a source id gets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest._write import WritePlan
from ingest.normalise import Categories
from ingest.read import RawRow


def incident_id(source: str, source_id: str) -> str:
    """The incident id of (source, source_id): the same on every run, so re-runs converge."""
    digest = hashlib.sha256(f"{source}\x1f{source_id}".encode()).hexdigest()
    return f"N{digest[:15].upper()}"


@dataclass
class Seen:
    """What is known of one (source, source_id) during the run."""

    incident_id: str
    version: int
    hashes: set[str]


@dataclass
class Batch:
    """One batch through its phases."""

    start: int
    rows: Sequence[RawRow]
    problems: dict[int, list[dict[str, Any]]]
    sids: list[str]
    hashes: list[str]
    received: pd.Series
    loc: dict[str, Any]
    new_rows: list[int]
    amend_rows: list[tuple[int, str, int]]  # (row, incident id, version it is based on)
    seen_now: dict[str, Seen]
    outcome: dict[int, tuple[str, str | None]]
    cats: Categories
    phones: pd.Series
    bad_phone: npt.NDArray[np.bool_]
    cat_text: list[str]
    # -- built --
    repeat: dict[int, str] = field(default_factory=dict)
    candidates: pd.DataFrame | None = None  # the new incidents as repeat candidates
    plan: WritePlan = field(default_factory=WritePlan)
