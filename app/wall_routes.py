"""The wall's layers over HTTP: the town's (``GET /wall/layers/<name>.geojson``) and the
hotspots (``GET /wall/hotspots.geojson?layer=heat|hot&cut=…``); and what the wall page's first
render needs, asked for with the page: the lazily loaded scripts, and the renderer's first
requests as preloads (:func:`register_first_render`).

The town's layers (grid cells, beats, stations, roads…) are fixed while the server runs: each is
gzipped once, in the display's coordinates, and answered with an ETag (a reload gets a 304).

Served like the history layer (``/wall/history.geojson`` in :mod:`app.server`): gzipped
GeoJSON with an ETag, computed by :func:`app.wall_hotspots.for_wall` for the query's cut and
filters (shared by every client for a minute), fetched by the browser only while the overlay
is switched on (:mod:`app.components.wall_hot`). The wall gate (:mod:`app.auth.wall_gate`)
refuses ``/wall/…`` to roles bound to an area.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from dash import Dash
from flask import Response, has_request_context, request

from app import wall_data as wd
from app import wall_hotspots as wh
from app._gzip import gzip_with_etag
from app.basemap import IDENTITY, Display
from app.components.town_map import TownData, empty_collection
from app.components.wall_hot import ROUTE
from app.components.wall_map import LAYER_ROUTE, LAYERS


def gzipped_geojson(body: bytes, tag: str, cache: str) -> Response:
    """A gzipped GeoJSON answer with its ETag, or 304 when the browser holds that ETag."""
    if request.headers.get("If-None-Match") == tag:
        return Response(status=304, headers={"ETag": tag})
    response = Response(body, mimetype="application/geo+json")
    response.headers.update(
        {
            "Content-Encoding": "gzip",
            "Content-Length": str(len(body)),
            "ETag": tag,
            "Cache-Control": cache,
            "Vary": "Accept-Encoding",
        }
    )
    return response


def register(app: Dash, url: str, data: TownData, display: Display = IDENTITY) -> None:
    """Add the town-layer and hotspot routes to ``app``'s server for the store at ``url`` and
    the town ``data`` (already in ``display``'s coordinates)."""

    @cache
    def packed(name: str) -> tuple[bytes, str]:
        fc = data.labels if name == "labels" else data.layers.get(name, empty_collection())
        return gzip_with_etag(orjson.dumps(fc), 6)

    def layer(name: str) -> Response:
        if name not in LAYERS:
            return Response(status=404)
        body, tag = packed(name)
        return gzipped_geojson(body, tag, "private, no-cache")

    def hotspots() -> Response:
        layer = request.args.get("layer", "")
        if layer not in ("heat", "hot"):
            message = "layer 只能是 heat 或 hot / layer must be heat or hot"
            return Response(orjson.dumps({"error": message}), 400, mimetype="application/json")
        now = wd.now_utc()
        cut = wd.parse_cut(request.args.get("cut"), now)
        body, tag = wh.payload(wh.for_wall(url, cut, dict(request.args), display, now), layer)
        return gzipped_geojson(body, tag, "private, no-cache")

    app.server.add_url_rule(ROUTE, "wall_hotspots", hotspots)
    app.server.add_url_rule(LAYER_ROUTE, "wall_layers", layer)


#: The lazily loaded scripts the wall's first render needs: the map layers' GeoJSON and the
#: filter bar's dropdowns. Not the date picker's (100 KB): hidden unless the window is
#: "custom" (``assets/wall.css``), it loads as Dash loads it, after the first frame.
ASYNC_CHUNKS = (
    "/_dash-component-suites/dash_leaflet/async-GeoJSON.js",
    "/_dash-component-suites/dash/dcc/async-dropdown.js",
)

#: The renderer's requests at start, preloaded by the wall's page (relative to the app's
#: ``requests_pathname_prefix``).
PRELOADS = ("_dash-layout", "_dash-dependencies")

#: Paths of the wall's page (app.server.ROUTES).
WALL_PATHS = ("/", "/wall")


def register_first_render(app: Dash) -> None:
    """The wall's page asks, with its own HTML, for what its first render needs, through
    Dash's documented ``interpolate_index`` hook: the lazily loaded scripts
    (:data:`ASYNC_CHUNKS`) as ordinary scripts of the page, and the renderer's two requests
    (:data:`PRELOADS`: the layout and the callbacks' graph) as preloads.

    Lazily, each chunk is asked for only once the layout is rendered, and its components are
    drawn in a later render pass: the history layer's GeoJSON, and so its request, was created
    ~0.22 s after the page's first commit; with the chunks loaded with the page, ~0.15 s
    (medians of 8 loads). The chunks register themselves in webpack's chunk array, before or
    after their bundle. Other pages load them lazily, as before: the officer's phone needs no
    date picker.

    The renderer asks for the layout only once every script has run (~0.4 s into a cold load),
    and then waited, idle, while the server built it (~0.05–0.08 s); preloaded, the server
    builds it while the browser runs the scripts, and the renderer's own request is answered
    from the preload (same URL, mode and credentials). At low priority: the browser opens six
    connections to a server, and the scripts, needed first, should not wait behind them. The
    first frame of incidents comes with the layout (:func:`app.wall_history.first_frame`)."""
    base = app.interpolate_index
    prefix = app.config.requests_pathname_prefix

    def interpolate_index(**kwargs: Any) -> str:
        if has_request_context() and request.path in WALL_PATHS:
            tags = "".join(f'<script src="{chunk}"></script>' for chunk in ASYNC_CHUNKS)
            kwargs["scripts"] = tags + kwargs.get("scripts", "")
            links = "".join(
                f'<link rel="preload" href="{prefix}{path}" as="fetch" crossorigin="anonymous"'
                ' fetchpriority="low">'
                for path in PRELOADS
            )
            kwargs["metas"] = kwargs.get("metas", "") + links
        return base(**kwargs)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign,assignment]
