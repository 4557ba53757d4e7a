"""The first page comes with the layout (``/_dash-layout`` built for its ``Referer``), the wall
gate covers that request, and the wall's hotspot overlays serve what ``for_wall`` computes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dash import Dash
from flask.testing import FlaskClient

from app import wall_data as wd
from app import wall_hotspots as wh
from app.auth.roles import ROLES as ROLES_BY_NAME
from app.components import wall_hot
from app.config import Settings
from app.server import create_app
from tests._signin import sign_in_client
from tests.app import test_console_world as world
from tests.app.test_console_world import ACCOUNTS, callback, callback_key, login

world_path = world.world_path
ROLES = tuple(ACCOUNTS)


@pytest.fixture(scope="module")
def world_app(world_path: Path) -> Dash:
    return create_app(Settings(db=str(world_path)).validate())


def _layout(client: FlaskClient, referer: str | None) -> tuple[int, Any]:
    headers = {"Referer": referer} if referer is not None else {}
    response = client.get("/_dash-layout", headers=headers)
    body = response.get_json(silent=True) if response.status_code == 200 else None
    return response.status_code, body


def layout_props(node: Any) -> dict[str, dict[str, Any]]:
    """The props of every component with a string id in a ``/_dash-layout`` answer, by id."""
    out: dict[str, dict[str, Any]] = {}
    if isinstance(node, dict):
        props = node.get("props", {})
        if isinstance(props.get("id"), str):
            out[props["id"]] = props
        for value in props.values():
            out |= layout_props(value)
    elif isinstance(node, list):
        for item in node:
            out |= layout_props(item)
    return out


def _ids(node: Any) -> set[str]:
    return set(layout_props(node))


def _location(body: Any) -> dict[str, Any]:
    return body["props"]["children"][0]["props"]  # type: ignore[no-any-return]


def test_the_layout_holds_the_page_of_its_referer(world_app: Dash) -> None:
    client = login(world_app.server.test_client(), "commander")
    status, body = _layout(client, "http://localhost/?window=year&lang=en")
    assert status == 200
    assert {"wall-map", "wall-incidents", "ember-page", "ember-url"} <= _ids(body)
    location = _location(body)
    assert location["pathname"] == "/" and location["search"] == "?window=year&lang=en"
    assert location["hash"] == "" and location["href"].endswith("/?window=year&lang=en")
    _, console = _layout(client, "http://localhost/console")
    assert "console-map" in _ids(console) and "wall-map" not in _ids(console)
    _, town = _layout(client, "http://localhost/map")
    assert "town-map" in _ids(town) and "wall-map" not in _ids(town)


@pytest.mark.parametrize("referer", [None, "http://elsewhere.example/", "not a url"])
def test_without_a_usable_referer_the_router_renders_the_page(
    world_app: Dash, referer: str | None
) -> None:
    client = login(world_app.server.test_client(), "commander")
    status, body = _layout(client, referer)
    assert status == 200 and _ids(body) == {"ember-url", "ember-page"}
    assert "pathname" not in _location(body)  # the Location sets it, the router fires


@pytest.mark.parametrize("role", ROLES)
def test_the_layout_of_the_wall_is_for_whole_town_roles(world_app: Dash, role: str) -> None:
    client = login(world_app.server.test_client(), role)
    status, body = _layout(client, "http://localhost/")
    whole_town = ROLES_BY_NAME[role].area_field is None and ROLES_BY_NAME[role].sources is None
    if whole_town:
        assert status == 200 and "wall-map" in _ids(body), role
    else:
        assert status == 403 and body is None, role
        # An unknown path (the router shows the wall there) does not give it either.
        status, body = _layout(client, "http://localhost/nowhere")
        assert status == 200 and "wall-map" not in _ids(body), role


def _hot_key(app: Dash) -> str:
    return callback_key(app, f"{wall_hot.HEAT_ID}.url")


def test_hotspot_overlays_serve_for_wall_for_the_filter_window(
    wall_app: Dash, demo_gpkg: Path, frozen_wall_clock: pd.Timestamp
) -> None:
    # The layers are recomputed each BUCKET_SECONDS (their window moves with the clock): the
    # wall's clock stands still here, or a run straddling a minute sees two different ETags.
    client = sign_in_client(wall_app.server.test_client())
    url = str(demo_gpkg)
    cut = wd.cut_of(frozen_wall_clock)
    history = wd.history_url(cut, wd.WallFilters(window="year", category="wage"))
    inputs = [
        {"id": wall_hot.ON_ID, "property": "data", "value": {"heat": True, "hot": True}},
        {"id": "wall-history", "property": "data", "value": history},
    ]
    state = [
        {"id": wall_hot.HEAT_ID, "property": "url", "value": None},
        {"id": wall_hot.HOT_ID, "property": "url", "value": None},
        {"id": "wall-i18n", "property": "data", "value": {"lang": "zh"}},
    ]
    out = callback(client, _hot_key(wall_app), inputs, state)
    assert out.status_code == 200, out.get_data(as_text=True)[:300]
    response = out.get_json()["response"]
    heat_url = response[wall_hot.HEAT_ID]["url"]
    hot_url = response[wall_hot.HOT_ID]["url"]
    assert heat_url.startswith(wall_hot.ROUTE + "?layer=heat&") and "category=wage" in heat_url
    expected = wh.for_wall(url, cut, {"window": "year", "category": "wage"})
    assert expected.heat["features"] and expected.hot["features"]
    for layer, link in (("heat", heat_url), ("hot", hot_url)):
        got = client.get(link)
        assert got.status_code == 200 and got.headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(got.data)) == getattr(expected, layer)
        again = client.get(link, headers={"If-None-Match": got.headers["ETag"]})
        assert again.status_code == 304
    legend = json.dumps(response[wall_hot.LEGEND_ID]["children"], ensure_ascii=False)
    assert "热力" in legend and "热点" in legend
    assert client.get(wall_hot.ROUTE + "?layer=points").status_code == 400


def test_hotspot_overlays_compute_nothing_while_off(world_app: Dash) -> None:
    client = login(world_app.server.test_client(), "commander")
    inputs = [
        {"id": wall_hot.ON_ID, "property": "data", "value": {"heat": False, "hot": False}},
        {"id": "wall-history", "property": "data", "value": "/wall/history.geojson?window=7d"},
    ]
    state = [
        {"id": wall_hot.HEAT_ID, "property": "url", "value": None},
        {"id": wall_hot.HOT_ID, "property": "url", "value": None},
        {"id": "wall-i18n", "property": "data", "value": {"lang": "en"}},
    ]
    out = callback(client, _hot_key(world_app), inputs, state)
    assert out.status_code == 204  # PreventUpdate


def test_area_roles_get_no_hotspots(world_app: Dash) -> None:
    client = login(world_app.server.test_client(), "grid")
    assert client.get(wall_hot.ROUTE + "?layer=heat&window=year").status_code == 403
