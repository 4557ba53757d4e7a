"""Plain XML for Open311 GeoReport v2 responses (the spec's element names, UTF-8)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from app.api._params import xml_safe

#: Child element of a list-valued field.
ITEM_TAGS = {"attributes": "attribute", "values": "value", "errors": "error"}


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            _add(parent, str(key), sub)
    elif value is None:
        return
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    else:  # text read from files may hold characters XML 1.0 forbids (a NUL byte)
        parent.text = xml_safe(str(value))


def _add(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            _fill(ET.SubElement(node, ITEM_TAGS.get(tag, "item")), item)
    else:
        _fill(node, value)


def document(root: str, item: str | None, body: Any) -> bytes:
    """``<root><item>…</item>…</root>`` for a list ``body`` (``item`` per element), or the
    fields of a mapping ``body`` directly under ``root``."""
    top = ET.Element(root)
    if item is not None:
        for entry in body:
            _fill(ET.SubElement(top, item), entry)
    else:
        _fill(top, body)
    text = ET.tostring(top, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode()
