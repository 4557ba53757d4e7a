"""``ember assign``: trinity codes for points (filled in by the geo issue, #3)."""

from __future__ import annotations

import argparse


def add_assign_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember assign`` (not yet implemented)."""
