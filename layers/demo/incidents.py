"""A year of synthetic non-police incidents (非警务事项) for the demo town.

Modelled on a town centre near Yongkang, Zhejiang: 110 transfers, 12345 work orders and grid
patrol reports about wage arrears, neighbour, family and rental disputes, noise and requests for
help; placed at gazetteer addresses weighted by (migrant) population, with a few planted hotspots,
repeat calls, commitments and the full lifecycle. Deterministic for the same inputs.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from layers.demo import _incident_places as places_mod
from layers.demo import _incident_text as text
from layers.demo import _incident_times as times
from layers.incidents_layer import CATEGORIES, SOURCES
from layers.incidents_layer import SPEC as INCIDENTS_SPEC

DEMO_END = pd.Timestamp("2026-12-01T00:00:00+08:00")
"""Exclusive end of the demo year."""

CODES = list(CATEGORIES)
#: Target category mix.
CATEGORY_MIX = {"wage": .25, "neighbour": .20, "family": .13, "rental": .12, "consumer": .08,
                "noise": .10, "help": .09, "other": .03}  # fmt: skip
#: Share of incidents involving migrants (涉流动人口) by category (about 70% overall).
MIGRANT_RATE = {"wage": .88, "neighbour": .60, "family": .60, "rental": .85, "consumer": .60,
                "noise": .58, "help": .62, "other": .50}  # fmt: skip
SOURCE_SHARE = {"110": 0.60, "12345": 0.30, "patrol": 0.10}
#: How much more (or less) likely each source is for a category; raked to the shares above.
_SOURCE_TILT = {"wage": (.8, 1.5, .7), "neighbour": (1, .8, 1.4), "family": (1.4, .4, .8),
                "rental": (.9, 1.4, .8), "consumer": (.8, 1.8, .3), "noise": (1.1, .9, 1.2),
                "help": (1.4, .5, .6), "other": (.5, 1.2, 3)}  # fmt: skip
#: Planted hotspots: share of n, and the window as (kind, days) - see :func:`_hotspot_window`.
_HOT_SHARE = {"wage": 0.025, "rental": 0.012, "noise": 0.010, "neighbour": 0.008}
#: Department name keywords and the share of a category's incidents assigned to them.
_DEPARTMENTS = {"wage": (("劳动保障", "劳动", "人社"), 0.85), "consumer": (("市场监管",), 0.7),
                "noise": (("执法",), 0.35), "neighbour": (("司法",), 0.3),
                "family": (("妇联", "司法"), 0.3), "rental": (("综治", "住建"), 0.25),
                "other": (("执法",), 0.4)}  # fmt: skip
_MESSY = {"110": 0.40, "12345": 0.30, "patrol": 0.10}
REPEAT_SHARE = 0.04
_SEED_CASE = {"received": "2026-05-25T10:12", "resolved": "2026-05-26T16:40", "due": "2026-05-31",
              "callback": "2026-06-01T10:05", "closed": "2026-06-03T15:30"}  # fmt: skip
#: ``None`` as a 0-d object array for :func:`numpy.where` (its stubs do not accept a bare None).
_NONE = np.array(None, dtype=object)


class _Hotspot(TypedDict):
    """A planted hotspot as reported in the metadata."""

    id: str
    label_zh: str
    category: str
    place: str
    lon: float
    lat: float
    radius_m: float
    count: int
    start: str
    end: str
    incident_ids: NotRequired[list[str]]


def _source_matrix() -> npt.NDArray[np.float64]:
    """P(source | category), raked so the overall source shares match :data:`SOURCE_SHARE`."""
    m = np.array([_SOURCE_TILT[c] for c in CODES], dtype=float)
    mix = np.array([CATEGORY_MIX[c] for c in CODES])
    target = np.array([SOURCE_SHARE[s] for s in SOURCES])
    for _ in range(50):
        m /= m.sum(axis=1, keepdims=True)
        m *= target / (mix @ m)
    return m / m.sum(axis=1, keepdims=True)


def _hotspot_window(category: str, days: times.Times) -> times.Times:
    """Days of the planted hotspot of ``category`` within the demo year."""
    if category == "wage":
        sfs = times.spring_festivals(days[0], days[-1])
        sf = next((d for d in sfs if days[0] <= d - 7 <= days[-1]), days[len(days) // 3])
        sel = (days >= sf - 42) & (days <= sf - 3)
    elif category == "noise":
        month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        sel = (month >= 6) & (month <= 8)
    elif category == "neighbour":
        sel = (days >= days[-1] - 100) & (days <= days[-1] - 40)
    else:
        sel = np.ones(len(days), dtype=bool)
    return days[sel] if sel.sum() >= 7 else days


def _iso_local(t: np.datetime64) -> str:
    return pd.Timestamp(t, tz="UTC").tz_convert("Asia/Shanghai").isoformat()


def make_incidents(
    town: dict[str, gpd.GeoDataFrame | pd.DataFrame],
    seed: int = 7,
    n: int = 6000,
    end: pd.Timestamp = DEMO_END,
) -> tuple[gpd.GeoDataFrame, dict]:
    """Return (incidents layer, metadata) — deterministic for the same inputs.

    Parameters
    ----------
    town : dict
        Layers of :func:`layers.demo.town.build_town` (grid_cells, villages, police_beats,
        fire_stations, gazetteer, pois, industrial_zones, teams, departments, town).
    seed : int
        Seed of the only random generator used.
    n : int
        Number of incidents.
    end : pandas.Timestamp
        Exclusive end of the year covered (naive times are taken as Asia/Shanghai).

    Returns
    -------
    incidents : GeoDataFrame
        Columns of ``layers.SPECS["incidents"]`` plus Point geometry (EPSG:4326), sorted by
        ``received_at``; ids ``E0000001`` ….
    metadata : dict
        JSON-serialisable: seed, n, start, end, planted hotspots, seed case, counts.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    end = pd.Timestamp(end)
    end = end.tz_localize("Asia/Shanghai") if end.tzinfo is None else end
    end64: np.datetime64 = np.datetime64(end.tz_convert("UTC").tz_localize(None), "ms")
    start64 = end64 - 365 * times.DAY
    rng = np.random.default_rng(seed)
    places = places_mod.prepare(town)
    days: times.Times = np.arange(times.local_day(start64), times.local_day(end64 - 1) + times.DAY)
    n_rep = round(REPEAT_SHARE * n) if n >= 50 else 0

    # --- planted hotspots ---------------------------------------------------------------
    spots: list[_Hotspot] = []
    hot_cat: list[npt.NDArray[np.int64]] = []
    hot_t: list[times.Times] = []
    hot_anchor: list[npt.NDArray[np.int64]] = []
    hot_id: list[npt.NDArray[np.int64]] = []
    for label, spot_cat, centre, radius in places_mod.hotspot_centres(places):
        count = round(_HOT_SHARE[spot_cat] * n)
        if count < 5:
            continue
        window = _hotspot_window(spot_cat, days)
        weight = np.linspace(1.0, 3.0, len(window)) if spot_cat == "wage" else np.ones(len(window))
        anchors, radius = places_mod.hotspot_anchors(rng, places, centre, radius, count)
        lon, lat = places_mod.to_wgs(places.x[centre : centre + 1], places.y[centre : centre + 1])
        spots.append(
            {
                "id": f"H{len(spots) + 1}",
                "label_zh": label,
                "category": spot_cat,
                "place": str(places.gaz["address"].iloc[centre]),
                "lon": round(float(lon[0]), 6),
                "lat": round(float(lat[0]), 6),
                "radius_m": float(radius),
                "count": count,
                "start": _iso_local(times.utc_of_local(window[0])),
                "end": _iso_local(times.utc_of_local(window[-1] + times.DAY)),
            }
        )
        hot_cat.append(np.full(count, CODES.index(spot_cat)))
        hot_t.append(times.received_times(rng, spot_cat, count, window, weight))
        hot_anchor.append(anchors)
        hot_id.append(np.full(count, len(spots) - 1))

    # --- background: categories adjusted so the overall mix (with hotspots) is on target -----
    n_hot = sum(s["count"] for s in spots)
    n_bg = max(n - n_rep - n_hot, 0)
    mix = np.array([CATEGORY_MIX[c] for c in CODES]) * (n - n_rep)
    for s in spots:
        mix[CODES.index(s["category"])] -= s["count"]
    mix = mix.clip(0.0)
    cat_bg = rng.choice(len(CODES), size=n_bg, p=mix / mix.sum())
    t_bg = np.empty(n_bg, dtype="datetime64[ms]")
    rates = times.day_rates(CODES, days)
    for c, cat_code in enumerate(CODES):
        rows = np.flatnonzero(cat_bg == c)
        t_bg[rows] = times.received_times(rng, cat_code, rows.size, days, rates[c])
    cat = np.concatenate([cat_bg, *hot_cat]).astype(np.int64)
    received = np.concatenate([t_bg, *hot_t]).astype("datetime64[ms]")
    received = start64 + (received - start64) % (end64 - start64)
    hotspot = np.concatenate([np.full(n_bg, -1), *hot_id]).astype(np.int64)
    n0 = len(cat)

    migrant_p = np.array([MIGRANT_RATE[c] for c in CODES])[cat]
    migrant = rng.random(n0) < migrant_p
    anchor = places_mod.sample_anchors(rng, places, cat, migrant, CODES)
    if n_hot:
        anchor[n_bg:] = np.concatenate(hot_anchor)
    src_p = _source_matrix()[cat]
    source = (rng.random(n0)[:, None] > np.cumsum(src_p, axis=1)[:, :-1]).sum(axis=1)

    # --- callers: patrol reports mostly have none ----------------------------------------------
    has_caller = (source != SOURCES.index("patrol")) | (rng.random(n0) < 0.35)
    sub, desc, money, group, sub_idx = text.describe(rng, cat, CODES)
    code = np.array(CODES, dtype=object)[cat]

    # --- seed case: 7000 yuan promised by 31 May, 3000 paid at the 1 June callback ------------
    seed_row = None
    wage_rows = np.flatnonzero((code[:n_bg] == "wage") & has_caller[:n_bg])
    if n >= 20 and wage_rows.size:
        seed_row = int(wage_rows[0])
        first = np.datetime64(_SEED_CASE["received"][:10])
        shift = np.timedelta64(0, "D")
        if not (days[0] <= first and np.datetime64(_SEED_CASE["closed"][:10]) < days[-1]):
            shift = (days[-1] - 190 * times.DAY) - first
        seed_t: dict[str, np.datetime64] = {k: times.utc_of_local(np.datetime64(v, "m") + shift)
                                            for k, v in _SEED_CASE.items()}  # fmt: skip
        received[seed_row] = seed_t["received"]
        sub[seed_row], desc[seed_row], money[seed_row] = "拖欠工资", "拖欠工资2个月约7000元", 7000.0
        migrant[seed_row], group[seed_row], sub_idx[seed_row] = True, False, 0

    base = {
        "cat": cat, "migrant": migrant, "received": received, "anchor": anchor, "source": source,
        "hotspot": hotspot, "caller_name": np.where(has_caller, text.names(rng, n0), _NONE),
        "caller_phone": np.where(has_caller, text.phones(rng, n0), _NONE),
        "caller_id": np.where(has_caller & (rng.random(n0) < 0.75),
                              text.id_numbers(rng, migrant, times.local_day(received)), _NONE),
        "sub": sub, "desc": desc, "money": money, "group": group, "sub_idx": sub_idx,
        "repeat_src": np.full(n0, -1),
    }  # fmt: skip

    # --- repeat calls: same caller, nearby, days after an earlier incident ---------------------
    eligible = np.flatnonzero(has_caller & (received < end64 - times.DAY))
    eligible = eligible if eligible.size else np.arange(n0)
    orig = np.sort(rng.choice(eligible, size=n_rep, replace=eligible.size < n_rep))
    rep = {k: v[orig] for k, v in base.items()}
    delay_ms = (rng.uniform(0.2, 10.0, orig.size) * 86_400_000).astype(np.int64)
    t_rep = rep["received"] + delay_ms.astype("timedelta64[ms]")
    late = t_rep >= end64
    t_rep[late] = rep["received"][late] + (end64 - rep["received"][late]) // 2
    same = rng.random(orig.size) < 0.6
    other_src = np.where(rep["source"] == 0, 1, 0)
    rep.update(
        received=t_rep,
        anchor=np.where(same, rep["anchor"], places_mod.nearby_anchors(rng, places, rep["anchor"])),
        source=np.where(rng.random(orig.size) < 0.75, rep["source"], other_src),
        hotspot=np.full(orig.size, -1),
        desc="再次来电：" + rep["desc"],
        repeat_src=orig,
    )
    cols0 = {k: np.concatenate([base[k], rep[k]]) for k in base}
    cat, migrant, received, anchor = (cols0[k] for k in ("cat", "migrant", "received", "anchor"))
    hotspot, money, group, sub_idx = (cols0[k] for k in ("hotspot", "money", "group", "sub_idx"))
    code = np.array(CODES, dtype=object)[cat]
    src = np.array(SOURCES, dtype=object)[cols0["source"]]
    n = len(cat)

    # --- places, addresses and trinity ----------------------------------------------------------
    x, y = places_mod.jitter(rng, places, anchor)
    gaz = places.gaz
    address = gaz["address"].to_numpy(dtype=object)[anchor]
    level = places.level[anchor]
    messy = rng.random(n) < pd.Series(src).map(_MESSY).to_numpy(float)
    poi_name = gaz["poi"].to_numpy(dtype=object)[anchor] if "poi" in gaz else np.full(n, None)
    at_gate = (code == "wage") & places.factory[anchor] & pd.notna(poi_name) & (rng.random(n) < 0.5)
    town_name = None
    if "town" in town and len(town["town"]) and "name" in town["town"]:
        town_name = str(town["town"]["name"].iloc[0])
    address = text.messy_addresses(rng, address, messy & ~at_gate, town_name)
    address[at_gate] = poi_name[at_gate] + "门口"
    geometry, trinity = places_mod.trinity(town, x, y)

    # --- priority, team, department ---------------------------------------------------------
    key = group | ((code == "wage") & (money >= 50_000))
    key |= (code == "family") & (sub_idx == 3) & (rng.random(n) < 0.3)
    key |= rng.random(n) < 0.025
    priority = np.where(key, "key", "normal").astype(object)
    teams = town.get("teams")
    team_of: dict[str, str] = {}
    if teams is not None and len(teams):
        for beat, tcode in teams.sort_values("code")[["beat_code", "code"]].itertuples(index=False):
            team_of.setdefault(beat, tcode)
    team = pd.Series(trinity["beat_code"]).map(team_of).to_numpy(dtype=object)
    department = np.full(n, None, dtype=object)
    depts = town.get("departments")
    u = rng.random(n)
    for cat_code, (words, share) in _DEPARTMENTS.items():
        if depts is None or not len(depts):
            break
        hits = [
            d for w in words for d in depts.loc[depts["name"].str.contains(w, regex=False), "code"]
        ]
        if hits:
            department[(code == cat_code) & (u < share)] = hits[0]
            if cat_code == "wage" and seed_row is not None:
                department[seed_row] = hits[0]

    # --- lifecycle ---------------------------------------------------------------------------
    life = times.lifecycle(rng, code, received, money, end64)
    if seed_row is not None:
        life["returned"][seed_row] = False
        life["dispatched_at"][seed_row] = seed_t["received"] + np.timedelta64(3, "m")
        life["on_scene_at"][seed_row] = seed_t["received"] + np.timedelta64(11, "m")
        life["resolved_at"][seed_row] = seed_t["resolved"]
        life["callback_at"][seed_row] = seed_t["callback"]
        life["closed_at"][seed_row] = seed_t["closed"]
        life["commitment_due"][seed_row] = seed_t["due"]
        life["commitment_amount"][seed_row] = 7000.0
        life["commitment_kept"][seed_row] = False
        life["satisfaction"][seed_row] = "不满意"
        life["reopened"][seed_row], life["state"][seed_row] = True, "closed"
    team[life["returned"]] = None
    department[life["returned"]] = None

    # --- order, ids, source ids -------------------------------------------------------------
    order = np.argsort(received, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    inc_id = np.array([f"E{i:07d}" for i in range(1, n + 1)], dtype=object)
    repeat_src = cols0["repeat_src"]
    repeat_of = np.where(repeat_src >= 0, inc_id[rank[np.maximum(repeat_src, 0)]], None)
    day_no = times.local_day(received)
    ymd = pd.Series(day_no).dt.strftime("%Y%m%d").to_numpy(dtype=object)
    frame = pd.DataFrame({"src": src[order], "day": day_no[order]})
    size = frame.groupby(["src", "day"], sort=True)["day"].transform("size").to_numpy()
    gaps = rng.integers(1, np.maximum(np.minimum(40, 90_000 // size), 2))
    seq = pd.Series(gaps).groupby([frame["src"], frame["day"]]).cumsum().to_numpy()
    seq = seq + rng.integers(0, 300, n)[pd.factorize(frame["src"] + ymd[order])[0]]
    width = np.where(src[order] == "12345", 6, 5)
    prefix = pd.Series(src[order]).map({"110": "J330784", "12345": "GD", "patrol": "XC"})
    digits = pd.Series(seq.astype(str)).str.zfill(6)
    digits = np.where(width == 6, digits, digits.str[-5:])
    source_id = np.empty(n, dtype=object)
    source_id[order] = prefix.to_numpy(dtype=object) + ymd[order] + digits

    def utc(a: np.ndarray) -> pd.Series:
        return pd.Series(np.asarray(a, dtype="datetime64[ms]")).dt.tz_localize("UTC")

    cols = {
        "id": inc_id[rank],
        "source": src,
        "source_id": source_id,
        "received_at": utc(received),
        "category": code,
        "category_zh": pd.Series(code).map(CATEGORIES).to_numpy(dtype=object),
        "subcategory": cols0["sub"],
        "description": cols0["desc"],
        "address": address,
        "geocode_level": level,
        **trinity,
        "involves_migrant": migrant,
        "caller_name": cols0["caller_name"],
        "caller_phone": cols0["caller_phone"],
        "caller_id_number": cols0["caller_id"],
        "priority": priority,
        "team_code": team,
        "department_code": department,
        "state": life["state"],
        **{
            k: utc(life[k])
            for k in ("dispatched_at", "on_scene_at", "resolved_at", "callback_at", "closed_at")
        },
        "satisfaction": life["satisfaction"],
        "commitment_amount": life["commitment_amount"],
        "commitment_due": utc(life["commitment_due"]),
        "commitment_kept": pd.array(life["commitment_kept"], dtype="boolean"),
        "reopened": life["reopened"],
        "repeat_of": repeat_of,
    }
    df = pd.DataFrame({k: cols[k] for k in INCIDENTS_SPEC.field_names})
    gdf = gpd.GeoDataFrame(df, geometry=geometry.to_numpy(), crs="EPSG:4326")
    gdf = gdf.iloc[order].reset_index(drop=True)

    for i, s in enumerate(spots):
        s["incident_ids"] = sorted(inc_id[rank[np.flatnonzero(hotspot == i)]].tolist())
    meta = {
        "seed": int(seed),
        "n": int(n),
        "start": _iso_local(start64),
        "end": _iso_local(end64),
        "spring_festivals": [
            str(d) for d in times.spring_festivals(days[0], days[-1]) if days[0] <= d <= days[-1]
        ],
        "hotspots": spots,
        "seed_case": None
        if seed_row is None
        else {
            "id": str(inc_id[rank[seed_row]]),
            "amount": 7000.0,
            "paid_at_callback": 3000.0,
            "due": _iso_local(seed_t["due"]),
            "callback": _iso_local(seed_t["callback"]),
            "closed": _iso_local(seed_t["closed"]),
        },
        "repeats": int(orig.size),
        "counts": {
            k: {str(a): int(b) for a, b in gdf[k].value_counts().sort_index().items()}
            for k in ("source", "category", "state", "priority")
        },
    }
    return gdf, meta
