"""OGC API – Features (Part 1: Core, GeoJSON) under ``/ogc/``.

Collections: the published layers (villages, grid cells, police beats, fire stations) and
``incidents``. Items take ``bbox`` (CRS84), ``datetime`` (incidents: ``received_at``; ignored by
the layers, which have no time), ``limit`` (default 100, at most 10,000) and ``offset``, with
``next``/``prev`` links that keep the other parameters (for incidents the links carry a keyset
``cursor`` instead of an offset, see :mod:`app.api._cursor`), and ``properties`` (a comma-separated
list of the properties wanted, as OGC API – Features Part 6 has it; the id and the geometry
always come; for incidents the store reads only those columns). Output is GeoJSON in CRS84.

Who sees what: signed-in users (session cookie) and API keys (``?api_key=`` or ``X-API-Key``)
see incidents within their scope, personal data left out; anonymous callers see the layers and an
*empty* incidents collection (``numberMatched: 0``) rather than a 401, because GDAL's OAPIF driver
opens every collection when listing layers and one refused collection would make the whole
dataset fail to open. An unknown or disabled key is refused with 403.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
import pandas as pd
from flask import Blueprint, Response, request, url_for
from shapely.geometry import box

from app.api._auth import KeyRefused, caller, refuse_bad_key
from app.api._common import (
    LAYERS,
    PUBLIC_INCIDENT_COLUMNS,
    features,
    incident_by_id,
    iso,
    json_response,
    query_public,
    state,
)
from app.api._cursor import BadCursor, Cursor
from app.api._params import YEARS, instant
from store import IncidentNotFound, IncidentQuery

bp = Blueprint("ember_ogc", __name__, url_prefix="/ogc")
GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
INCIDENTS = ("非警务事项", "Non-police incidents")
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


class BadRequest(ValueError):
    """A malformed query parameter (400); the message is bilingual."""


def error(status: int, code: str, description: str) -> Response:
    """An OGC API exception document (``code``, ``description``) with ``status``."""
    return json_response({"code": code, "description": description}, status)


@bp.before_request
def _key_check() -> None:
    refuse_bad_key(state().store)


@bp.errorhandler(BadRequest)
def _bad(exc: BadRequest) -> Response:
    return error(400, "InvalidParameterValue", str(exc))


@bp.errorhandler(KeyRefused)
def _refused(exc: KeyRefused) -> Response:
    return error(403, "Forbidden", str(exc))


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    return {**out, "title": title} if title else out


@bp.get("/", strict_slashes=False)
def landing() -> Response:
    """The landing page."""
    return json_response(
        {
            "title": "Ember 非警务事项 OGC API – Features",
            "description": "村社区、网格、警格、微型消防站与非警务事项 / villages, grid cells, "
            "police beats, fire stations and non-police incidents",
            "links": [
                _link(url_for(".landing", _external=True), "self", "application/json"),
                _link(
                    url_for("ember_openapi.openapi", _external=True),
                    "service-desc",
                    "application/vnd.oai.openapi+json;version=3.0",
                ),
                _link(url_for(".conformance", _external=True), "conformance", "application/json"),
                _link(url_for(".collections", _external=True), "data", "application/json"),
            ],
        }
    )


@bp.get("/conformance")
def conformance() -> Response:
    return json_response({"conformsTo": CONFORMANCE})


def _extent() -> list[float]:
    villages = state().layer("villages")
    return [round(float(v), 6) for v in villages.total_bounds]


def _collection(cid: str) -> dict[str, Any]:
    zh, en = INCIDENTS if cid == "incidents" else LAYERS[cid]
    frame = None if cid == "incidents" else state().layer(cid)
    bounds = _extent() if frame is None else [round(float(v), 6) for v in frame.total_bounds]
    items = url_for(".items", cid=cid, _external=True)
    return {
        "id": cid,
        "title": f"{zh} / {en}",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {
            "spatial": {"bbox": [bounds], "crs": CRS84},
            **({"temporal": {"interval": [[None, None]]}} if cid == "incidents" else {}),
        },
        "links": [
            _link(url_for(".collection", cid=cid, _external=True), "self", "application/json"),
            _link(items, "items", GEOJSON, f"{en} items"),
        ],
    }


def _known(cid: str) -> None:
    if cid != "incidents" and cid not in LAYERS:
        raise IncidentNotFound(cid)


@bp.errorhandler(IncidentNotFound)
def _missing(exc: IncidentNotFound) -> Response:
    return error(404, "NotFound", f"不存在或无权查看 / not found: {exc.incident_id}")


@bp.get("/collections")
def collections() -> Response:
    ids = [*LAYERS, "incidents"]
    return json_response(
        {
            "links": [_link(url_for(".collections", _external=True), "self", "application/json")],
            "collections": [_collection(cid) for cid in ids],
        }
    )


@bp.get("/collections/<cid>")
def collection(cid: str) -> Response:
    _known(cid)
    return json_response(_collection(cid))


def _int(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,12}", text):
        raise BadRequest(f"{name} 须为整数 / {name} must be an integer: {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise BadRequest(f"{name} 须在 {low}–{high} 之间 / {name} must be in {low}..{high}")
    return value


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (or the 6-number 3D form) in CRS84."""
    if text is None:
        return None
    try:
        v = [float(p) for p in text.split(",")]
    except ValueError:
        raise BadRequest(f"bbox 须为数字 / bbox must be numbers: {text!r}") from None
    if len(v) == 6:
        v = [v[0], v[1], v[3], v[4]]
    if len(v) != 4 or not all(pd.notna(x) and abs(x) < 1e9 for x in v):
        raise BadRequest(f"bbox 须为 4 个数 / bbox takes 4 numbers: {text!r}")
    if not (v[0] <= v[2] and v[1] <= v[3]):
        raise BadRequest(f"bbox 须为 西,南,东,北 / bbox must be west,south,east,north: {text!r}")
    return (v[0], v[1], v[2], v[3])


