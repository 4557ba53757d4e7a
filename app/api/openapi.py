"""The OpenAPI 3.0 document of both APIs (OGC API – Features and Open311), at
``/openapi.json``; the OGC landing page links it as ``service-desc``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from app.api._common import LAYERS, json_response
from app.api._schemas import _STR, _ref, schemas

bp = Blueprint("ember_openapi", __name__)
OAS = "application/vnd.oai.openapi+json;version=3.0"
ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"


def _json(schema: dict[str, Any], description: str, media: str = "application/json") -> Any:
    return {"description": description, "content": {media: {"schema": schema}}}


def _path(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_OGC_ERR = {
    "400": _json(_ref("OgcError"), "bad parameter"),
    "403": _json(_ref("OgcError"), "unknown or disabled api_key"),
    "404": _json(_ref("OgcError"), "no such collection or feature (or not in your scope)"),
}
_COLLECTION_ID = _path("collectionId", "collection", enum=[*LAYERS, "incidents"])
_FORMAT = _path("format", "response format", enum=["json", "xml"])


def _open311(schema: dict[str, Any], description: str, *codes: str) -> dict[str, Any]:
    out = {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": schema}, "text/xml": {"schema": _STR}},
        }
    }
    for code in sorted({*codes, "404"}):  # an unknown format is a 404 everywhere
        out[code] = {
            "description": {"400": "bad request", "403": "api_key", "404": "not found"}[code],
            "content": {
                "application/json": {"schema": _ref("Open311Errors")},
                "text/xml": {"schema": _STR},
            },
        }
    return out


def _ogc_paths() -> dict[str, Any]:
    geojson = "application/geo+json"
    items_params = [
        _COLLECTION_ID,
        _query(
            "bbox",
            "west,south,east,north (CRS84)",
            type="array",
            items={"type": "number"},
            minItems=4,
            maxItems=6,
        ),
        _query(
            "bbox-crs",
            "the CRS of bbox (only CRS84)",
            default="http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        ),
        {**_query("datetime", "instant or interval (incidents: received_at)"), "style": "form"},
        # no maximum: a larger limit is served as 10,000 (/req/core/fc-limit-response-1)
        _query(
            "limit", "page size (at most 10,000 served)", type="integer", minimum=1, default=100
        ),
        _query("offset", "items to skip", type="integer", minimum=0, default=0),
        _query("cursor", "where a page continues (incidents; written by next/prev links)"),
        _query("f", "output format (json: GeoJSON)", enum=["json", "geojson"]),
        {
            **_query(
                "properties",
                "the properties wanted, comma-separated (the id and geometry always come)",
                type="array",
                items={"type": "string"},
            ),
            "style": "form",
            "explode": False,
        },
    ]
    items_params[1].update(style="form", explode=False)
    return {
        "/ogc/": {
            "get": {
                "operationId": "ogcLanding",
                "tags": ["OGC API – Features"],
                "responses": {"200": _json(_ref("Landing"), "landing page")},
            }
        },
        "/ogc/conformance": {
            "get": {
                "operationId": "ogcConformance",
                "tags": ["OGC API – Features"],
                "responses": {"200": _json(_ref("Conformance"), "conformance")},
            }
        },
        "/ogc/collections": {
            "get": {
                "operationId": "ogcCollections",
                "tags": ["OGC API – Features"],
                "responses": {"200": _json(_ref("Collections"), "collections")},
            }
        },
        "/ogc/collections/{collectionId}": {
            "get": {
                "operationId": "ogcCollection",
                "tags": ["OGC API – Features"],
                "parameters": [_COLLECTION_ID],
                "responses": {
                    "200": _json(_ref("Collection"), "collection"),
                    "404": _OGC_ERR["404"],
                },
            }
        },
        "/ogc/collections/{collectionId}/items": {
            "get": {
                "operationId": "ogcItems",
                "tags": ["OGC API – Features"],
                "parameters": items_params,
                "responses": {
                    "200": _json(_ref("FeatureCollection"), "features", geojson),
                    **_OGC_ERR,
                },
            }
        },
        "/ogc/collections/{collectionId}/items/{featureId}": {
            "get": {
                "operationId": "ogcItem",
                "tags": ["OGC API – Features"],
                "parameters": [
                    _COLLECTION_ID,
                    _path("featureId", "feature id", pattern=ID_PATTERN),
                ],
                "responses": {"200": _json(_ref("Feature"), "feature", geojson), **_OGC_ERR},
            }
        },
    }


def _open311_paths() -> dict[str, Any]:
    tag = ["Open311 GeoReport v2"]
    arr = {"type": "array", "items": _ref("ServiceRequest")}
    post_fields = {
        "type": "object",
        "required": ["api_key", "service_code"],
        "properties": {
            k: _STR
            for k in (
                "api_key",
                "service_code",
                "lat",
                "long",
                "address_string",
                "address_id",
                "email",
                "device_id",
                "account_id",
                "first_name",
                "last_name",
                "phone",
                "description",
                "media_url",
                "attribute[subcategory]",
            )
        },
    }
    return {
        "/open311/v2/services.{format}": {
            "get": {
                "operationId": "open311Services",
                "tags": tag,
                "parameters": [_FORMAT],
                "responses": _open311({"type": "array", "items": _ref("Service")}, "services"),
            }
        },
        "/open311/v2/services/{service_code}.{format}": {
            "get": {
                "operationId": "open311ServiceDefinition",
                "tags": tag,
                "parameters": [_path("service_code", "service code", pattern=ID_PATTERN), _FORMAT],
                "responses": _open311(_ref("ServiceDefinition"), "service definition", "404"),
            }
        },
        "/open311/v2/requests.{format}": {
            "get": {
                "operationId": "open311Requests",
                "tags": tag,
                "parameters": [
                    _FORMAT,
                    _query("service_request_id", "ids, comma-separated (overrides the rest)"),
                    _query("service_code", "service codes, comma-separated"),
                    _query("start_date", "W3C datetime"),
                    _query("end_date", "W3C datetime (at most 90 days after start_date)"),
                    _query(
                        "status",
                        "open, closed or both",
                        type="string",
                        pattern="^(open|closed)(,(open|closed))?$",
                    ),
                    _query("page", "page (extension)", type="integer", minimum=1),
                    _query(
                        "page_size",
                        "rows per page (extension)",
                        type="integer",
                        minimum=1,
                        maximum=1000,
                    ),
                ],
                "responses": _open311(arr, "service requests", "400", "403", "404"),
            },
            "post": {
                "operationId": "open311Create",
                "tags": tag,
                "parameters": [_FORMAT],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": post_fields},
                        "application/json": {"schema": post_fields},
                    },
                },
                "responses": {
                    "201": _open311({"type": "array", "items": _ref("Created")}, "created")["200"],
                    "202": _open311({"type": "array", "items": _ref("Created")}, "held")["200"],
                    **{
                        k: v
                        for k, v in _open311(arr, "", "400", "403", "404").items()
                        if k != "200"
                    },
                },
            },
        },
        "/open311/v2/requests/{service_request_id}.{format}": {
            "get": {
                "operationId": "open311Request",
                "tags": tag,
                "parameters": [_path("service_request_id", "id", pattern=ID_PATTERN), _FORMAT],
                "responses": _open311(arr, "the request", "403", "404"),
            }
        },
        "/open311/v2/tokens/{token}.{format}": {
            "get": {
                "operationId": "open311Token",
                "tags": tag,
                "parameters": [_path("token", "token of a POST", pattern=ID_PATTERN), _FORMAT],
                "responses": _open311({"type": "array", "items": _ref("Token")}, "token", "404"),
            }
        },
    }


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Ember APIs: OGC API – Features, Open311 GeoReport v2",
            "version": "1.0.0",
            "description": "非警务事项 GIS 平台的开放接口 / open interfaces of Ember. Incidents "
            "within the caller's scope (API key or session); personal data never included.",
        },
        "servers": [{"url": "/"}],
        "paths": {**_ogc_paths(), **_open311_paths()},
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
                "Session": {"type": "apiKey", "in": "cookie", "name": "ember_session"},
            },
        },
        "security": [{}, {"ApiKeyHeader": []}, {"ApiKeyQuery": []}, {"Session": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(document(), mimetype=OAS)
