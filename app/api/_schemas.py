"""Component schemas of the OpenAPI document (:mod:`app.api.openapi`)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {"href": _STR, "rel": _STR, "type": _STR, "title": _STR},
}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"type": "object", "nullable": True},
        "properties": {"type": "object", "nullable": True},
        "links": _LINKS,
    },
}
_COLLECTION = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": _STR,
        "title": _STR,
        "itemType": _STR,
        "crs": {"type": "array", "items": _STR},
        "extent": {"type": "object"},
        "links": _LINKS,
    },
}
_OGC_ERROR = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": _STR, "description": _STR},
}
_SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": _STR,
        "service_name": _STR,
        "description": _STR,
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _STR,
        "group": _STR,
    },
}
_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": _STR,
        "attributes": {"type": "array", "items": {"type": "object"}},
    },
}
_REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status"],
    "properties": {
        "service_request_id": _STR,
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _NSTR,
        "service_name": _NSTR,
        "service_code": _NSTR,
        "description": _NSTR,
        "agency_responsible": _NSTR,
        "service_notice": _NSTR,
        "requested_datetime": _NSTR,
        "updated_datetime": _NSTR,
        "expected_datetime": _NSTR,
        "address": _NSTR,
        "address_id": _NSTR,
        "zipcode": _NSTR,
        "lat": {"type": "number", "nullable": True},
        "long": {"type": "number", "nullable": True},
        "media_url": _NSTR,
    },
}
_CREATED = {
    "type": "object",
    "properties": {
        "service_request_id": _STR,
        "token": _STR,
        "service_notice": _NSTR,
        "account_id": _NSTR,
    },
}
_TOKEN = {
    "type": "object",
    "required": ["service_request_id", "token"],
    "properties": {"service_request_id": _STR, "token": _STR},
}
_O311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _STR},
    },
}


def schemas() -> dict[str, Any]:
    """``components.schemas``: OGC API – Features and Open311 GeoReport v2 responses."""
    return {
        "Link": _LINK,
        "Landing": {
            "type": "object",
            "required": ["links"],
            "properties": {"title": _STR, "description": _STR, "links": _LINKS},
        },
        "Conformance": {
            "type": "object",
            "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": _STR}},
        },
        "Collection": _COLLECTION,
        "Collections": {
            "type": "object",
            "required": ["collections", "links"],
            "properties": {
                "links": _LINKS,
                "collections": {"type": "array", "items": _ref("Collection")},
            },
        },
        "Feature": _FEATURE,
        "FeatureCollection": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": _ref("Feature")},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
                "timeStamp": _STR,
                "links": _LINKS,
            },
        },
        "OgcError": _OGC_ERROR,
        "Service": _SERVICE,
        "ServiceDefinition": _DEFINITION,
        "ServiceRequest": _REQUEST,
        "Created": _CREATED,
        "Token": _TOKEN,
        "Open311Errors": _O311_ERRORS,
    }