def _time(text: str) -> datetime | None:
    if text in ("", ".."):
        return None
    at = instant(text)
    if at is None:
        raise BadRequest(
            f"datetime 须为 {YEARS[0]}–{YEARS[-1]} 年的 RFC 3339 时间 / datetime must be an "
            f"RFC 3339 date or date-time in {YEARS[0]}–{YEARS[-1]}: {text!r}"
        )
    return at


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None]:
    """An instant or an interval (``a/b``, ``../b``, ``a/..``) as a half-open ``[from, to)``."""
    if text is None:
        return None, None
    step = timedelta(milliseconds=1)  # the store keeps milliseconds
    if "/" not in text:
        at = _time(text)
        if at is None:
            raise BadRequest(f"datetime 无法识别 / datetime is not RFC 3339: {text!r}")
        return at, at + step
    first, _, last = text.partition("/")
    start, end = _time(first), _time(last)
    if start is not None and end is not None and start > end:
        raise BadRequest(f"datetime 区间颠倒 / datetime interval ends before it starts: {text!r}")
    return start, (end + step if end is not None else None)


def parse_properties(
    text: str | None, known: Sequence[str], id_column: str
) -> tuple[str, ...] | None:
    """The ``properties`` asked for (``None``: every one; empty: none but the id, which always
    comes and may be named).

    Raises
    ------
    BadRequest
        A name that is not a property of the collection.
    """
    if text is None:
        return None
    asked = (n.strip() for n in text.split(","))
    names = tuple(dict.fromkeys(n for n in asked if n and n != id_column))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadRequest(
            f"没有这些属性 / no such properties: {', '.join(unknown)} "
            f"(可选 / one of: {', '.join(known)})"
        )
    return names


def _incidents(
    bbox: tuple[float, float, float, float] | None,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
    properties: tuple[str, ...] | None,
    cursor: Cursor | None,
) -> tuple[gpd.GeoDataFrame, int, bool]:
    """One page of the incidents the caller may see (in ``received_at``, ``id`` order), how
    many match, and whether there are more beyond the page in its direction. The store reads
    the page, not every match, and from a cursor it does not read the rows before it either (a
    harvester paging through 10^5 incidents asks for 10^3 pages)."""
    scope = caller(state().store).scope
    columns = () if properties is None else tuple(dict.fromkeys((*properties, "received_at")))
    query = IncidentQuery(
        bbox=bbox, received_from=start, received_to=end, offset=offset, limit=limit + 1,
        columns=columns, newest_first=cursor is not None and not cursor.forward,
        after=None if cursor is None else (cursor.at, cursor.id),
    )  # fmt: skip
    page = query_public(query, scope)
    more = len(page) > limit
    page = page.iloc[:limit]
    if query.newest_first:
        page = page.iloc[::-1]
    return page, state().store.count_incidents(query, scope), more


def _page_link(cid: str, rel: str, limit: int, **at: str) -> dict[str, str]:
    """A link to the page at ``offset`` or ``cursor`` (``at``), keeping the other parameters."""
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit", "cursor")}
    args.update(at, limit=str(limit))
    href = url_for(".items", cid=cid, _external=True) + "?" + urlencode(args)
    return _link(href, rel, GEOJSON)


def _incident_links(
    page: gpd.GeoDataFrame, offset: int, limit: int, cursor: Cursor | None, more: bool
) -> list[dict[str, str]]:
    """``next``/``prev`` of an incidents page, by key from the page's last/first incident."""
    if page.empty:
        return []
    if cursor is None or cursor.forward:
        after, before = more, cursor is not None or offset > 0
    else:  # read backwards: ``more`` lies before the page, the page came from after it
        after, before = True, more
    links = []
    if after:
        links.append(_page_link("incidents", "next", limit, cursor=_key(True, page.iloc[-1])))
    if before:
        links.append(_page_link("incidents", "prev", limit, cursor=_key(False, page.iloc[0])))
    return links


