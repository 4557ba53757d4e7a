"""What a user typed into pattern-matched form fields, put back after a list is re-rendered.

A Dash list of cards re-rendered by a callback loses what was typed into it (the fields are
new components). The callback passes the ``State`` lists of the fields (``ctx.states_list``);
:func:`keep_input` copies each value onto the field with the same id in the new list, and opens
the ``Details`` (a collapsed form) that holds one.
"""

from __future__ import annotations

import json
from typing import Any

from dash import html


def _key(component_id: Any) -> str:
    return json.dumps(component_id, sort_keys=True)


def keep_input(
    items: list[Any], states: list[list[dict[str, Any]]], skip: str | None = None
) -> list[Any]:
    """``items`` (a re-rendered list) with the values of ``states`` put back on the fields of
    the same id, but those of the incident ``skip`` (whose action was just recorded: its form
    starts afresh); a collapsed form with a value put back is opened."""
    entered = {
        _key(s["id"]): s.get("value")
        for group in states
        for s in group
        if s["id"].get("id") != skip and s.get("value") not in (None, "", [])
    }
    if not entered:
        return items
    for item in items:
        _restore(item, entered)
    return items


def _restore(node: Any, entered: dict[str, Any]) -> bool:
    """Put values back under ``node``; whether one was."""
    found = False
    key = getattr(node, "id", None)
    if isinstance(key, dict) and _key(key) in entered:
        node.value = entered[_key(key)]
        found = True
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found = _restore(child, entered) or found
    if found and isinstance(node, html.Details):
        node.open = True  # type: ignore[attr-defined]  # a prop Dash sets at run time
    return found


__all__ = ["keep_input"]
