"""``ember geocode``: Chinese addresses to points (filled in by the geo issue, #3)."""

from __future__ import annotations

import argparse


def add_geocode_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember geocode`` (not yet implemented)."""
