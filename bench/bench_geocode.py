"""Geocoding the demo incidents' messy addresses: Ember's geocoder against plain rapidfuzz.

Workload: the ``address`` column of ``build_demo(7, n_incidents=20000)`` — town prefix dropped,
Chinese group numbers, full-width digits, 附近/对面/门口/旁边, factory name + 门口 — against the
demo gazetteer. Ours: :meth:`geo.geocode.Geocoder.geocode_series` (built once, not timed; its
caches cleared before every run). Peer: what one writes without a geocoder — normalise each
distinct address the same way and take ``rapidfuzz.process.extractOne`` against the whole list
of normalised gazetteer addresses. The peer is slow, so it is timed on a sample of the distinct
addresses and scaled to all of them (linear: one independent search per address).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from rapidfuzz import process

from bench._timing import Result, median_time
from geo import address as addr
from geo._geocode_index import pinyin_key
from geo.geocode import Geocoder
from layers.demo import build_demo

N_ADDRESSES = 20_000
PEER_SAMPLE = 400
#: Farthest the demo puts an incident from its gazetteer anchor, by level (layers.demo), + 1 m.
RIGHT_PLACE_M = {"house": 7.0, "poi": 21.0, "road": 41.0, "group": 61.0, "village": 121.0}


def _right_place(lon: np.ndarray, lat: np.ndarray, inc: pd.DataFrame) -> float:
    """Share of matches within the demo's jitter of the incident point (the anchor is right)."""
    x, y = inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()
    d = np.hypot((lon - x) * 111_320.0 * np.cos(np.radians(y)), (lat - y) * 111_320.0)
    limit = inc["geocode_level"].map(RIGHT_PLACE_M).to_numpy(float)
    return float(np.mean(np.nan_to_num(d, nan=np.inf) <= limit))


def _cold(geocoder: Geocoder, addresses: pd.Series) -> pd.DataFrame:
    addr.clean.cache_clear()
    pinyin_key.cache_clear()
    return geocoder.geocode_series(addresses)


def peer_geocode(addresses: pd.Series, gaz_addresses: list[str]) -> list[int]:
    """Row of the best ``extractOne`` match of each distinct address (the plain approach)."""
    choices = [addr.clean(a) for a in gaz_addresses]
    out = []
    for text in pd.unique(addresses):
        best = process.extractOne(addr.normalise(str(text))[0], choices)
        out.append(best[2] if best else -1)
    return out


def run(quick: bool = False) -> list[Result]:
    n = 4_000 if quick else N_ADDRESSES
    frames = build_demo(7, n_incidents=n)
    incidents, gaz = frames["incidents"], frames["gazetteer"]
    addresses = incidents["address"].astype(object).iloc[:n]
    t0 = time.perf_counter()
    geocoder = Geocoder(gaz, frames["grid_cells"])
    build_s = time.perf_counter() - t0

    inc = incidents.iloc[:n]
    out = _cold(geocoder, addresses)
    ours_right = _right_place(out["lon"].to_numpy(float), out["lat"].to_numpy(float), inc)
    review = float(out["needs_review"].mean())
    ours = median_time(lambda: _cold(geocoder, addresses), repeat=3 if quick else 5)

    distinct = pd.Series(pd.unique(addresses))
    rng = np.random.default_rng(7)
    sample = distinct.iloc[
        rng.choice(len(distinct), size=min(PEER_SAMPLE, len(distinct)), replace=False)
    ]
    addr.clean.cache_clear()
    t0 = time.perf_counter()
    rows = peer_geocode(sample, [str(a) for a in gaz["address"]])
    peer_sample_s = time.perf_counter() - t0
    peer = peer_sample_s * len(distinct) / len(sample)
    # Both answers on the incidents whose address is in the peer's sample.
    row_of = dict(zip(sample, rows, strict=True))
    mask = addresses.isin(row_of).to_numpy()
    peer_rows = addresses[mask].map(row_of).to_numpy(int)
    lon, lat = gaz.geometry.x.to_numpy()[peer_rows], gaz.geometry.y.to_numpy()[peer_rows]
    peer_right = _right_place(lon, lat, inc[mask])
    ours_right_sample = _right_place(
        out["lon"].to_numpy(float)[mask], out["lat"].to_numpy(float)[mask], inc[mask]
    )

    rate = n / ours
    note = (
        f"ours {rate:,.0f} addresses/s ({len(distinct) / ours:,.0f} distinct/s; "
        f"{len(distinct):,} distinct of {n:,}; index built once in {build_s:.2f} s, not timed); "
        f"right place (the demo's anchor) {ours_right:.1%}, {review:.1%} sent to review. "
        f"Peer timed on {len(sample)} distinct addresses ({peer_sample_s:.2f} s) and scaled to "
        f"{len(distinct):,}: {n / peer:,.0f} addresses/s; on the incidents with those addresses "
        f"right place: peer {peer_right:.1%}, ours {ours_right_sample:.1%}."
    )
    return [
        Result(
            "address geocoding",
            f"{n:,} demo incident addresses (messy), gazetteer of {len(gaz):,} entries",
            ours,
            "rapidfuzz extractOne on whole list",
            peer,
            note,
        )
    ]


__all__ = ["run"]
