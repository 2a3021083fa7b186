"""The OpenAPI 3.0 description of the Open311 GeoReport v2 API.

Built by a function rather than kept as a file so the server address follows
PUBLIC_BASE_URL and the jurisdiction follows OPEN311_JURISDICTION. Each format
is its own path (`requests.json`, `requests.xml`): OpenAPI cannot tie a
response media type to a path parameter, and clients generate one method per
operation anyway. XML bodies are described as text: their elements carry the
same names as the JSON fields (see the GeoReport v2 specification)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from portal.needs import rules

API_PREFIX = "/open311/v2"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}
DESCRIPTION_MAX = rules.DESCRIPTION.max  # the web form's limit, checked by parse_request
PAGE_SIZE_MAX = 1000
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

Schema = dict[str, Any]


def api_base_url() -> str:
    """The absolute address of the API, e.g. https://huiju.example/open311/v2."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + API_PREFIX


def _nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
DATETIME = {"type": "string", "format": "date-time", "example": "2026-03-01T08:30:00Z"}
#: The position a request was submitted with is not public (portal.needs.location).
ROUNDED = (
    "Rounded to three decimals (about 100 m): the exact position is kept for the "
    "administrators and the partner handling the request."
)

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {
            "code": {"type": "integer", "description": "The HTTP status code.", "example": 404},
            "description": {"type": "string", "example": "Unknown service_code."},
        },
    },
    "Errors": {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/components/schemas/Error"},
    },
    "Discovery": {
        "type": "object",
        "required": ["changeset", "contact", "key_service", "endpoints"],
        "properties": {
            "changeset": DATETIME,
            "contact": STRING,
            "key_service": STRING,
            "endpoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["specification", "url", "type", "formats"],
                    "properties": {
                        "specification": {"type": "string", "example": SPECIFICATION},
                        "url": {"type": "string", "format": "uri"},
                        "changeset": DATETIME,
                        "type": {"type": "string", "enum": ["production", "test"]},
                        "formats": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["application/json", "text/xml"]},
                        },
                    },
                },
            },
        },
    },
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string", "example": "roads"},
            "service_name": STRING,
            "description": STRING,
            "metadata": {
                "type": "boolean",
                "description": "True when the service asks extra questions (attributes).",
            },
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": STRING,
            "group": STRING,
        },
    },
    "Services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}},
    "AttributeValue": {
        "type": "object",
        "required": ["key", "name"],
        "properties": {"key": STRING, "name": STRING},
    },
    "Attribute": {
        "type": "object",
        "required": ["variable", "code", "datatype", "required", "order", "description"],
        "properties": {
            "variable": {"type": "boolean"},
            "code": STRING,
            "datatype": {
                "type": "string",
                "enum": [
                    "string",
                    "number",
                    "datetime",
                    "text",
                    "singlevaluelist",
                    "multivaluelist",
                ],
            },
            "required": {"type": "boolean"},
            "datatype_description": _nullable(STRING),
            "order": {"type": "integer"},
            "description": STRING,
            "values": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/AttributeValue"},
            },
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {
            "service_code": STRING,
            "attributes": {"type": "array", "items": {"$ref": "#/components/schemas/Attribute"}},
        },
    },
    "ServiceRequest": {
        "type": "object",
        "description": "A published need. Never carries the submitter's contact data.",
        "required": ["service_request_id", "status", "service_code", "requested_datetime"],
        "properties": {
            "service_request_id": {"type": "string", "example": "N-2026-001042"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": _nullable(STRING),
            "service_name": _nullable(STRING),
            "service_code": STRING,
            "description": _nullable(STRING),
            "agency_responsible": _nullable(STRING),
            "service_notice": _nullable(STRING),
            "requested_datetime": DATETIME,
            "updated_datetime": _nullable(DATETIME),
            "expected_datetime": _nullable(DATETIME),
            "address": _nullable(STRING),
            "address_id": _nullable(STRING),
            "zipcode": _nullable(STRING),
            "lat": _nullable(
                {
                    "type": "number",
                    "format": "double",
                    "description": ROUNDED,
                    "example": 31.23,
                }
            ),
            "long": _nullable(
                {
                    "type": "number",
                    "format": "double",
                    "description": ROUNDED,
                    "example": 121.474,
                }
            ),
            "media_url": _nullable(
                {
                    "type": "string",
                    "description": "The absolute address of the request's first public photo "
                    "(a JPEG served by this portal), or empty when it has none. Photos an "
                    "administrator hid are never given.",
                    "example": "https://huiju.example/photos/0123456789abcdef0123456789abcdef"
                    "/display.jpg",
                }
            ),
        },
    },
    "ServiceRequests": {"type": "array", "items": {"$ref": "#/components/schemas/ServiceRequest"}},
    "CreatedRequest": {
        "type": "object",
        "description": "service_request_id once published, or a token while it waits for "
        "moderation (then follow tokens/{token}).",
        "properties": {
            "service_request_id": _nullable(STRING),
            "token": _nullable(STRING),
            "service_notice": _nullable(STRING),
            "account_id": _nullable(STRING),
        },
    },
    "CreatedRequests": {
        "type": "array",
        "items": {"$ref": "#/components/schemas/CreatedRequest"},
    },
    "RequestToken": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "service_request_id": _nullable(STRING),
            "token": STRING,
        },
    },
    "RequestTokens": {"type": "array", "items": {"$ref": "#/components/schemas/RequestToken"}},
    "NewRequest": {
        "type": "object",
        "description": "A location is required: lat and long, or address_string, or "
        "address_id. Answers to the service's attributes are sent as attribute[CODE] "
        "(and attribute[CODE][] repeated for a multivaluelist).",
        "required": ["service_code"],
        "anyOf": [
            {"required": ["lat", "long"]},
            {"required": ["address_string"]},
            {"required": ["address_id"]},
        ],
        "properties": {
            "api_key": {
                "type": "string",
                "description": "The key may be sent here instead of in the query string.",
            },
            "jurisdiction_id": STRING,
            "service_code": {"type": "string", "minLength": 1},
            "lat": {"type": "number", "format": "double", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "format": "double", "minimum": -180, "maximum": 180},
            "address_string": STRING,
            "address_id": STRING,
            "email": {"type": "string", "format": "email"},
            "device_id": STRING,
            "account_id": STRING,
            "first_name": STRING,
            "last_name": STRING,
            "phone": {
                "type": "string",
                "maxLength": rules.PHONE.max,
                "pattern": rules.PHONE_CHARACTERS.pattern,
                "description": "Digits, spaces and + - ( ) only, as on the web form.",
            },
            "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
            "media_url": {
                "type": "string",
                "format": "uri",
                "description": "A link to a photo elsewhere. It is kept privately with the "
                "contact data and never returned: a request's media_url is its first public "
                "photo on this portal.",
            },
            "consent": {
                "type": "boolean",
                "description": "An extension: true when the person agreed, in your "
                "application, to this portal's privacy notice (/privacy). The portal then "
                "records the consent with the notice's version; without it no consent is "
                "recorded. Any other value than true or false answers 400.",
            },
            "idempotency_key": {
                "type": "string",
                "maxLength": 64,
                "description": "An extension: a retry with the same value answers the "
                "first request's token instead of creating a second request.",
            },
        },
        "additionalProperties": {
            "type": "string",
            "description": "attribute[CODE] or attribute[CODE][]: an answer to a question "
            "of the service (see services/{service_code}).",
        },
    },
}


