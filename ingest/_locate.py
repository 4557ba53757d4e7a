"""The location step of the ingest pipeline: coordinates (converted to WGS84, swapped lat/lon
corrected when swapping back lands in the town) or else the geocoded address, and the trinity codes
of the place found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.coords import REASON_CODES, coordinate_reasons, reason_text
from geo.trinity import REASON_TEXTS, TRINITY_REASONS
from ingest._util import _categorical, _problem
from ingest.context import IngestContext
from ingest.normalise import crs_codes, numbers, to_wgs84_by_crs
from ingest.read import RawRow
from store.base import Scope

_SWAPPED = REASON_CODES.index("swapped")
#: The trinity codes the location step gives each row (the incident's columns of the same name).
CODES = ("grid_code", "village_code", "beat_code", "station_code")
#: Trinity reasons of a point that is in the town but lacks a code (still stored, noted).
_IN_TOWN = {f"{zh} / {en}" for k, (zh, en) in TRINITY_REASONS.items() if k != "outside_town"}

#: The stripped text of one field (canonical name) for the batch's rows.
Column = Callable[[str], pd.Series]


def locate(
    rows: Sequence[RawRow],
    todo: npt.NDArray[np.bool_],
    problems: dict[int, list[dict[str, Any]]],
    context: IngestContext,
    column: Column,
    display: Callable[[str], str],
) -> dict[str, Any]:
    """Coordinates or geocode for the rows in ``todo``; adds location problems.

    Parameters
    ----------
    rows : the batch
    todo : which rows of the batch to locate
    problems : row -> its problems; rows that cannot be located get one added
    context : the town (geocoder, trinity index, default coordinate system)
    column : the stripped text of a field (canonical name) for the batch's rows
    display : the name a field goes by in the source file, for reasons

    Returns
    -------
    dict
        Per-row arrays over the whole batch: ``lon``, ``lat``, ``level``, ``confidence``,
        ``needs_placement``, ``converted`` (the coordinate system converted from),
        ``grid_code``, ``village_code``, ``beat_code``, ``station_code``, and ``notes`` (a
        list per row).
    """
    n = len(rows)
    out: dict[str, Any] = {
        "lon": np.full(n, np.nan),
        "lat": np.full(n, np.nan),
        "level": np.full(n, None, dtype=object),
        "confidence": np.full(n, np.nan),
        "needs_placement": np.zeros(n, dtype=bool),
        "converted": np.full(n, None, dtype=object),
        "notes": [[] for _ in range(n)],
        **{k: np.full(n, None, dtype=object) for k in CODES},
    }  # fmt: skip
    idx = np.flatnonzero(todo)
    if len(idx) == 0:
        return out

    def field(name: str, at: npt.NDArray[np.intp]) -> pd.Series:
        """The field at rows ``at``, from the whole batch's column (cached by the run)."""
        return pd.Series(column(name).to_numpy(object)[at], dtype=object)

    lon_n, bad_lon = numbers(field("lon", idx))
    lat_n, bad_lat = numbers(field("lat", idx))
    crs = crs_codes(field("crs", idx), context.default_crs).to_numpy(object)
    given = ~np.isnan(lon_n) | ~np.isnan(lat_n) | bad_lon | bad_lat
    reason = coordinate_reasons(lon_n, lat_n)
    swapped = given & (reason == _SWAPPED)
    x_raw = np.where(swapped, lat_n, lon_n)
    y_raw = np.where(swapped, lon_n, lat_n)
    known_crs = np.array([c is not None for c in crs])
    usable = given & ~bad_lon & ~bad_lat & known_crs & ((reason == 0) | swapped)
    x = np.full(len(idx), np.nan)
    y = np.full(len(idx), np.nan)
    if usable.any():
        x[usable], y[usable] = to_wgs84_by_crs(x_raw[usable], y_raw[usable], crs[usable])
    accepted = np.zeros(len(idx), dtype=bool)
    tri_reason = np.full(len(idx), None, dtype=object)
    if usable.any():
        tri = context.trinity.assign(x[usable], y[usable])
        r = _categorical(tri["reason"])
        inside = np.array([v is None or v in _IN_TOWN for v in r])
        u = np.flatnonzero(usable)
        accepted[u[inside]] = True
        tri_reason[u] = r
        _put_codes(out, idx[u[inside]], tri.loc[inside])
    lon_col, lat_col = display("lon"), display("lat")
    for j in np.flatnonzero(swapped & ~accepted):
        i = int(idx[j])
        problems.setdefault(i, []).append(
            _problem(
                "swapped_outside",
                f"{lon_col}/{lat_col}",
                "经纬度颠倒，对调后仍不在本镇，不予存储",
                "latitude and longitude are swapped, and swapped back the point is still "
                "not in the town: not stored",
            )
        )
    aj = np.flatnonzero(accepted)
    ai = idx[aj]
    out["lon"][ai], out["lat"][ai] = x[aj], y[aj]
    out["level"][ai], out["confidence"][ai] = "coordinates", 1.0
    moved = np.array([c not in ("wgs84", "cgcs2000") for c in crs[aj]], dtype=bool)
    out["converted"][ai[moved]] = crs[aj[moved]]
    notes = out["notes"]
    for i in ai[swapped[aj]].tolist():  # notes in this order: swapped, then trinity
        notes[i].append("swapped_corrected")
    for i, why_not in zip(ai.tolist(), tri_reason[aj].tolist(), strict=True):
        if why_not is not None:
            notes[i].append(f"trinity: {why_not}")
    rejected = given & ~accepted & ~swapped
    why = np.full(len(idx), None, dtype=object)
    for j in np.flatnonzero(rejected):
        if bad_lon[j] or bad_lat[j]:
            why[j] = "坐标不是数字 / coordinates are not numbers"
        elif not known_crs[j]:
            why[j] = "坐标系无法识别 / unknown coordinate system"
        elif reason[j] != 0:
            why[j] = reason_text(REASON_CODES[reason[j]])
        else:
            why[j] = str(tri_reason[j] or REASON_TEXTS[-1])
        out["notes"][int(idx[j])].append(f"coordinates_rejected: {why[j]}")
    geo = ~accepted & ~swapped
    if geo.any():
        g_idx = idx[geo]
        addresses = field("address", g_idx)
        g = context.geocode(addresses)
        found = g["lon"].notna().to_numpy() & g["lat"].notna().to_numpy()
        threshold = context.geocoder.review_threshold
        gj = np.flatnonzero(geo)
        addr_col = display("address")
        for k in np.flatnonzero(~found):
            i = int(g_idx[k])
            extra_zh = f"（坐标无效：{why[gj[k]].split(' / ')[0]}）" if why[gj[k]] else ""
            extra_en = (
                f" (coordinates rejected: {why[gj[k]].split(' / ')[-1]})" if why[gj[k]] else ""
            )
            problems.setdefault(i, []).append(
                _problem(
                    "no_location",
                    addr_col,
                    f"无法定位：没有可用坐标，{addr_col}也无法匹配到本镇任何位置{extra_zh}",
                    f"no location: no usable coordinates and the {addr_col} (address) "
                    f"matches no place in the town{extra_en}",
                )
            )
        ok = np.flatnonzero(found)
        if len(ok):
            gi = g_idx[ok]
            gx = g["lon"].to_numpy(float)[ok]
            gy = g["lat"].to_numpy(float)[ok]
            tri = context.trinity.assign(gx, gy)
            _put_codes(out, gi, tri)
            conf = g["confidence"].to_numpy(float)[ok]
            level = g["level"].to_numpy(object)[ok]
            review = g["needs_review"].to_numpy(bool)[ok] | (conf < threshold)
            r = _categorical(tri["reason"])
            out["lon"][gi], out["lat"][gi] = gx, gy
            out["level"][gi], out["confidence"][gi] = level, conf
            out["needs_placement"][gi] = review
            for at_row, why_not in zip(gi.tolist(), r.tolist(), strict=True):
                out["notes"][at_row].append("geocoded")
                if why_not is not None:
                    out["notes"][at_row].append(f"trinity: {why_not}")
    return out


