"""The map wall without a browser: routing, the history route, filters, tiles, deltas, masking."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dash import Dash

from app import wall_data as wd
from app import wall_kpis, wall_routes, wall_view
from app.server import page_layout
from incidents import kpi
from incidents.model import Incident, Party
from tests._signin import sign_in_client

NOW = pd.Timestamp("2026-11-20 08:00", tz="UTC")


def ids_of(app: Dash, path: str, search: str = "") -> set[str]:
    root = page_layout(app, path, search)
    return {str(getattr(c, "id", "")) for c in [root, *root._traverse()]}


def test_router_puts_the_wall_at_root_and_the_town_map_at_map(wall_app: Dash) -> None:
    assert "wall-map" in ids_of(wall_app, "/")
    assert "town-map" not in ids_of(wall_app, "/")
    assert "town-map" in ids_of(wall_app, "/map")
    assert "wall-map" in ids_of(wall_app, "/nowhere")  # unknown paths show the wall
    root = page_layout(wall_app, "/", "?window=year&category=wage")
    values = {str(getattr(c, "id", None)): getattr(c, "value", None) for c in root._traverse()}
    assert values["wall-window"] == "year" and values["wall-category"] == "wage"


def test_history_route_is_gzipped_compact_and_cached(wall_app: Dash) -> None:
    client = sign_in_client(wall_app.server.test_client())
    cut = wd.cut_of(wd.now_utc())
    year = client.get(f"/wall/history.geojson?cut={cut}&window=year")
    assert year.status_code == 200
    assert year.headers["Content-Encoding"] == "gzip"
    data = json.loads(gzip.decompress(year.data))
    features = data["features"]
    assert len(features) > 100
    assert set(features[0]["properties"]) == {"id", "s", "o"}  # nothing personal, nothing more
    again = client.get(
        f"/wall/history.geojson?cut={cut}&window=year",
        headers={"If-None-Match": year.headers["ETag"]},
    )
    assert again.status_code == 304
    wage = client.get(f"/wall/history.geojson?cut={cut}&window=year&category=wage")
    n_wage = len(json.loads(gzip.decompress(wage.data))["features"])
    assert 0 < n_wage < len(features)


def _features(client: Any, query: str) -> list[dict[str, Any]]:
    response = client.get("/wall/history.geojson?" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Encoding"] == "gzip"
    return list(json.loads(gzip.decompress(response.data))["features"])


def test_history_route_sends_a_zooms_clusters_not_every_point(wall_app: Dash) -> None:
    client = sign_in_client(wall_app.server.test_client())
    cut = wd.cut_of(wd.now_utc())
    base = f"cut={cut}&window=year"
    points = _features(client, base)
    town = _features(client, base + "&z=12")
    clusters = [f["properties"] for f in town if f["properties"].get("cluster")]
    singles = [f["properties"] for f in town if not f["properties"].get("cluster")]
    assert clusters and len(town) < len(points) / 5
    # Every incident drawn once: in one cluster or on its own.
    assert sum(c["point_count"] for c in clusters) + len(singles) == len(points)
    assert all(set(c) == {"cluster", "point_count", "e", "o"} for c in clusters)
    assert all(c["e"] > 12 for c in clusters)  # a click zooms in
    assert all(set(p) == {"id", "s", "o"} for p in singles)  # nothing personal
    # Overdue counts add up to the points' flags.
    overdue = sum(c["o"] for c in clusters) + sum(p["o"] for p in singles)
    assert overdue == sum(p["properties"]["o"] for p in points)
    # Street level: single incidents, only those in the view box.
    lon = sorted(p["geometry"]["coordinates"][0] for p in points)
    lat = sorted(p["geometry"]["coordinates"][1] for p in points)
    box = (lon[len(lon) // 4], lat[len(lat) // 4], lon[len(lon) // 2], lat[len(lat) // 2])
    street = _features(client, base + "&z=18&bbox=" + ",".join(map(str, box)))
    inside = [
        p
        for p in points
        if box[0] <= p["geometry"]["coordinates"][0] <= box[2]
        and box[1] <= p["geometry"]["coordinates"][1] <= box[3]
    ]
    assert 0 < len(street) == len(inside)
    assert {f["properties"]["id"] for f in street} == {p["properties"]["id"] for p in inside}
    # Filters apply on the server: fewer wage incidents, and the counts still add up.
    wage = _features(client, base + "&category=wage&z=12")
    n_wage = sum(f["properties"].get("point_count", 1) for f in wage)
    assert n_wage == len(_features(client, base + "&category=wage")) < len(points)


@pytest.mark.parametrize("query", ["z=abc", "z=40", "z=-1", "z=12&bbox=1,2,3", "z=12&bbox=5,0,1,1"])
def test_history_route_refuses_a_bad_view_in_both_languages(wall_app: Dash, query: str) -> None:
    client = sign_in_client(wall_app.server.test_client())
    response = client.get("/wall/history.geojson?window=year&" + query)
    assert response.status_code == 400
    message = response.get_json()["error"]
    assert re.search(r"[\u4e00-\u9fff]", message) and " must " in message


def test_town_layers_are_served_once_gzipped_with_an_etag(wall_app: Dash) -> None:
    client = sign_in_client(wall_app.server.test_client())
    grid = client.get("/wall/layers/grid_cells.geojson")
    assert grid.status_code == 200 and grid.headers["Content-Encoding"] == "gzip"
    cells = json.loads(gzip.decompress(grid.data))["features"]
    assert cells and "code" in cells[0]["properties"]
    again = client.get(
        "/wall/layers/grid_cells.geojson", headers={"If-None-Match": grid.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/wall/layers/accounts.geojson").status_code == 404
    labels = json.loads(gzip.decompress(client.get("/wall/layers/labels.geojson").data))
    assert labels["features"] and labels["features"][0]["geometry"]["type"] == "Point"


def test_filters_parse_and_bound() -> None:
    f = wd.WallFilters.from_args({"window": "bogus", "category": "", "source": "110"})
    assert f.window == wd.DEFAULT_WINDOW and f.category is None and f.source == "110"
    start, end = wd.WallFilters("today").bounds(NOW)
    assert start == pd.Timestamp("2026-11-19 16:00", tz="UTC") and end == NOW
    start, end = wd.WallFilters("custom", "2026-11-01", "2026-11-02").bounds(NOW)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-10-31T16:00:00+00:00",
        "2026-11-02T16:00:00+00:00",
    )


def test_cut_from_a_url() -> None:
    assert wd.parse_cut("2026-11-20T07:00:00 00:00", NOW) == "2026-11-20T07:00:00+00:00"
    assert wd.parse_cut("2026-11-20T07:00:00", NOW) == "2026-11-20T07:00:00+00:00"
    assert wd.parse_cut("2026-11-20T07:30:00+00:00", NOW) == wd.cut_of(NOW)  # not aligned
    assert wd.parse_cut("2027-01-01T00:00:00+00:00", NOW) == wd.cut_of(NOW)  # future
    assert wd.parse_cut("nonsense", NOW) == wd.cut_of(NOW)
    assert wd.parse_cut(None, NOW) == wd.cut_of(NOW)


def test_chinese_numbers() -> None:
    assert wd.wan(9876) == "9,876"
    assert wd.wan(12_345) == "1.2万"
    assert wd.wan(100_000) == "10万"
    assert wd.wan(None) == "—"
    assert wd.pct(0.9512) == "95.1%"


def test_tiles_come_from_incidents_kpi(demo_gpkg: Path) -> None:
    cut = wd.cut_of(NOW)
    frame = wd.history_frame(str(demo_gpkg), cut)
    tiles = {t["key"]: t for t in wall_kpis.kpi_tiles(frame, NOW, wd.WallFilters())}
    assert len(tiles) == 8
    past = frame.loc[frame["received_at"] <= NOW]
    month = kpi.compute(past, kpi.Window.month(2026, 11), as_of=NOW)
    assert tiles["received"]["month"] == wd.wan(month["repeat"].denominator)
    assert tiles["open"]["month"] == wd.wan(month["open"].value)
    assert tiles["overdue"]["bad_up"] and not tiles["received"]["bad_up"]


def test_tiles_compare_today_so_far_with_yesterday_until_the_same_time() -> None:
    from incidents.frame import prepare

    # 00:46 in Asia/Shanghai: one call so far today; yesterday one by 00:46 and five later
    local = ["2026-11-19 00:10", *(f"2026-11-19 1{h}:00" for h in range(5)), "2026-11-20 00:20"]
    received = [pd.Timestamp(t, tz="Asia/Shanghai").tz_convert("UTC") for t in local]
    frame = prepare(
        pd.DataFrame(
            {"id": [f"E{i}" for i in range(7)], "category": "noise", "state": "received",
             "received_at": received}
        )
    )  # fmt: skip
    now = pd.Timestamp("2026-11-20 00:46", tz="Asia/Shanghai").tz_convert("UTC")
    tile = {t["key"]: t for t in wall_kpis.kpi_tiles(frame, now, wd.WallFilters())}["received"]
    assert tile["raw"]["day"] == 1
    assert tile["mom"] == ("flat", "+0%"), "yesterday until 00:46, not all of yesterday (-83%)"


def test_dispatched_tile_counts_every_dispatch_in_the_period() -> None:
    """派遣 is how many were dispatched, not the arrival rate's denominator: one arrived, one
    dispatched 5 minutes ago (no arrival yet), one returned before arrival: 3 today."""
    from incidents.frame import prepare

    def local(t: str) -> pd.Timestamp:
        return pd.Timestamp(t, tz="Asia/Shanghai").tz_convert("UTC")

    now = local("2026-11-20 10:00")
    frame = prepare(
        pd.DataFrame(
            {
                "id": ["E1", "E2", "E3", "E4"],
                "category": "noise",
                "state": ["on_scene", "dispatched", "returned", "on_scene"],
                "received_at": [local(t) for t in ("2026-11-20 08:00", "2026-11-20 09:50",
                                                   "2026-11-20 09:00", "2026-11-19 08:00")],
                "dispatched_at": [local(t) for t in ("2026-11-20 08:02", "2026-11-20 09:55",
                                                     "2026-11-20 09:01", "2026-11-19 08:02")],
                "on_scene_at": [local("2026-11-20 08:09"), None, None,
                                local("2026-11-19 08:09")],
                "returned_at": [None, None, local("2026-11-20 09:20"), None],
            }
        )
    )  # fmt: skip
    tiles = {t["key"]: t for t in wall_kpis.kpi_tiles(frame, now, wd.WallFilters())}
    assert tiles["dispatched"]["raw"]["day"] == 3
    assert tiles["dispatched"]["raw"]["week"] == tiles["dispatched"]["raw"]["month"] == 4
    assert tiles["dispatched"]["mom"] == ("up", "+200%")  # yesterday until 10:00: one
    assert tiles["arrival"]["raw"]["day"] == 1.0  # its denominator: the one that arrived


def test_overview_feed_and_drawer_are_masked(demo_gpkg: Path) -> None:
    view = wall_view.overview(str(demo_gpkg), {"window": "30d"}, None)
    assert view.history_url.startswith("/wall/history.geojson?cut=")
    assert view.total == sum(n for _, _, n in view.states)
    assert view.feed["rows"], "the demo has incidents in the last 30 days"
    detail = wall_view.detail(str(demo_gpkg), view.feed["rows"][0]["id"], view.cut)
    text = json.dumps(detail, ensure_ascii=False)
    assert detail["parties"] and "****" in detail["parties"][0]["phone"]
    # A mobile number on its own (not digits inside a coordinate such as 120.0881387174…).
    assert not re.search(r"(?<![\d.])1[3-9]\d{9}(?!\d)", text), "no phone number in clear"
    assert "events" in detail and detail["events"][0]["action"] == "受理"
    assert wall_view.detail(str(demo_gpkg), "NO-SUCH-ID", view.cut) == {}


def _incident(n: int, lon: float, lat: float) -> Incident:
    return Incident(
        id=f"LIVE{n:04d}",
        source="110",
        source_id=f"J-LIVE-{n}",
        received_at=datetime.now(UTC),
        category="noise",
        description="深夜噪音扰民",
        lon=lon,
        lat=lat,
        parties=(Party(name="王小明", phone="13912345678"),),
    )


def test_delta_sends_only_what_the_browser_lacks(demo_gpkg: Path, tmp_path: Path) -> None:
    from store import open_store

    db = tmp_path / "live.gpkg"
    shutil.copyfile(demo_gpkg, db)
    url = str(db)
    cut = wd.cut_of(wd.now_utc())
    args: dict[str, Any] = {"window": "today"}
    # The demo's year ends now: what changed since the cut is the browser's first delta.
    base = wall_view.live(url, cut, {}, args)
    seen = {f["properties"]["id"]: f["properties"]["v"] for f in base["features"]}
    assert wall_view.live(url, cut, {"key": base["key"], "ids": seen}, args)["features"] == []
    store = open_store(url)
    store.add_incidents([_incident(1, 120.0, 29.0)])
    wall_view._changed.cache_clear()  # else seen within wall_view.LIVE_SECONDS
    first = wall_view.live(url, cut, {"key": base["key"], "ids": seen}, args)
    assert [f["properties"]["id"] for f in first["features"]] == ["LIVE0001"]
    props = first["features"][0]["properties"]
    assert props["new"] == 1 and props["v"] == 1
    assert len(json.dumps(first)) < 1_000
    held = {"key": first["key"], "ids": {**seen, "LIVE0001": 1}}
    assert wall_view.live(url, cut, held, args)["features"] == []
    # Held under another history layer (other filters): sent again.
    other_key = {"key": "/wall/history.geojson?other", "ids": held["ids"]}
    assert len(wall_view.live(url, cut, other_key, args)["features"]) == len(seen) + 1
    other = wall_view.live(url, cut, {}, {"window": "today", "category": "wage"})
    assert "LIVE0001" not in {f["properties"]["id"] for f in other["features"]}  # filtered
    store.close()


def test_delta_across_workers_with_different_history_reads(demo_gpkg: Path, tmp_path: Path) -> None:
    """Several workers: the browser's history layer came from a worker that read before a
    change, the refresh is answered by one that read after it. The change must still reach the
    browser (only what the browser says it holds is skipped)."""
    from incidents.model import Event
    from store import Scope, open_store

    db = tmp_path / "workers.gpkg"
    shutil.copyfile(demo_gpkg, db)
    url = str(db)
    cut = wd.cut_of(wd.now_utc())
    args: dict[str, Any] = {"window": "7d"}
    store = open_store(url)
    # received before the cut, so the history layer of this cut holds it
    received = pd.Timestamp(cut).to_pydatetime() - timedelta(minutes=1)
    inc = dataclasses.replace(_incident(2, 120.0, 29.0), received_at=received)
    store.add_incidents([inc])
    wd._history_frame.cache_clear()
    first = wd.history_frame(url, cut)  # worker A's read: the browser's history shows v1
    assert dict(zip(first["id"], first["version"], strict=True))[inc.id] == 1
    note = Event(inc.id, 2, "note", datetime.now(UTC), "test", data={"text": "跟进"})
    store.append_event(note, 1, Scope.everything("test"))
    store.close()
    wd._history_frame.cache_clear()  # worker B reads after the change: version 2
    wall_view._changed.cache_clear()
    got = wall_view.live(url, cut, {}, args)
    versions = {f["properties"]["id"]: f["properties"]["v"] for f in got["features"]}
    assert versions.get(inc.id) == 2
    held = {"key": got["key"], "ids": versions}
    wall_view._changed.cache_clear()
    assert wall_view.live(url, cut, held, args)["features"] == []


def test_the_wall_page_loads_its_lazy_scripts_not_every_point(wall_app: Dash) -> None:
    client = sign_in_client(wall_app.server.test_client())
    page = client.get("/?window=year&category=wage&lang=en").get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    for chunk in wall_routes.ASYNC_CHUNKS:
        assert chunk in scripts and client.get(chunk).status_code == 200, chunk
    # The history layer depends on the map's zoom: never the whole layer up front.
    assert "/wall/history.geojson" not in page
    # Another page loads them only if it renders such a component.
    other = client.get("/map").get_data(as_text=True)
    assert "<script" in other and "async-GeoJSON.js" not in other


def test_the_tiles_count_a_change_before_the_next_cut(
    demo_gpkg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatch at 15:10 of a call received at 14:30 counts at the next refresh, not at the
    next hourly cut (the tiles, legend and feed lagged the store by up to an hour)."""
    from incidents.model import Event
    from store import Scope, open_store
    from tests.store.conftest import make_incident

    url = str(tmp_path / "wall.gpkg")
    shutil.copy(demo_gpkg, url)
    now = pd.Timestamp("2026-11-18 07:20", tz="UTC")  # 15:20 local, mid-week, mid-month
    monkeypatch.setattr(wd, "now_utc", lambda: now)
    store = open_store(url)
    inc = make_incident(
        1, id="E-LATE", received_at=(now - pd.Timedelta(minutes=50)).to_pydatetime()
    )
    store.add_incidents([inc])
    args = {"window": "today"}
    before = wall_view.overview(url, args, None)
    dispatched = {t["key"]: t for t in before.tiles}["dispatched"]["raw"]["day"]
    at = (now - pd.Timedelta(minutes=10)).to_pydatetime()
    store.append_event(
        Event(inc.id, 2, "dispatch", at, "d", data={"team_code": "T01"}), 1, Scope.everything("t")
    )
    store.close()
    now = now + pd.Timedelta(seconds=wall_view.REFRESH_SECONDS)
    after = wall_view.overview(url, args, before.cut)
    assert after.cut == before.cut  # the same hour
    assert {t["key"]: t for t in after.tiles}["dispatched"]["raw"]["day"] == dispatched + 1
    states = dict((code, n) for code, _, n in after.states)
    assert states["dispatched"] == dict((c, n) for c, _, n in before.states)["dispatched"] + 1


