"""Open311 GeoReport v2 (issue #9): the PyPI client ``georeport`` for the GETs, POSTs exactly as
the spec's form-encoded example (json and xml), scope, errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import georeport.georeport
import pytest
import requests
import xmltodict
from georeport import GeoReport

from app.server import serve_in_thread
from store import IncidentQuery, Scope, open_store
from tests.app.api_town import Town, assert_no_phone, build_town

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    return build_town(tmp_path_factory.mktemp("open311_town"))


@pytest.fixture(scope="module")
def root(town: Town) -> Iterator[str]:
    with serve_in_thread(town.app) as url:
        yield f"{url}/open311/v2"


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, town: Town) -> Any:
    """Make the georeport client send an API key on its GETs (it sends none itself) — the way
    a deployment puts the key in front of a client that cannot (a proxy adding the header)."""

    def use(name: str) -> None:
        get = functools.partial(requests.get, headers={"X-API-Key": town.keys[name]})
        monkeypatch.setattr(georeport.georeport.requests, "get", get)

    return use


def _spec_body(town: Town, key: str, lat: float, lon: float) -> str:
    """The spec's example POST body (GeoReport v2, POST Service Request), our values."""
    return (
        f"api_key={key}&jurisdiction_id=city.gov&service_code=wage&lat={lat}&long={lon}"
        "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
        "&account_id=123456&first_name=john&last_name=smith&phone=13900001111"
        "&description=A+large+sinkhole+is+destroying+the+street"
        "&media_url=http%3A%2F%2Fcity.gov%2Ftest.jpg"
    )