def _key(forward: bool, row: pd.Series) -> str:
    return Cursor(forward, row["received_at"].to_pydatetime(), str(row["id"])).token()


def _cursor(token: str) -> Cursor:
    try:
        return Cursor.parse(token)
    except BadCursor as exc:
        raise BadRequest(str(exc)) from None


def _keep_cursor(token: str | None) -> dict[str, str]:
    return {} if token is None else {"cursor": token}


#: The query parameters of ``/items``: any other is refused (/req/core/query-param-unknown).
ITEMS_PARAMS = frozenset(
    ("bbox", "bbox-crs", "datetime", "limit", "offset", "cursor", "properties", "f", "api_key")
)


def _check_params() -> None:
    unknown = sorted(set(request.args) - ITEMS_PARAMS)
    if unknown:
        raise BadRequest(
            f"未知参数 / unknown query parameter: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(ITEMS_PARAMS))})"
        )
    if request.args.get("f", "json") not in ("json", "geojson"):
        raise BadRequest("f 只支持 json / f must be json (GeoJSON)")


@bp.get("/collections/<cid>/items")
def items(cid: str) -> Response:
    _known(cid)
    _check_params()
    # a limit above the maximum is the maximum, not an error (/req/core/fc-limit-response-1)
    limit = min(_int("limit", DEFAULT_LIMIT, 1, 10**12), MAX_LIMIT)
    offset = _int("offset", 0, 0, 10**9)
    bbox = parse_bbox(request.args.get("bbox"))
    crs = request.args.get("bbox-crs")
    if crs is not None and crs != CRS84:
        raise BadRequest(f"只支持 CRS84 / only bbox-crs {CRS84} is supported")
    start, end = parse_datetime(request.args.get("datetime"))
    wanted = request.args.get("properties")
    if cid == "incidents":
        props = parse_properties(wanted, PUBLIC_INCIDENT_COLUMNS, "id")
        token = request.args.get("cursor")
        cursor = None if token is None else _cursor(token)
        page, matched, more = _incidents(bbox, start, end, offset, limit, props, cursor)
        links = [_page_link(cid, "self", limit, offset=str(offset), **_keep_cursor(token))]
        links += _incident_links(page, offset, limit, cursor, more)
        if props is not None and "received_at" not in props:
            page = page.drop(columns="received_at")  # read for the links only
        id_column = "id"
    else:
        frame = state().layer(cid)
        id_column = "code"
        known = [c for c in frame.columns if c not in (frame.geometry.name, id_column)]
        props = parse_properties(wanted, known, id_column)
        if props is not None:
            frame = frame[[id_column, *props, frame.geometry.name]]
        if bbox is not None:
            frame = frame[frame.intersects(box(*bbox))]
        matched = len(frame)
        page = frame.iloc[offset : offset + limit]
        links = [_page_link(cid, "self", limit, offset=str(offset))]
        if offset + limit < matched:
            links.append(_page_link(cid, "next", limit, offset=str(offset + limit)))
        if offset > 0:
            links.append(_page_link(cid, "prev", limit, offset=str(max(0, offset - limit))))
    doc = {
        "type": "FeatureCollection",
        "features": list(features(page, id_column)),
        "numberMatched": matched,
        "numberReturned": len(page),
        "timeStamp": iso(pd.Timestamp.now(tz="UTC")),
        "links": links,
    }
    response = json_response(doc, mimetype=GEOJSON)
    response.headers["Content-Crs"] = f"<{CRS84}>"
    return response


@bp.get("/collections/<cid>/items/<fid>")
def item(cid: str, fid: str) -> Response:
    _known(cid)
    if cid == "incidents":
        frame, id_column = incident_by_id(fid, caller(state().store).scope), "id"
    else:
        layer = state().layer(cid)
        frame, id_column = layer[layer["code"].astype(str) == fid], "code"
    if frame.empty:
        raise IncidentNotFound(fid)
    feature = next(features(frame.iloc[:1], id_column))
    feature["links"] = [
        _link(url_for(".item", cid=cid, fid=fid, _external=True), "self", GEOJSON),
        _link(url_for(".collection", cid=cid, _external=True), "collection", "application/json"),
    ]
    response = json_response(feature, mimetype=GEOJSON)
    response.headers["Content-Crs"] = f"<{CRS84}>"
    return response


@bp.get("/<path:rest>")
def unknown(rest: str) -> Response:
    """Anything else under the prefix: an OGC error, not the Dash page."""
    return error(404, "NotFound", f"没有此资源 / no such resource: {rest!r}")