def test_callbacks_due_today_do_not_depend_on_the_window(
    demo_gpkg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call received ten days ago, resolved two days ago, is due for its callback today
    whatever window the wall shows (it read 0 on 今日 and 6 on 近一年)."""
    from incidents.model import Event
    from store import Scope, open_store
    from tests.store.conftest import make_incident

    url = str(tmp_path / "wall.gpkg")
    shutil.copy(demo_gpkg, url)
    now = pd.Timestamp("2026-11-18 07:20", tz="UTC")
    monkeypatch.setattr(wd, "now_utc", lambda: now)
    store = open_store(url)
    t0 = now - pd.Timedelta(days=10)
    inc = make_incident(1, id="E-DUE", received_at=t0.to_pydatetime())
    store.add_incidents([inc])
    steps = [("dispatch", 0.01, {"team_code": "T01"}), ("arrive", 0.02, {}), ("resolve", 8, {})]
    for seq, (action, days, data) in enumerate(steps, start=2):
        at = (t0 + pd.Timedelta(days=days)).to_pydatetime()
        store.append_event(
            Event(inc.id, seq, action, at, "d", data=data), seq - 1, Scope.everything("t")
        )
    store.close()
    due = {
        w: wall_view.overview(url, {"window": w}, None).feed["callbacks_due"]
        for w in ("today", "7d", "30d", "year")
    }
    assert len(set(due.values())) == 1 and due["today"] >= 1, due