def _inside(town: Town) -> tuple[float, float]:
    cells = open_store(str(town.db)).read_layer("grid_cells")
    point = cells[cells["code"] == town.grid].representative_point().iloc[0]
    return round(point.y, 6), round(point.x, 6)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client(root: str, town: Town, keyed: Any, fmt: str) -> None:
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "wage" in codes and "noise" in codes
    definition = client.get_service_definition("wage")
    assert definition["service_code"] == "wage"
    keyed("hub")
    found = client.get_service_requests(status="closed")
    found = found if isinstance(found, list) else [found]
    assert found and {r["status"] for r in found} == {"closed"}
    rid = found[0]["service_request_id"]
    one = client.get_service_request(rid)
    assert one["service_request_id"] == rid and one["agency_responsible"]
    both = client.get_service_requests(
        service_request_id=f"{rid},{found[-1]['service_request_id']}"
    )
    assert len(both if isinstance(both, list) else [both]) == (1 if len(found) == 1 else 2)
    wage = client.get_service_requests(service_code="wage")
    assert {r["service_code"] for r in (wage if isinstance(wage, list) else [wage])} == {"wage"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_as_in_the_spec(root: str, town: Town, keyed: Any, fmt: str) -> None:
    lat, lon = _inside(town)
    r = requests.post(
        f"{root}/requests.{fmt}",
        data=_spec_body(town, town.keys["hub"], lat, lon),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    if fmt == "json":
        created = r.json()[0]
    else:
        created = xmltodict.parse(r.content)["service_requests"]["request"]
    rid = created["service_request_id"]
    keyed("gridapp")  # the grid officer of that cell sees it
    got = GeoReport(root, output_format=fmt).get_service_request(rid)
    assert got["status"] == "open" and got["service_code"] == "wage"
    assert "13900001111" not in json.dumps(got)
    record = open_store(str(town.db)).get_incident(rid, Scope.everything("t", personal_data=True))
    inc = record.incident
    assert inc.source == "open311" and inc.grid_code == town.grid and inc.category == "wage"
    assert inc.parties[0].phone == "13900001111" and inc.parties[0].name == "john smith"


def test_post_json_body_subcategory_and_token(root: str, town: Town) -> None:
    lat, lon = _inside(town)
    body: dict[str, Any] = {
        "api_key": town.keys["hub"],
        "service_code": "wage",
        "lat": lat,
        "long": lon,
        "first_name": "小明",
        "last_name": "罗",
        "description": "老板拖欠工资三个月",
        "attribute": {"subcategory": "arrears"},
    }
    r = requests.post(f"{root}/requests.json", json=body, timeout=60)
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    inc = open_store(str(town.db)).get_incident(rid, Scope.everything("t", personal_data=True))
    assert inc.incident.category == "wage" and "拖欠工资" in str(inc.incident.subcategory)
    assert inc.incident.parties[0].name == "罗小明"  # family name first


def test_errors(root: str, town: Town) -> None:
    lat, lon = _inside(town)
    hub = town.keys["hub"]

    def post(fmt: str = "json", **fields: Any) -> requests.Response:
        return requests.post(f"{root}/requests.{fmt}", data=fields, timeout=60)

    r = post(service_code="wage", lat=lat, long=lon)
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    assert post(api_key="ek_wrong", service_code="wage", lat=lat, long=lon).status_code == 403
    ro = post(api_key=town.keys["analysis"], service_code="wage", lat=lat, long=lon)
    assert ro.status_code == 403
    assert post(api_key=town.keys["old"], service_code="wage", lat=lat, long=lon).status_code == 403
    assert post(api_key=hub, service_code="nope", lat=lat, long=lon).status_code == 404
    r = post("xml", api_key=hub, service_code="wage")
    assert r.status_code == 400
    err = xmltodict.parse(r.content)["errors"]["error"]
    assert err["code"] == "400" and err["description"]
    assert post(api_key=hub, service_code="wage", lat="north", long=lon).status_code == 400
    for attribute in (True, ["subcategory"], "arrears"):  # JSON, but not an object of codes
        body = {"api_key": hub, "service_code": "wage", "attribute": attribute}
        r = requests.post(f"{root}/requests.json", json=body, timeout=60)
        assert r.status_code == 400, (attribute, r.text)
        assert "attribute" in r.json()[0]["description"]
    assert requests.get(f"{root}/requests.json", timeout=30).status_code == 403
    head = {"X-API-Key": hub}
    r = requests.get(f"{root}/requests/N000.json", headers=head, timeout=30)
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    span = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    assert (
        requests.get(f"{root}/requests.json", params=span, headers=head, timeout=30).status_code
        == 400
    )
    assert requests.get(f"{root}/services/nope.json", timeout=30).status_code == 404
    assert requests.get(f"{root}/tokens/abc.json", timeout=30).status_code == 404


def test_paging_scope_and_no_personal_data(root: str, town: Town) -> None:
    head = {"X-API-Key": town.keys["hub"]}
    url = f"{root}/requests.json"
    page1 = requests.get(url, params={"page_size": 3}, headers=head, timeout=30).json()
    page2 = requests.get(url, params={"page_size": 3, "page": 2}, headers=head, timeout=30).json()
    assert len(page1) == len(page2) == 3
    assert not {r["service_request_id"] for r in page1} & {r["service_request_id"] for r in page2}
    assert page1[0]["requested_datetime"] >= page1[-1]["requested_datetime"]  # newest first
    everything = requests.get(url, headers=head, timeout=30)
    assert 0 < len(everything.json()) <= 1000
    assert_no_phone(everything.text, town.phones)
    # pages (read as pages by the store) make up the whole list, in its order, per status too
    every_id = [r["service_request_id"] for r in everything.json()]
    for status in (None, "open", "closed"):
        want = [r for r in everything.json() if status is None or r["status"] == status]
        got: list[dict[str, Any]] = []
        for n in range(1, len(want) // 7 + 3):
            params = {"page_size": 7, "page": n, **({"status": status} if status else {})}
            got += requests.get(url, params=params, headers=head, timeout=30).json()
        assert [r["service_request_id"] for r in got] == [r["service_request_id"] for r in want]
        assert {r["status"] for r in got} <= ({status} if status else {"open", "closed"})
    assert len(every_id) == len(set(every_id))
    grid = requests.get(url, headers={"X-API-Key": town.keys["gridapp"]}, timeout=30).json()
    assert 0 < len(grid) < len(everything.json())
    # by id: in the order asked, unknown ids and ids outside the key's scope left out
    outside = next(i for i in every_id if i not in {r["service_request_id"] for r in grid})
    asked = [every_id[-1], "nope", every_id[0], outside]
    got = requests.get(
        url, params={"service_request_id": ",".join(asked)}, headers=head, timeout=30
    )
    assert [r["service_request_id"] for r in got.json()] == [every_id[-1], every_id[0], outside]
    mine = requests.get(
        url,
        params={"service_request_id": ",".join(asked)},
        headers={"X-API-Key": town.keys["gridapp"]},
        timeout=30,
    ).json()
    assert outside not in [r["service_request_id"] for r in mine]


def test_tokens(root: str, town: Town) -> None:
    lat, lon = _inside(town)
    fields = {
        "api_key": town.keys["hub"],
        "service_code": "noise",
        "lat": lat,
        "long": lon,
        "description": "广场舞噪音",
    }
    r = requests.post(
        f"{root}/requests.json",
        data=urlencode(fields),
        timeout=60,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    rid = r.json()[0]["service_request_id"]
    inc = open_store(str(town.db)).get_incident(rid, Scope.everything("t"))
    token = inc.incident.source_id
    r = requests.get(f"{root}/tokens/{token}.xml", timeout=30)
    doc = xmltodict.parse(r.content)["service_requests"]["request"]
    assert doc == {"service_request_id": rid, "token": token}


def test_post_by_address_geocoded_or_held(root: str, town: Town) -> None:
    store = open_store(str(town.db))
    frame = store.query_incidents(IncidentQuery(), Scope.everything("t"))
    known = frame[frame["geocode_level"].isin(["door", "house"])].iloc[0]
    fields = {"api_key": town.keys["hub"], "service_code": "noise", "description": "装修噪音"}
    r = requests.post(
        f"{root}/requests.json", data={**fields, "address_string": known["address"]}, timeout=60
    )
    assert r.status_code == 201, r.text
    inc = store.get_incident(r.json()[0]["service_request_id"], Scope.everything("t")).incident
    assert inc.grid_code and inc.lon is not None  # geocoded and assigned by the pipeline
    r = requests.post(
        f"{root}/requests.xml", data={**fields, "address_string": "火星基地一号"}, timeout=60
    )
    assert r.status_code == 202  # held in the quarantine for a person to place
    held = xmltodict.parse(r.content)["service_requests"]["request"]
    assert held["token"] and "review" in held["service_notice"]
    followed = requests.get(f"{root}/tokens/{held['token']}.json", timeout=30)
    assert followed.status_code == 200  # known, held: no request id yet (not "not found")
    assert followed.json()[0]["service_request_id"] is None
    assert store.quarantine_list(source="open311")


def test_a_grid_key_places_requests_in_its_own_cells_only(root: str, town: Town) -> None:
    """A grid officer's key posting a point in another grid cell: held for review (202, a
    token, the reason), not stored where the key could not read it back (it was stored, 201,
    and a GET by the same key then answered 404)."""
    cells = open_store(str(town.db)).read_layer("grid_cells")
    there = cells[cells["code"] != town.grid].representative_point().iloc[0]
    lat, lon = _inside(town)
    key = town.keys["gridapp"]
    fields = {"api_key": key, "service_code": "noise", "description": "夜间施工噪音"}
    r = requests.post(
        f"{root}/requests.json", data={**fields, "lat": there.y, "long": there.x}, timeout=60
    )
    assert r.status_code == 202, r.text
    held = r.json()[0]
    assert "outside the areas of apikey:gridapp" in held["service_notice"]
    entry = next(
        e for e in open_store(str(town.db)).quarantine_list(source="open311")
        if e.source_id == held["token"]
    )  # fmt: skip
    assert entry.code == "outside_scope" and "负责范围" in entry.reason_zh
    assert not open_store(str(town.db)).source_keys("open311", [held["token"]])
    r = requests.post(f"{root}/requests.json", data={**fields, "lat": lat, "long": lon}, timeout=60)
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    got = requests.get(f"{root}/requests/{rid}.json", headers={"X-API-Key": key}, timeout=30)
    assert got.status_code == 200 and got.json()[0]["service_request_id"] == rid


def test_a_request_sent_again_with_its_idempotency_key_is_one_incident(
    root: str, town: Town
) -> None:
    """A client whose answer was lost sends its POST again: with the same Idempotency-Key it
    is answered as the first was (the same request id; the same token while held), never a
    second incident or a second quarantine entry (without a key it was, every time); the same
    key with another request is refused; another API key's same value is another request."""
    store = open_store(str(town.db))
    lat, lon = _inside(town)
    fields = {"service_code": "wage", "lat": lat, "long": lon, "description": "工地欠薪两个月"}

    def post(key: str, idem: str, **more: Any) -> requests.Response:
        body = {**fields, "api_key": town.keys[key], **more}
        headers = {"Idempotency-Key": idem}
        return requests.post(f"{root}/requests.json", data=body, headers=headers, timeout=60)

    first, again = post("hub", "3f1c-retry-1"), post("hub", "3f1c-retry-1")
    assert (first.status_code, again.status_code) == (201, 201), again.text
    rid = first.json()[0]["service_request_id"]
    assert again.json()[0]["service_request_id"] == rid
    token = store.get_incident(rid, Scope.everything("t")).incident.source_id
    assert len(store.source_keys("open311", [token])) == 1
    assert len(store.events(rid, Scope.everything("t"))) == 1  # no amend either
    other = post("hub", "3f1c-retry-1", description="另一件事：邻里噪音")
    assert other.status_code == 422 and "different request" in other.text
    mine = post("gridapp", "3f1c-retry-1")  # another key's value: its own request
    assert mine.status_code == 201 and mine.json()[0]["service_request_id"] != rid

    lost = {"lat": "", "long": "", "address_string": "火星基地一号"}
    held, held_again = post("hub", "held-7", **lost), post("hub", "held-7", **lost)
    assert (held.status_code, held_again.status_code) == (202, 202)
    assert held.json()[0]["token"] == held_again.json()[0]["token"]
    tokens = [e.source_id for e in store.quarantine_list(source="open311")]
    assert tokens.count(held.json()[0]["token"]) == 1
    assert post("hub", "").status_code == 400  # no key in it
    assert post("hub", "a key").status_code == 400  # a space
    assert post("hub", "k" * 256).status_code == 400  # too long


def test_a_body_neither_form_nor_json_is_said_so(root: str, town: Town) -> None:
    """A JSON body sent as text/plain (or without its type) was read as no parameters and
    refused as lacking an api_key: the client was sent looking for the wrong thing."""
    lat, lon = _inside(town)
    body = json.dumps({"api_key": town.keys["hub"], "service_code": "noise", "lat": lat,
                       "long": lon, "description": "夜间噪音"})  # fmt: skip
    for kind in ("text/plain", "application/octet-stream"):
        r = requests.post(
            f"{root}/requests.json", data=body, headers={"Content-Type": kind}, timeout=60
        )
        assert r.status_code == 400, r.text
        said = r.json()[0]["description"]
        assert "form-encoded or JSON" in said and kind in said and "api_key" not in said
