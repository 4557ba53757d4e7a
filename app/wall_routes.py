"""The wall's hotspot layers over HTTP: ``GET /wall/hotspots.geojson?layer=heat|hot&cut=…``.

Served like the history layer (``/wall/history.geojson`` in :mod:`app.server`): gzipped
GeoJSON with an ETag, computed by :func:`app.wall_hotspots.for_wall` for the query's cut and
filters (shared by every client for a minute), fetched by the browser only while the overlay
is switched on (:mod:`app.components.wall_hot`). The wall gate (:mod:`app.auth.wall_gate`)
refuses ``/wall/…`` to roles bound to an area.
"""

from __future__ import annotations

from dash import Dash
from flask import Response, request

from app import wall_data as wd
from app import wall_hotspots as wh
from app.basemap import IDENTITY, Display
from app.components.wall_hot import ROUTE


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


def register(app: Dash, url: str, display: Display = IDENTITY) -> None:
    """Add the hotspot route to ``app``'s server for the store at ``url``."""

    def hotspots() -> Response:
        layer = request.args.get("layer", "")
        if layer not in ("heat", "hot"):
            return Response('{"error": "layer: heat or hot"}', 400, mimetype="application/json")
        now = wd.now_utc()
        cut = wd.parse_cut(request.args.get("cut"), now)
        body, tag = wh.payload(wh.for_wall(url, cut, dict(request.args), display, now), layer)
        return gzipped_geojson(body, tag, "private, no-cache")

    app.server.add_url_rule(ROUTE, "wall_hotspots", hotspots)
