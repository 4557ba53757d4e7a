"""Versioned schema migrations, one numbered module per step and backend.

``store/migrations/<backend>/vNNNN_<name>.py`` holds ``SQL``: the statements of step ``NNNN``.
A step never changes once released; a change to the schema is a new step. Each backend applies
the steps it has not recorded yet, in order, inside one transaction per step, and records each in
its ``schema_migrations`` table. (Python modules rather than ``.sql`` files, so that they travel
with the package without package-data rules.)
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from store.base import StoreError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load(backend: str) -> list[Migration]:
    """The steps of ``backend`` (``gpkg`` or ``postgis``) in version order."""
    package = importlib.import_module(f"{__name__}.{backend}")
    steps = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("v"):
            continue
        number, _, name = info.name[1:].partition("_")
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        steps.append(Migration(int(number), name, module.SQL))
    steps.sort(key=lambda m: m.version)
    if [m.version for m in steps] != list(range(1, len(steps) + 1)):
        raise RuntimeError(f"migrations of {backend} are not numbered 1..n: {steps}")
    return steps


def newer_schema(found: int, known: int) -> StoreError:
    """The error for a store written by a newer Ember (this code would misread it)."""
    return StoreError(
        f"存储来自更新的 Ember（模式 {found}，本程序认识到 {known}），请升级 Ember / the store "
        f"comes from a newer Ember (schema {found}; this one knows up to {known}): upgrade Ember"
    )