def _error_responses(codes: tuple[int, ...], fmt: str) -> dict[str, Any]:
    reasons = {
        400: "The request is not valid (a filter, a field, a date range over 90 days).",
        403: "api_key is missing, unknown or revoked.",
        404: "Unknown jurisdiction_id, service, request or token.",
        429: "Too many requests for this api_key or address; wait and retry.",
    }
    return {str(code): _response(reasons[code], "Errors", fmt) for code in codes}


def _response(description: str, schema_name: str, fmt: str) -> dict[str, Any]:
    if fmt == "json":
        schema: Schema = {"$ref": f"#/components/schemas/{schema_name}"}
    else:
        schema = {"type": "string", "description": f"{schema_name} as GeoReport v2 XML."}
    return {"description": description, "content": {MEDIA_TYPES[fmt]: {"schema": schema}}}


def _query(name: str, description: str, schema: Schema | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or STRING,
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "pattern": r"^[^/]+$"},
    }


def _jurisdiction(jurisdiction: str) -> dict[str, Any]:
    return _query(
        "jurisdiction_id",
        "Optional: this portal serves one jurisdiction. Empty is the same as absent; "
        "any other value answers 404.",
        {"type": "string", "enum": [jurisdiction, ""]},
    )


LOCALE = _query(
    "locale",
    "Language of names and descriptions: zh_CN or en (else the Accept-Language header).",
    {"type": "string", "enum": ["zh_CN", "en"]},
)

REQUEST_FILTERS = [
    _query(
        "service_request_id",
        "Comma-separated ids (at most 1000); when given, the other filters are ignored.",
        {"type": "string", "example": "N-2026-001042,N-2026-001043"},
    ),
    _query(
        "service_code",
        "Comma-separated service codes.",
        {"type": "string", "example": "roads,lighting"},
    ),
    _query(
        "start_date",
        "Requested at or after this W3C date-time (with an offset). "
        "With end_date, at most 90 days apart.",
        DATETIME,
    ),
    _query("end_date", "Requested at or before this W3C date-time (with an offset).", DATETIME),
    _query(
        "status",
        "open, closed or both (comma-separated).",
        {"type": "string", "pattern": r"^(open|closed)(,(open|closed))*$"},
    ),
    _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "default": 1}),
    _query(
        "page_size",
        f"Results per page, at most {PAGE_SIZE_MAX} (the default).",
        {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX},
    ),
]


