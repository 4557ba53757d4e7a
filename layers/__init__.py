"""Layers: schemas, validation, import/export, and the demo town generator.

One module per layer kind (:mod:`layers.town`, :mod:`layers.villages`, :mod:`layers.grid_cells`,
:mod:`layers.police_beats`, :mod:`layers.fire_stations`, :mod:`layers.gazetteer`,
:mod:`layers.pois`, :mod:`layers.tables`); :data:`layers.registry.SPECS` collects them.
"""

from layers._schema import Field, LayerSpec, LayerValidationError, Problem
from layers.registry import SPECS

__all__ = ["SPECS", "Field", "LayerSpec", "LayerValidationError", "Problem"]
