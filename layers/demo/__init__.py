"""The demo town (演示镇): a deterministic synthetic town for trying, testing and benchmarks.

``build_demo(seed)`` returns every layer as a frame; the same seed gives identical frames.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

DEMO_VERSION = 1


def build_demo(
    seed: int = 7, n_incidents: int = 6000, end: pd.Timestamp | None = None
) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Build the demo town's layers, tables, a year of incidents and the ``demo_meta`` table.

    Parameters
    ----------
    seed : int
        Seed of every random choice.
    n_incidents : int
        Number of incidents over the demo year.
    end : Timestamp, optional
        Exclusive end of the demo year (aware); default the fixed ``DEMO_END``, so that a seed
        alone decides the result. ``make run`` passes "now" so the wall has no future events.
    """
    from layers.demo.incidents import DEMO_END, make_incidents
    from layers.demo.town import build_town

    frames: dict[str, gpd.GeoDataFrame | pd.DataFrame] = dict(build_town(seed))
    incidents, meta = make_incidents(
        frames, seed=seed, n=n_incidents, end=DEMO_END if end is None else end
    )
    frames["incidents"] = incidents
    meta = {"generator": "ember demo", "version": DEMO_VERSION, **meta}
    frames["demo_meta"] = pd.DataFrame(
        {
            "key": list(meta),
            "value": [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in meta.values()],
        }
    )
    return frames


def read_meta(frame: pd.DataFrame) -> dict[str, object]:
    """Decode a ``demo_meta`` table back into a dict."""
    return {str(k): json.loads(v) for k, v in zip(frame["key"], frame["value"], strict=True)}