def _operations(fmt: str, jurisdiction: str) -> dict[str, dict[str, Any]]:
    suffix = fmt.capitalize()
    common = [_jurisdiction(jurisdiction)]
    tags = ["GeoReport v2"]
    return {
        f"/discovery.{fmt}": {
            "get": {
                "operationId": f"getDiscovery{suffix}",
                "summary": "Where the API lives and what it supports",
                "tags": tags,
                "parameters": common,
                "responses": {
                    "200": _response("The discovery document.", "Discovery", fmt),
                    **_error_responses((400, 404, 429), fmt),
                },
            }
        },
        f"/services.{fmt}": {
            "get": {
                "operationId": f"getServiceList{suffix}",
                "summary": "The services: one per active category",
                "tags": tags,
                "parameters": [*common, LOCALE],
                "responses": {
                    "200": _response("The services.", "Services", fmt),
                    **_error_responses((400, 404, 429), fmt),
                },
            }
        },
        f"/services/{{service_code}}.{fmt}": {
            "get": {
                "operationId": f"getServiceDefinition{suffix}",
                "summary": "A service's extra questions (attributes)",
                "tags": tags,
                "parameters": [_path("service_code", "A service_code."), *common, LOCALE],
                "responses": {
                    "200": _response("The service definition.", "ServiceDefinition", fmt),
                    **_error_responses((400, 404, 429), fmt),
                },
            }
        },
        f"/requests.{fmt}": {
            "get": {
                "operationId": f"getServiceRequests{suffix}",
                "summary": "Published requests, newest first (at most 1000)",
                "tags": tags,
                "parameters": [*REQUEST_FILTERS, *common, LOCALE],
                "responses": {
                    "200": _response("The requests.", "ServiceRequests", fmt),
                    **_error_responses((400, 404, 429), fmt),
                },
            },
            "post": {
                "operationId": f"postServiceRequest{suffix}",
                "summary": "Submit a request; it becomes a need (channel API)",
                "tags": tags,
                "security": [{"api_key": []}],
                "parameters": common,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/NewRequest"}
                        },
                        "multipart/form-data": {
                            "schema": {"$ref": "#/components/schemas/NewRequest"}
                        },
                    },
                },
                "responses": {
                    "200": _response(
                        "Accepted: the id, or a token while it waits for moderation.",
                        "CreatedRequests",
                        fmt,
                    ),
                    **_error_responses((400, 403, 404, 429), fmt),
                },
            },
        },
        f"/requests/{{service_request_id}}.{fmt}": {
            "get": {
                "operationId": f"getServiceRequest{suffix}",
                "summary": "One published request (a one-element list)",
                "tags": tags,
                "parameters": [
                    _path("service_request_id", "A service_request_id, e.g. N-2026-001042."),
                    *common,
                    LOCALE,
                ],
                "responses": {
                    "200": _response("The request.", "ServiceRequests", fmt),
                    **_error_responses((400, 404, 429), fmt),
                },
            }
        },
        f"/tokens/{{token}}.{fmt}": {
            "get": {
                "operationId": f"getRequestIdFromToken{suffix}",
                "summary": "The service_request_id of a request given a token",
                "tags": tags,
                "parameters": [_path("token", "The token a POST returned."), *common],
                "responses": {
                    "200": _response(
                        "The token and, once published, the service_request_id.",
                        "RequestTokens",
                        fmt,
                    ),
                    **_error_responses((400, 404, 429), fmt),
                },
            }
        },
    }


def build_openapi() -> dict[str, Any]:
    """The whole OpenAPI document, as a JSON-ready dict."""
    jurisdiction = current_app.config.get("OPEN311_JURISDICTION", "huiju.example")
    paths: dict[str, Any] = {}
    for fmt in FORMATS:
        paths.update(_operations(fmt, jurisdiction))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Huiju Open311 GeoReport v2",
            "version": "2.0",
            "description": (
                "The Open311 GeoReport v2 API of the Huiju portal: list the services "
                "(categories), read published requests (needs) and submit new ones. "
                "Each endpoint answers JSON or XML according to its suffix. Reading needs "
                "no key; submitting needs an api_key issued by an administrator. "
                "No personal data of submitters is ever returned. "
                f"Jurisdiction: {jurisdiction}."
            ),
        },
        "externalDocs": {"description": "GeoReport v2", "url": SPECIFICATION},
        "servers": [{"url": api_base_url()}],
        "tags": [{"name": "GeoReport v2"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "api_key": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "api_key",
                    "description": "May also be sent as a form field api_key in the body.",
                }
            },
        },
    }
