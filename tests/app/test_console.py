"""The dispatcher console 坐席台: its gate, lists and actions through the Flask test client
(Dash callbacks posted as the browser posts them), and the use cases of app.console_actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dash import Dash
from flask.testing import FlaskClient

from app import console_actions as ca
from app.auth.roles import scope_for
from app.components import console_panels as cp
from app.components.console_directory import build_directory
from app.pages.console import BUTTONS
from store import GeoPackageStore, IncidentStore, ReadOnlyScope, Scope, StaleVersion, StoreBusy
from tests.app import test_console_world as world
from tests.app.test_console_world import (
    LATE,
    LOW,
    REPEAT,
    A,
    B,
    callback,
    callback_key,
    login,
)

# The world's fixtures, shared with the other console tests.
fresh_world = world.fresh_world
world_path = world.world_path


def _store(app: Dash) -> IncidentStore:
    from app.components.console_directory import store_of

    return store_of(app.server.extensions["ember_auth"].settings.db)


def _act(app: Dash, client: FlaskClient, button: str, current: dict[str, Any], **form: Any) -> str:

    inputs = [
        {"id": b, "property": "n_clicks", "value": 1 if b == button else None} for b in BUTTONS
    ]
    values = {
        "console-current": ("data", current),
        "console-team": ("value", form.get("team")),
        "console-dept": ("value", form.get("dept")),
        "console-return-to": ("value", form.get("to", "110")),
        "console-reason": ("value", form.get("reason")),
        "console-level": ("value", form.get("level", 1)),
        "console-pin-at": ("data", form.get("pin")),
        "console-changed": ("data", 0),
        "console-lang": ("data", form.get("lang", "zh")),
    }
    state = [{"id": i, "property": p, "value": v} for i, (p, v) in values.items()]
    key = callback_key(app, "console-msg.children")
    response = callback(client, key, inputs, state, changed=f"{button}.n_clicks")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _version(app: Dash, iid: str) -> int:
    return _store(app).get_incident(iid, Scope.everything()).status.version


def test_console_gate(fresh_world: Dash) -> None:
    anonymous = fresh_world.server.test_client()
    page = anonymous.get("/console", headers={"Accept": "text/html"})
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert login(fresh_world.server.test_client(), "grid").get("/console").status_code == 403
    assert login(fresh_world.server.test_client(), "analyst").get("/console").status_code == 403
    for role in ("dispatcher", "commander", "admin"):
        assert login(fresh_world.server.test_client(), role).get("/console").status_code == 200


def test_lists_show_the_queue_newest_first_and_the_overdue(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "dispatcher")
    inputs = [
        {"id": "console-refresh", "property": "n_intervals", "value": 1},
        {"id": "console-changed", "property": "data", "value": 0},
    ]
    state = [
        {"id": "console-selected", "property": "data", "value": None},
        {"id": "console-lang", "property": "data", "value": "zh"},
        {"id": "console-lists-key", "property": "data", "value": None},
    ]
    key = callback_key(fresh_world, "console-queue.children")
    first = callback(client, key, inputs, state)
    text = first.get_data(as_text=True)
    queue, supervision = text.split("console-supervision")
    order = [queue.index(i) for i in (A, B, LOW, REPEAT)]
    assert order == sorted(order)  # received 1, 2, 3, 5 hours ago: newest first
    assert LATE not in queue and LATE in supervision and "办理超期" in supervision
    assert "需人工定位" in queue and "1小时前" in queue
    # A refresh sends only the lists that changed: none here (the page holds these digests).
    shown = first.get_json()["response"]["console-lists-key"]["data"]
    assert len(shown) == 2 and all(shown)
    state[-1]["value"] = shown
    again = callback(client, key, inputs, state).get_json()["response"]
    assert set(again) == {"console-lists-key"} and again["console-lists-key"]["data"] == shown
    # ... and the one that did: another row selected marks the queue, not the supervision list
    state[0]["value"] = A
    moved = callback(client, key, inputs, state).get_json()["response"]
    assert set(moved) == {"console-queue", "console-lists-key"}


def test_accept_dispatch_and_stale_version(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "dispatcher")
    v = _version(fresh_world, A)
    assert "已确认受理" in _act(fresh_world, client, "console-accept", {"id": A, "version": v})
    stale = _act(fresh_world, client, "console-dispatch", {"id": A, "version": v}, team="T01")
    assert "已被他人更新" in stale and stale.index("已被他人更新") < stale.index("changed by")
    text = _act(
        fresh_world, client, "console-dispatch", {"id": A, "version": v + 1}, team="T01", dept="D01"
    )
    assert "已派遣" in text
    status = _store(fresh_world).get_incident(A, Scope.everything()).status
    assert (status.state.value, status.team_code, status.department_code) == (
        "dispatched",
        "T01",
        "D01",
    )
    unknown = _act(fresh_world, client, "console-dispatch", {"id": B, "version": 1}, team="T99")
    assert "请选择有效的处置队伍" in unknown


def test_return_needs_a_reason_and_is_final(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "dispatcher")
    current = {"id": B, "version": 1}
    assert "请填写退回原因" in _act(fresh_world, client, "console-return", current, reason=" ")
    text = _act(fresh_world, client, "console-return", current, reason="属公安警情", to="110")
    assert "已退回" in text
    events = _store(fresh_world).events(B, Scope.everything())
    assert (events[-1].action, events[-1].reason, events[-1].data) == (
        "return",
        "属公安警情",
        {"to": "110"},
    )
    again = _act(fresh_world, client, "console-dispatch", {"id": B, "version": 2}, team="T02")
    assert "不能执行" in again and again.index("不能执行") < again.index("not allowed")


def test_manual_placement_moves_the_point_and_reassigns(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "dispatcher")
    current = {"id": LOW, "version": 1}
    assert "请先在地图上点击" in _act(fresh_world, client, "console-place", current)
    text = _act(fresh_world, client, "console-place", current, pin=[120.03, 30.005])
    assert "已人工定位" in text
    rec = _store(fresh_world).get_incident(LOW, Scope.everything())
    st, last = rec.status, rec.events[-1]
    assert (st.lon, st.lat, st.geocode_level, st.geocode_confidence) == (
        120.03,
        30.005,
        "manual",
        1.0,
    )
    assert (st.grid_code, st.village_code) == ("330784199002001", "330784199002")
    assert last.action == "amend" and last.data["previous"]["grid_code"] == "330784199001001"
    assert not ca.needs_placement(st)
    outside = _act(
        fresh_world, client, "console-place", {"id": LOW, "version": 2}, pin=[121.5, 31.0]
    )
    assert "不在镇域网格内" in outside


def test_supervise_and_escalate(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "commander")
    assert "已督办" in _act(fresh_world, client, "console-supervise", {"id": LATE, "version": 3})
    no_reason = _act(fresh_world, client, "console-escalate", {"id": LATE, "version": 4}, level=2)
    assert "请填写会商原因" in no_reason
    text = _act(
        fresh_world,
        client,
        "console-escalate",
        {"id": LATE, "version": 4},
        level=2,
        reason="欠薪金额大，需镇级会商",
    )
    assert "已提请会商" in text
    st = _store(fresh_world).get_incident(LATE, Scope.everything()).status
    assert (st.state.value, st.escalation_level, st.supervised) == ("escalated", 2, True)
    lower = _act(
        fresh_world, client, "console-escalate", {"id": LATE, "version": 5}, level=1, reason="x"
    )
    assert "会商级别只能提高" in lower


def test_console_actions_refused_for_other_roles(fresh_world: Dash) -> None:
    client = login(fresh_world.server.test_client(), "grid")
    text = _act(fresh_world, client, "console-accept", {"id": A, "version": 1})
    assert "无权使用坐席台" in text
    assert _version(fresh_world, A) == 1


def test_use_cases_directly(world_path: Path, tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "w.gpkg"
    shutil.copy(world_path, path)
    store = GeoPackageStore(path)
    directory = build_directory(store)
    assert directory.teams == {"T01": "第1处置队", "T02": "第2处置队"}
    analyst = scope_for("analyst", [], "ana")
    with pytest.raises(ReadOnlyScope) as err:
        ca.accept(store, analyst, A, 1)
    assert ca.message_of(err.value).startswith("ana 只能查看")
    with pytest.raises(StaleVersion):
        ca.supervise(store, scope_for("dispatcher", [], "d"), A, 0)
    rows = ca.queue(store, Scope.everything())
    assert [r.id for r in rows] == [A, B, LOW, REPEAT]
    assert [r.needs_placement for r in rows] == [False, False, True, False]
    # another writer holds the file: the dispatcher is told, after the wait, not left hanging
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy) as busy:
            ca.accept(GeoPackageStore(path, wait_s=0.2), scope_for("dispatcher", [], "d"), A, 1)
        assert ca.message_of(busy.value).startswith("数据库正被其他操作占用")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    rec = store.get_incident(LOW, Scope.everything())
    s = ca.suggest(directory, rec)
    assert s.grid is not None and s.grid.name == "网格员1号"
    assert s.beat is not None and s.beat.name == "李警官"
    assert s.team == ("T01", "第1处置队") and s.department == ("D02", "执法中队")  # noise
    assert s.station is not None and s.station_distance_m is not None
    sv = ca.supervision(store, Scope.everything())
    assert list(sv["id"]) == [LATE] and sv.loc[0, "flags"] == ("resolution",)
    assert ca.supervision(store, Scope.everything(), limit=None).equals(sv)
    # The panel shows the first rows under a count of all of them.
    two = pd.concat([sv, sv.assign(id="E-OTHER")], ignore_index=True)
    shown = cp.supervision(two, None, "zh", shown=1)
    assert [type(c).__name__ for c in shown] == ["P", "Button"]
    assert "共 2 件" in shown[0].children and shown[1].id["id"] == LATE
    assert len(cp.supervision(two, None, "en")) == 2  # within the default: no count line
    store.close()


def test_map_clicks_come_back_to_wgs84_under_amap() -> None:
    from app.basemap import Display
    from app.components.incident_map import clicked

    amap = Display("gcj02")
    x, y = amap.point(120.01, 30.005)  # where the incident is drawn on AMap tiles
    lon, lat = clicked({"latlng": {"lat": y, "lng": x}}, amap) or (0.0, 0.0)
    assert abs(lon - 120.01) < 1e-5 and abs(lat - 30.005) < 1e-5
    assert (x, y) != (120.01, 30.005)  # GCJ-02 is shifted by a few hundred metres
    assert clicked({"latlng": [30.005, 120.01]}, Display()) == (120.01, 30.005)
    assert clicked(None, amap) is None and clicked({"latlng": "x"}, amap) is None


def test_find_an_incident_in_neither_list(fresh_world: Dash) -> None:
    from app import console_find

    store = _store(fresh_world)
    everyone = Scope.everything("dispatcher")
    # by id (any case) or by the address as the console shows it; newest first
    assert list(console_find.find(store, everyone, A.lower())["id"]) == [A]
    assert list(console_find.find(store, everyone, "西溪社区")["id"]) == [B]
    assert list(console_find.find(store, everyone, "东山村")["id"]) == [A, LOW, REPEAT, LATE]
    assert list(console_find.find(store, everyone, "东山村", limit=2)["id"]) == [A, LOW]
    assert console_find.find(store, everyone, "  ").empty
    # the caller is not searched, and the scope holds: grid A does not find B
    assert console_find.find(store, everyone, "罗小明").empty
    assert console_find.find(store, Scope(actor="g", grid_codes=(world.GRID_A,)), B).empty

    client = login(fresh_world.server.test_client(), "dispatcher")
    key = callback_key(fresh_world, "console-found.children")
    state = [
        {"id": "console-selected", "property": "data", "value": None},
        {"id": "console-lang", "property": "data", "value": "zh"},
    ]
    asked = [{"id": cp.FIND_ID, "property": "value", "value": "西溪"}]
    text = callback(client, key, asked, state).get_data(as_text=True)
    assert B in text and A not in text and "找到 1 件" in text and cp.FOUND_ROW in text
    assert world.PHONE_B not in text and "陈大文" not in text  # no caller on a found row
    asked[0]["value"] = "nowhere"
    assert "没有相符的事项" in callback(client, key, asked, state).get_data(as_text=True)
    # a role without the console finds nothing
    other = login(fresh_world.server.test_client(), "analyst")
    asked[0]["value"] = A
    assert A not in callback(other, key, asked, state).get_data(as_text=True)
