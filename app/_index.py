"""The HTML page Dash serves: its core-js polyfill only for the browsers that need it, and not
the bundle of a component library Ember does not use.

Dash puts ``@babel/polyfill`` (core-js 2 and regenerator-runtime, 99 KB) first on every page.
A current browser has everything core-js adds and still spends ~0.03 s of the main thread (on a
desktop; several times that on a phone) evaluating it before any of the page's scripts run.
Here the polyfill's ``<script>`` becomes a small inline test that writes that same tag only when
the browser lacks one of the features core-js 2 supplies that Chromium gained last (Chromium 69
and older: the kernels of older domestic browsers and command-room PCs get the polyfill as
before). Dash's bundles also call the global ``regeneratorRuntime`` that the polyfill brought;
it is served on its own (``assets/vendor/regenerator-runtime.js``, the npm package unmodified).

Dash also puts the bundle of ``dash_table`` (DataTable) on every page, whether an app uses it or
not (it ships inside the ``dash`` package); Ember has no DataTable (a test keeps it so), and the
bundle is left out: one request and ~0.01 s of evaluation less before the first render.
"""

from __future__ import annotations

import re
from typing import Any

from dash import Dash

__all__ = ["POLYFILL_TAG", "UNUSED_TAG", "register_page_scripts"]

#: Dash's polyfill tag (``dash/deps/polyfill@<version>.min.js``, fingerprinted).
POLYFILL_TAG = re.compile(r'<script src="(?P<src>[^"]*/deps/polyfill@[^"]*)"></script>')

#: The tag of ``dash_table``'s bundle (``dash/dash_table/bundle.v<version>.js``).
UNUSED_TAG = re.compile(r'<script src="[^"]*/dash/dash_table/bundle[^"]*"></script>')

#: True in a browser that has what core-js 2 adds (the last of it reached Chromium in 69).
MODERN_TEST = (
    "typeof Promise==='function'&&Promise.prototype.finally&&Array.prototype.flatMap"
    "&&Object.entries&&Object.getOwnPropertyDescriptors&&String.prototype.padStart"
    "&&String.prototype.trimStart&&typeof Symbol==='function'&&Symbol.asyncIterator"
    "&&window.NodeList&&NodeList.prototype.forEach"
)


def _on_demand(match: re.Match[str]) -> str:
    # document.write while the page is parsed: the tag runs where it stood, before the bundles.
    tag = match.group(0).replace("</script>", "<\\/script>")
    return f"<script>if(!({MODERN_TEST})){{document.write('{tag}');}}</script>"


def register_page_scripts(app: Dash) -> None:
    """Serve ``app``'s pages with Dash's polyfill tag replaced by the on-demand loader and
    without ``dash_table``'s bundle, through Dash's documented ``interpolate_index`` hook (a
    Dash without those tags is left as it is)."""
    base = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        scripts = POLYFILL_TAG.sub(_on_demand, kwargs.get("scripts", ""), count=1)
        kwargs["scripts"] = UNUSED_TAG.sub("", scripts)
        return base(**kwargs)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]
