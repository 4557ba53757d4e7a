"""Hostile requests found by review (each once gave a 500, the Dash page, an English-only HTML
error, a spec violation or a broken feed): the APIs answer in their own format, in Chinese and
English, with the right status."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pandas as pd
import pytest
import shapely
from flask.testing import FlaskClient
from shapely.geometry import shape

from app.api._params import instant
from app.wall_data import WallFilters
from tests.app.api_town import Town, build_town, sign_in


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    return build_town(tmp_path_factory.mktemp("hostile_town"), n_incidents=60)


@pytest.fixture
def client(town: Town) -> FlaskClient:
    return town.app.server.test_client()


def _bilingual(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text) and any(
        c.isascii() and c.isalpha() for c in text
    )


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/incidents/items?datetime=9999-12-31T23:59:59.999Z",
        "/ogc/collections/incidents/items?datetime=../9999-12-31T23:59:59Z",
        "/ogc/collections/incidents/items?datetime=now",
        "/ogc/collections/incidents/items?datetime=2025-01-01/2025-01-01/2025",
        "/ogc/collections/incidents/items?foo=bar",
        "/ogc/collections/grid_cells/items?f=html",
        "/open311/v2/requests.json?start_date=9999-12-31T23:59:59.999Z",
        "/open311/v2/requests.json?end_date=0001-01-01",
        "/open311/v2/requests.json?start_date=today",
    ],
)
def test_bad_parameters_are_a_bilingual_400(client: FlaskClient, town: Town, path: str) -> None:
    response = client.get(path, headers={"X-API-Key": town.keys["hub"]})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert _bilingual(response.get_data(as_text=True))


def test_instants_to_the_letter() -> None:
    assert str(instant("2025-01-02T03:04:05+08:00")) == "2025-01-01 19:04:05+00:00"
    assert str(instant("2025-01-02")) == "2025-01-02 00:00:00+00:00"
    for text in ("now", "today", "2025", "2025-02-30", "9999-12-31", "0001-01-01", "2025-01-02X"):
        assert instant(text) is None, text


def test_a_limit_above_the_maximum_is_the_maximum(client: FlaskClient) -> None:
    """OGC /req/core/fc-limit-response-1: a larger limit SHALL NOT be an error."""
    response = client.get("/ogc/collections/grid_cells/items?limit=99999999")
    assert response.status_code == 200
    assert response.get_json()["numberReturned"] == response.get_json()["numberMatched"]


@pytest.mark.parametrize("collection", ["villages", "grid_cells", "police_beats"])
def test_polygons_follow_the_right_hand_rule(client: FlaskClient, collection: str) -> None:
    """RFC 7946 §3.1.6: exterior rings counter-clockwise (every one was clockwise)."""
    doc = client.get(f"/ogc/collections/{collection}/items?limit=10000").get_json()
    rings = [
        poly.exterior
        for f in doc["features"]
        for poly in getattr(shape(f["geometry"]), "geoms", [shape(f["geometry"])])
    ]
    assert rings and all(shapely.is_ccw(r) for r in rings)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/open311/v2/", 404),
        ("GET", "/open311/v2", 404),
        ("GET", "/open311/", 404),
        ("POST", "/ogc/collections/incidents/items", 405),
        ("PATCH", "/open311/v2/requests.json", 405),
        ("DELETE", "/open311/v2/services.json", 405),
    ],
)
def test_no_dash_page_and_no_english_html_under_the_apis(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status and response.is_json, response.content_type
    assert _bilingual(response.get_data(as_text=True))
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_the_json_api_answers_json(client: FlaskClient, town: Town) -> None:
    for path in ("/api/incidents", "/api/incidents/", "/api/nothing"):
        response = client.get(path)
        assert response.status_code == 401 and response.is_json, path
    sign_in(client)
    assert client.get("/api/incidents?limit=-1").status_code == 400
    for path in ("/api/incidents/", "/api/incidents/a%2Fb", "/api/nothing"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path


def test_a_disabled_key_is_refused_on_public_views_too(client: FlaskClient, town: Town) -> None:
    for path in ("/ogc/collections/grid_cells/items", "/open311/v2/services.json"):
        assert client.get(path).status_code == 200
        for key in (town.keys["old"], "bogus"):
            assert client.get(path, headers={"X-API-Key": key}).status_code == 403, path


def _post(client: FlaskClient, town: Town, **data: Any) -> Any:
    body = {"service_code": "wage", "lat": "29.0097", "long": "120.1231", **data}
    return client.post(
        "/open311/v2/requests.json", data=body, headers={"X-API-Key": town.keys["hub"]}
    )


def test_unstorable_text_is_refused_and_the_xml_feed_stays_well_formed(
    client: FlaskClient, town: Town
) -> None:
    """A NUL made every later XML listing unreadable; a lone surrogate gave a 500."""
    assert _post(client, town, description="a\x00b").status_code == 400
    response = client.post(
        "/open311/v2/requests.json",
        json={"service_code": "wage", "lat": 29.0097, "long": 120.1231, "description": "\ud800x"},
        headers={"X-API-Key": town.keys["hub"]},
    )
    assert response.status_code == 400 and _bilingual(response.get_data(as_text=True))
    listing = client.get("/open311/v2/requests.xml", headers={"X-API-Key": town.keys["hub"]})
    ET.fromstring(listing.data)  # well-formed


def test_the_token_of_a_held_request_is_known(client: FlaskClient, town: Town) -> None:
    """A request held for review (202 and a token) is not "token not found" when followed."""
    held = _post(client, town, lat="40.7", long="-74.0")
    assert held.status_code == 202
    token = held.get_json()[0]["token"]
    found = client.get(f"/open311/v2/tokens/{token}.json")
    assert found.status_code == 200
    assert found.get_json()[0]["token"] == token
    assert found.get_json()[0]["service_request_id"] is None


def test_the_wall_custom_window_never_fails() -> None:
    """A custom window with no date (or a zone) fell over in bounds(): the default instead."""
    now = pd.Timestamp.now(tz="UTC")
    for start, end in (("garbage", None), ("2025-01-01", "zzz"), ("2025-01-01T00:00:00Z", None)):
        f = WallFilters.from_args({"window": "custom", "start": start, "end": end})
        lo, hi = f.bounds(now)
        assert lo < hi
    f = WallFilters.from_args({"window": "custom", "start": "2025-01-01", "end": "2025-01-02"})
    assert [str(t) for t in f.bounds(now)] == [
        "2024-12-31 16:00:00+00:00", "2025-01-02 16:00:00+00:00",
    ]  # fmt: skip


def test_a_parameter_given_twice_is_refused_not_guessed(client: FlaskClient, town: Town) -> None:
    """Form-encoded, the first of two values was kept; in JSON, the last: which one the caller
    meant is unclear either way, so neither is guessed (a bilingual 400 naming it)."""
    key = {"X-API-Key": town.keys["hub"]}
    form = "service_code=wage&lat=29.0097&long=120.1231&description=a&description=b"
    response = client.post(
        "/open311/v2/requests.json", data=form, headers=key,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "description" in text and _bilingual(text)
    body = '{"service_code": "wage", "lat": 29.0097, "long": 120.1231, "lat": 29.5}'
    response = client.post(
        "/open311/v2/requests.json", data=body, headers=key, content_type="application/json"
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "lat" in text and _bilingual(text)
