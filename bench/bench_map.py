"""The first map page: building what the browser receives, against folium on the same layers.

Ember: ``create_app`` (read the layers from the GeoPackage store, build the dash-leaflet layout),
the ``/_dash-layout`` shell and the ``/map`` page its router sends. Peer: folium, the usual
Python route to a Leaflet page — read the same layers with geopandas and render a ``folium.Map``
with the same overlays and tooltips to HTML. Bytes of each are reported too.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
from plotly.utils import PlotlyJSONEncoder

from app.config import Settings
from app.server import create_app, page_layout
from bench._timing import Result, median_time
from layers.demo import build_demo
from store import open_store

LAYERS: tuple[str, ...] = ("town", "villages", "grid_cells", "police_beats", "fire_stations")
LAYERS += ("fire_station_coverage", "roads")


def ember_page(db: Path) -> bytes:
    """The app shell (``/_dash-layout``) plus the ``/map`` page its router sends."""
    # Sign-in is off here: the benchmark measures building the page, and a sign-in costs two
    # argon2 computations (~0.1 s each, by design) that folium's static page has no part of.
    app = create_app(Settings(db=str(db), auth_required=False))
    response = app.server.test_client().get("/_dash-layout")
    assert response.status_code == 200
    page = json.dumps(page_layout(app, "/map").to_plotly_json(), cls=PlotlyJSONEncoder)
    assert len(page) > 50_000, "the map is not in it"
    return response.data + page.encode("utf-8")


def folium_page(db: Path) -> bytes:
    frames = {n: gpd.read_file(db, layer=n) for n in LAYERS}
    west, south, east, north = frames["town"].total_bounds
    m = folium.Map(tiles=None, prefer_canvas=False)
    m.fit_bounds([[south, west], [north, east]])
    for name, frame in frames.items():
        fields = [c for c in ("name", "code", "officer_name") if c in frame.columns]
        layer = folium.GeoJson(
            frame,
            name=name,
            tooltip=folium.GeoJsonTooltip(fields=fields) if fields else None,
        )
        layer.add_to(m)
    folium.LayerControl().add_to(m)
    return m.get_root().render().encode("utf-8")


def _kb(data: bytes) -> str:
    return f"{len(data) / 1e3:.0f} KB ({len(gzip.compress(data)) / 1e3:.0f} KB gzipped)"


def run(quick: bool = False) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.gpkg"
        open_store(str(db)).write_layers(build_demo(7, n_incidents=100))  # as `ember demo`
        ours_bytes, peer_bytes = ember_page(db), folium_page(db)
        repeat = 3 if quick else 7
        ours = median_time(lambda: ember_page(db), repeat=repeat)
        peer = median_time(lambda: folium_page(db), repeat=repeat)
    note = f"payload Ember {_kb(ours_bytes)} vs folium {_kb(peer_bytes)}"
    return [
        Result(
            "first map page",
            "demo town: 7 layers from the GeoPackage to the page payload",
            ours,
            "folium Map.render()",
            peer,
            note,
        )
    ]
