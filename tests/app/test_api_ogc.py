"""OGC API – Features (issue #9): GDAL's own OAPIF driver, through pyogrio, against a running
Ember; scope by API key and session, anonymous callers, paging, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyogrio
import pytest
import requests

from store import open_store
from tests.app.api_town import Town, assert_no_phone, build_town, serve_in_process, sign_in

pytestmark = pytest.mark.slow
# a server that stops answering fails the test instead of holding CI until its time limit
pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": "60", "GDAL_HTTP_CONNECTTIMEOUT": "10"})
LAYERS = {"villages", "grid_cells", "police_beats", "fire_stations", "incidents"}


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    return build_town(tmp_path_factory.mktemp("ogc_town"))


@pytest.fixture(scope="module")
def base_url(town: Town) -> Iterator[str]:
    with serve_in_process(town.db) as url:
        yield url


def test_gdal_lists_and_reads_layers_anonymously(base_url: str, town: Town) -> None:
    source = f"OAPIF:{base_url}/ogc/"
    names = {str(n) for n, _ in pyogrio.list_layers(source)}
    assert names == LAYERS
    store = open_store(str(town.db))
    villages = pyogrio.read_dataframe(source, layer="villages")
    assert len(villages) == len(store.read_layer("villages"))
    assert villages.crs.to_epsg() == 4326
    cells = pyogrio.read_dataframe(source, layer="grid_cells")
    assert len(cells) == len(store.read_layer("grid_cells")) > 100  # GDAL followed next links
    west, south, east, north = villages.total_bounds
    box = (west, south, (west + east) / 2, (south + north) / 2)
    some = pyogrio.read_dataframe(source, layer="grid_cells", bbox=box)
    assert 0 < len(some) < len(cells)
    assert_no_phone(cells.drop(columns="geometry").to_csv(), town.phones)
    incidents = pyogrio.read_dataframe(source, layer="incidents")
    assert len(incidents) == 0  # anonymous: no incidents


def test_gdal_reads_incidents_with_a_key(base_url: str, town: Town) -> None:
    # GDAL's driver has no API key option: the key travels in the URL (or X-API-Key).
    keyed = f"OAPIF:{base_url}/ogc/?api_key={town.keys['hub']}"
    frame = pyogrio.read_dataframe(keyed, layer="incidents")
    assert len(frame) > 100 and "caller_phone" not in frame.columns
    west, south, east, north = frame.total_bounds
    box = (west, south, (west + east) / 2, (south + north) / 2)
    inside = pyogrio.read_dataframe(keyed, layer="incidents", bbox=box)
    assert 0 < len(inside) < len(frame)
    assert ((inside.geometry.x <= box[2]) & (inside.geometry.y <= box[3])).all()
    grid = f"OAPIF:{base_url}/ogc/?api_key={town.keys['gridapp']}"
    mine = pyogrio.read_dataframe(grid, layer="incidents")
    assert len(mine) > 0 and set(mine["grid_code"]) == {town.grid}


def test_items_paging_datetime_and_errors(base_url: str, town: Town) -> None:
    items = f"{base_url}/ogc/collections/incidents/items"
    head = {"X-API-Key": town.keys["hub"]}
    first = requests.get(items, params={"limit": 5}, headers=head, timeout=30)
    assert first.headers["Content-Type"].startswith("application/geo+json")
    doc = first.json()
    assert doc["numberReturned"] == 5 and doc["numberMatched"] > 5
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    second = requests.get(nxt, headers=head, timeout=30).json()
    ids = [f["id"] for f in doc["features"]] + [f["id"] for f in second["features"]]
    assert len(set(ids)) == 10
    when = doc["features"][0]["properties"]["received_at"]
    one = requests.get(items, params={"datetime": when}, headers=head, timeout=30).json()
    assert doc["features"][0]["id"] in [f["id"] for f in one["features"]]
    later = requests.get(items, params={"datetime": f"{when}/.."}, headers=head, timeout=30)
    assert later.json()["numberMatched"] == doc["numberMatched"]
    # the pages make up the whole collection, each page read as a page by the store
    whole = requests.get(items, params={"limit": 10_000}, headers=head, timeout=30).json()
    assert whole["numberReturned"] == whole["numberMatched"] == doc["numberMatched"]
    paged, href = [], f"{items}?limit=7"
    while href:
        step = requests.get(href, headers=head, timeout=30).json()
        assert step["numberMatched"] == whole["numberMatched"]
        paged += [f["id"] for f in step["features"]]
        href = next((link["href"] for link in step["links"] if link["rel"] == "next"), "")
    assert paged == [f["id"] for f in whole["features"]]
    fid = doc["features"][0]["id"]
    assert requests.get(f"{items}/{fid}", headers=head, timeout=30).json()["id"] == fid
    assert requests.get(f"{items}/{fid}", timeout=30).status_code == 404  # anonymous
    bad = {"X-API-Key": "ek_nope"}
    assert requests.get(items, headers=bad, timeout=30).status_code == 403
    old = {"X-API-Key": town.keys["old"]}
    assert requests.get(items, headers=old, timeout=30).status_code == 403
    # each key's last use is noted for `ember apikey list`; a refused key's is not
    keys = open_store(str(town.db))
    used = keys.apikey_get("hub").last_used_at
    assert used is not None and datetime.now(UTC) - used < timedelta(minutes=10)
    assert keys.apikey_get("old").last_used_at is None
    for params in ({"bbox": "1,2,3"}, {"limit": "0"}, {"datetime": "yesterday"}):
        r = requests.get(items, params=params, headers=head, timeout=30)
        assert r.status_code == 400 and r.json()["code"]
    assert requests.get(f"{base_url}/ogc/collections/nope", timeout=30).status_code == 404


def _link(doc: dict, rel: str) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == rel), None)


def _ids(doc: dict) -> list[str]:
    return [f["id"] for f in doc["features"]]


def test_incident_pages_link_by_key_both_ways(base_url: str, town: Town) -> None:
    items = f"{base_url}/ogc/collections/incidents/items"
    head = {"X-API-Key": town.keys["hub"]}
    whole = _ids(requests.get(items, params={"limit": 10_000}, headers=head, timeout=30).json())
    assert len(whole) > 12
    asked = {"limit": 4, "properties": "state"}  # received_at is read for the links, not sent
    pages = [requests.get(items, params=asked, headers=head, timeout=30).json()]
    assert _link(pages[0], "prev") is None
    while (nxt := _link(pages[-1], "next")) is not None:
        query = parse_qs(urlsplit(nxt).query)
        assert "cursor" in query and "offset" not in query and query["properties"] == ["state"]
        pages.append(requests.get(nxt, headers=head, timeout=30).json())
        assert set(pages[-1]["features"][0]["properties"]) == {"id", "state"}
        assert pages[-1]["numberMatched"] == len(whole)
    assert [i for p in pages for i in _ids(p)] == whole and len(pages) == -(-len(whole) // 4)
    # back from the last page, page by page, to the first, which has no prev link
    back, doc = [_ids(pages[-1])], pages[-1]
    while (prev := _link(doc, "prev")) is not None:
        doc = requests.get(prev, headers=head, timeout=30).json()
        back.append(_ids(doc))
        assert _link(doc, "next") is not None
    flat = [i for p in reversed(back) for i in p]
    assert flat == whole and all(len(p) == 4 for p in back[1:-1])
    # a page from an offset links on by key; a cursor and an offset combine
    third = requests.get(items, params={"limit": 4, "offset": 8}, headers=head, timeout=30).json()
    assert _ids(third) == whole[8:12]
    assert _ids(requests.get(_link(third, "next"), headers=head, timeout=30).json()) == whole[12:16]
    assert _ids(requests.get(_link(third, "prev"), headers=head, timeout=30).json()) == whole[4:8]
    token = parse_qs(urlsplit(_link(third, "next")).query)["cursor"][0]
    skip = {"limit": 2, "offset": 1, "cursor": token}
    assert _ids(requests.get(items, params=skip, headers=head, timeout=30).json()) == whole[13:15]
    for bad in ("nope", "W10=", token[:-3]):
        r = requests.get(items, params={"cursor": bad}, headers=head, timeout=30)
        assert r.status_code == 400 and "cursor" in r.json()["description"]


def test_items_give_the_properties_asked_for(base_url: str, town: Town) -> None:
    items = f"{base_url}/ogc/collections/incidents/items"
    head = {"X-API-Key": town.keys["hub"]}
    asked = {"limit": 3, "properties": "state,received_at,id"}  # the id comes anyway
    doc = requests.get(items, params=asked, headers=head, timeout=30).json()
    assert doc["numberReturned"] == 3
    assert all(set(f["properties"]) == {"id", "state", "received_at"} for f in doc["features"])
    assert all(f["geometry"]["type"] == "Point" for f in doc["features"])
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    assert "properties=state%2Creceived_at%2Cid" in nxt  # the next page asks for the same
    whole = requests.get(items, params={"limit": 3}, headers=head, timeout=30).json()
    assert [f["properties"]["state"] for f in whole["features"]] == [
        f["properties"]["state"] for f in doc["features"]
    ]
    bare = requests.get(items, params={"limit": 2, "properties": ""}, headers=head, timeout=30)
    assert all(set(f["properties"]) == {"id"} for f in bare.json()["features"])
    # a caller's phone is not a property of the API (never sent), so it cannot be asked for
    refused = requests.get(items, params={"properties": "caller_phone"}, headers=head, timeout=30)
    assert refused.status_code == 400 and "caller_phone" in refused.json()["description"]
    cells = f"{base_url}/ogc/collections/grid_cells/items"
    layer = requests.get(cells, params={"limit": 2, "properties": "name"}, timeout=30).json()
    assert all(set(f["properties"]) == {"code", "name"} for f in layer["features"])
    assert requests.get(cells, params={"properties": "nope"}, timeout=30).status_code == 400


def test_session_sees_its_scope(town: Town) -> None:
    client = town.app.server.test_client()
    sign_in(client)
    r = client.get("/ogc/collections/incidents/items?limit=1000")
    doc = json.loads(r.get_data())
    assert doc["numberMatched"] > 0
    assert {f["properties"]["grid_code"] for f in doc["features"]} == {town.grid}
    assert_no_phone(r.get_data(as_text=True), town.phones)
