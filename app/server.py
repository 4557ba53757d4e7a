"""The Dash app: :func:`create_app` builds it from settings, :func:`serve` runs it.

Layers are read from the store once, at start-up, and kept as GeoJSON in the layout; the app
never reads files or SQL itself. Every script, style and font is served from this host (command
rooms are offline): ``serve_locally=True``, no CDN, no tiles unless ``basemap_url`` is set.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from dash import Dash

from app.components.town_map import load_town
from app.config import Settings
from app.pages import town_map as town_map_page
from store import open_store

log = logging.getLogger(__name__)

#: The repository's top-level ``assets/`` (CSS and dash-leaflet JS functions).
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
TITLE = "Ember 非警务事项态势"


def create_app(settings: Settings) -> Dash:
    """Build the Dash app for the town in ``settings.db``.

    Parameters
    ----------
    settings : Settings
        Validated settings; ``db`` must hold at least the ``town`` layer.

    Returns
    -------
    dash.Dash
        The app; ``app.server`` is the WSGI (Flask) application.
    """
    started = time.perf_counter()
    data = load_town(open_store(settings.db))
    app = Dash(
        __name__,
        title=TITLE,
        update_title="",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = town_map_page.layout(data, settings.basemap_url)
    town_map_page.register_callbacks(app)
    log.info(
        "应用已就绪 / app ready: %s, %d grid cells, %.2f s",
        data.name,
        data.count("grid_cells"),
        time.perf_counter() - started,
    )
    return app


def serve(settings: Settings) -> None:
    """Run the app on ``settings.host:settings.port`` (no reloader; blocks until stopped)."""
    app = create_app(settings)
    app.run(
        host=settings.host,
        port=settings.port,
        debug=settings.debug,
        use_reloader=False,
        dev_tools_hot_reload=False,
    )
