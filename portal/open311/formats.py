"""Open311 GeoReport v2 answers as JSON or XML, chosen by the URL's suffix.

The same Python structures (dicts and lists of plain values) are rendered in
both formats; XML is built with ElementTree so every value is escaped, with
the element names of the GeoReport v2 specification (a list's items take the
singular name: `<service_requests><request>…`)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
API_PATH_PREFIX = "/open311/"

#: The element name of one item of each list, as the specification writes it.
ITEM_NAMES = {
    "service_requests": "request",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

#: Characters XML 1.0 cannot carry at all (ElementTree would write them as is).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIX)


def requested_format(path: str | None = None) -> str:
    """`xml` when the path ends in .xml, else `json` (also for unknown paths)."""
    path = request.path if path is None else path
    return "xml" if path.lower().endswith(".xml") else "json"


def w3c_datetime(value: datetime | None) -> str | None:
    """A UTC time as YYYY-MM-DDTHH:MM:SSZ."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _add(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    _fill(element, name, value)


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _add(element, key, item)
    elif isinstance(value, list | tuple):
        item_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _add(element, item_name, item)
    else:
        element.text = _text(value)


def to_xml(root_name: str, value: Any) -> bytes:
    """The document `<root_name>…</root_name>` with an XML declaration."""
    root = ET.Element(root_name)
    _fill(root, root_name, value)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def respond(root_name: str, value: Any, fmt: str, status: int = 200) -> Response:
    """`value` in the format; `root_name` names the XML document element (a
    JSON list or object carries no name)."""
    if fmt == "xml":
        response = Response(to_xml(root_name, value), status=status, content_type=XML_TYPE)
    else:
        response = Response(to_json(value), status=status, content_type=JSON_TYPE)
    response.vary.add("Accept-Language")
    return response


def error_response(
    status: int, descriptions: list[str], fmt: str | None = None, headers=None
) -> Response:
    """The specification's error list: `[{"code": 404, "description": "…"}]`."""
    errors = [{"code": status, "description": text} for text in descriptions]
    response = respond("errors", errors, fmt or requested_format(), status)
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers or ():
        if name.lower() in ("allow", "retry-after"):
            response.headers[name] = value
    return response
