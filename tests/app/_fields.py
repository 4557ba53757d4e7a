"""In a browser: every text field on a page shows its text whole (not clipped by its box)."""

from __future__ import annotations

from typing import Any

#: Per visible text field: its id or placeholder, the height its content box has for text,
#: and the height a line of its font needs.
_MEASURE = """() => [...document.querySelectorAll('input, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null && e.type !== 'checkbox'
    && e.type !== 'radio' && e.type !== 'range')
  .map(e => {
    const c = getComputedStyle(e);
    const inner = e.clientHeight - parseFloat(c.paddingTop) - parseFloat(c.paddingBottom);
    return [e.id || e.placeholder || e.name, inner, parseFloat(c.fontSize) * 1.15];
  })"""


def clipped_fields(page: Any) -> list[tuple[str, float, float]]:
    """The visible text fields of ``page`` too low for a line of their own font (none: [])."""
    return [(name, inner, line) for name, inner, line in page.evaluate(_MEASURE) if inner < line]
