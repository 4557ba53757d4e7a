"""A small map for the console and the incident page: grid cells, the incident, a placement pin.

Everything drawn is in display coordinates (:class:`app.basemap.Display`: GCJ-02 under AMap);
clicks come back in display coordinates too and go through :meth:`Display.back` before use.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl

from app.basemap import Basemap, Display
from app.components.town_map import TownData, empty_collection

GRID_STYLE = {"color": "#6f8fa8", "weight": 1, "fillOpacity": 0.04}
#: Degrees around the incident the map opens with (~700 m).
ZOOM_DEG = 0.006


def marker(display: Display, lon: float | None, lat: float | None, kind: str) -> list[Any]:
    """The incident (``kind`` "incident") or the pin (``"pin"``) at a WGS84 point, or nothing."""
    if lon is None or lat is None:
        return []
    x, y = display.point(lon, lat)
    color = "#ff5a36" if kind == "incident" else "#2f9bff"
    return [
        dl.CircleMarker(
            center=[y, x],
            radius=9 if kind == "incident" else 7,
            color=color,
            fillColor=color,
            fillOpacity=0.7,
            weight=2,
        )
    ]


def incident_map(
    map_id: str,
    data: TownData,
    basemap: Basemap,
    display: Display,
    lon: float | None,
    lat: float | None,
    *,
    pin_id: str | None = None,
    incident_id: str | None = None,
) -> dl.Map:
    """The map around ``(lon, lat)`` (WGS84; ``None``: the whole town).

    ``pin_id`` adds an empty layer group the console fills with the placement pin;
    ``incident_id`` names the layer group holding the incident's marker (for updates).
    """
    children: list[Any] = [dl.TileLayer(**t.options()) for t in basemap.tiles]
    children.append(
        dl.GeoJSON(
            data=data.layers.get("grid_cells", empty_collection()),
            style=GRID_STYLE,
            interactive=False,
        )
    )
    mark = marker(display, lon, lat, "incident")
    children.append(dl.LayerGroup(mark, id=incident_id) if incident_id else dl.LayerGroup(mark))
    if pin_id:
        children.append(dl.LayerGroup([], id=pin_id))
    if lon is not None and lat is not None:
        west, south = display.point(lon - ZOOM_DEG, lat - ZOOM_DEG)
        east, north = display.point(lon + ZOOM_DEG, lat + ZOOM_DEG)
    else:
        west, south, east, north = data.bounds
    return dl.Map(
        children,
        id=map_id,
        className="incident-map",
        bounds=[[south, west], [north, east]],
        trackViewport=False,
        maxZoom=20,
        attributionControl=bool(basemap.attribution),
        style={"width": "100%", "height": "100%"},
    )


def clicked(click: Any, display: Display) -> tuple[float, float] | None:
    """The WGS84 (lon, lat) of a map click (``clickData``), or ``None``."""
    if not isinstance(click, dict):
        return None
    ll = click.get("latlng")
    try:
        if isinstance(ll, dict):
            lat, lon = float(ll["lat"]), float(ll["lng"])
        else:
            lat, lon = float(ll[0]), float(ll[1])  # type: ignore[index]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    x, y = display.back([lon], [lat])
    return round(float(x[0]), 7), round(float(y[0]), 7)
