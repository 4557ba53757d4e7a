"""Declarative layer schemas shared by every layer kind.

A :class:`LayerSpec` names a layer's fields, geometry type and code pattern. Validation of one
layer against its spec lives in :mod:`layers.validate`; checks across layers in
:mod:`layers.topology`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["str", "int", "float", "bool", "datetime"]
GeomType = Literal["Polygon", "Point", "LineString", None]


@dataclass(frozen=True)
class Field:
    """One attribute column of a layer.

    Parameters
    ----------
    name : str
        Column name in Ember (English, snake_case).
    type : FieldType
        Logical type; checked on import.
    required : bool
        Whether a null value is an error.
    label_zh : str
        Chinese label, used in messages and exports.
    short : str or None
        A name of at most 10 characters for Shapefile .dbf columns, when ``name`` is longer.
    """

    name: str
    type: FieldType = "str"
    required: bool = True
    label_zh: str = ""
    short: str | None = None

    @property
    def dbf_name(self) -> str:
        """Column name to use in a Shapefile (.dbf allows 10 characters)."""
        name = self.short or self.name
        if len(name) > 10:
            raise ValueError(f"field {self.name!r} needs a short name of at most 10 characters")
        return name


@dataclass(frozen=True)
class LayerSpec:
    """Schema of one layer kind.

    ``code_pattern`` is matched against the ``code`` column when the layer has one.
    """

    kind: str
    label_zh: str
    geometry: GeomType
    fields: tuple[Field, ...]
    code_pattern: str | None = None
    code_hint: str = ""

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def code_ok(self, code: str) -> bool:
        return self.code_pattern is None or re.fullmatch(self.code_pattern, code) is not None

    def dbf_names(self) -> dict[str, str]:
        """Map Ember column names to Shapefile column names."""
        return {f.name: f.dbf_name for f in self.fields}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer: where, and what, in Chinese and English.

    ``feature`` is the feature's code when it has one, otherwise its 0-based row number as text,
    or ``""`` when the problem is about the whole layer. ``lon``/``lat`` locate it on the map
    when that is meaningful (a gap, an overlap).
    """

    layer: str
    feature: str
    check: str
    zh: str
    en: str
    lon: float | None = None
    lat: float | None = None

    def __str__(self) -> str:
        where = f"{self.layer}[{self.feature}]" if self.feature else self.layer
        at = f" @ {self.lon:.6f},{self.lat:.6f}" if self.lon is not None else ""
        return f"{where}{at}: {self.zh} / {self.en}"


class LayerValidationError(ValueError):
    """A layer (or a set of layers) failed validation; ``problems`` lists each failure."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        head = "; ".join(str(p) for p in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} problem(s) / {len(problems)} 个问题: {head}{more}")