def check_scope(
    scope: Scope,
    source: str,
    todo: npt.NDArray[np.bool_],
    problems: dict[int, list[dict[str, Any]]],
    loc: dict[str, Any],
) -> None:
    """Add an ``outside_scope`` problem to each row of ``todo`` located where ``scope`` may not
    see it (:meth:`store.Scope.admits`): a push is held for a person to place, never stored
    where its caller could not read it back.

    Parameters
    ----------
    scope : the caller's scope (a grid officer's key: its grid cells)
    source : the feed's source
    todo, problems : as for :func:`locate`
    loc : :func:`locate`'s output
    """
    for i in np.flatnonzero(todo).tolist():
        if i in problems:
            continue
        codes = {name: loc[name][i] for name in CODES}
        if scope.admits(source, codes):
            continue
        grid = codes["grid_code"] or "无 / none"
        problems[i] = [
            _problem(
                "outside_scope",
                None,
                f"位置（网格 {grid}）不在 {scope.actor} 的负责范围内，已转人工核实",
                f"the place (grid cell {grid}) is outside the areas of {scope.actor}: held for "
                "review",
            )
        ]


def _put_codes(out: dict[str, Any], rows: npt.NDArray[np.intp], tri: pd.DataFrame) -> None:
    """Copy the trinity codes of ``tri`` into ``out`` at ``rows``."""
    for name in CODES:
        out[name][rows] = _categorical(tri[name])
