"""The Dash app: :func:`create_app` builds it from settings, :func:`serve` runs it.

Pages behind a small router (``dcc.Location``): the map wall at ``/``, the town map at
``/map``, the console, the officer's ``/me`` and more. The first page comes with the layout
(:func:`root_layout`, built for the ``Referer`` of the ``/_dash-layout`` request); the router
callback serves in-app navigation. Layers are read from the store once, at start-up, and
kept as GeoJSON; the app never reads files or SQL itself. Every script, style and font is
served from this host (command rooms are offline): ``serve_locally=True``, no CDN, no tiles
unless a basemap is set (``/tiles/z/x/y`` serves a local MBTiles or PMTiles archive,
:mod:`app.basemap` the rest). The wall's
history layer is one Flask route, ``/wall/history.geojson``: gzipped points keyed by cut and
filters, with an ETag, so a browser loads it once per filter change.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from dash import Dash, Input, Output, State, dcc, html
from flask import Response, has_request_context, request
from flask_login import current_user
from werkzeug.serving import WSGIRequestHandler, make_server

from app import routes_incidents, routes_me, wall_data, wall_history, wall_routes
from app._index import register_page_scripts
from app.api import register_api
from app.auth import init_auth
from app.auth.wall_gate import HOME, may_watch_wall
from app.basemap import IDENTITY, Display, basemap_of
from app.components.town_map import load_town
from app.config import Settings
from app.health import init_health
from app.i18n import lang_of
from app.pages import callbacks as callbacks_page
from app.pages import console as console_page
from app.pages import incident as incident_page
from app.pages import officer as officer_page
from app.pages import reports as reports_page
from app.pages import town_map as town_map_page
from app.pages import wall as wall_page
from layers.tiles import KINDS, TileArchive, open_archive
from store import open_store

log = logging.getLogger(__name__)

#: The repository's top-level ``assets/`` (CSS and dash-leaflet JS functions).
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
TITLE = "Ember 非警务事项态势"
#: Path -> page name.
ROUTES = {"/": "wall", "/wall": "wall", "/map": "map", "/console": "console"}
ROUTES.update({"/me": "officer", "/callbacks": "callbacks", "/reports": "reports"})
#: Path prefix -> (page name, argument the rest of the path fills): ``/incidents/<id>``.
PREFIX_ROUTES = {incident_page.PREFIX: ("incident", "incident_id")}
PAGES_KEY = "ember_pages"


def request_limit(settings: Settings) -> int:
    """The largest request body read (Flask's ``MAX_CONTENT_LENGTH``; larger: 413 unread).

    A photo comes base64-encoded in a callback's JSON (4/3 of its size); the limit lets one
    of up to twice ``photo_max_bytes`` through, so the page says it is too large
    (:func:`app.officer_photos.add_photo`) rather than the upload failing unexplained.
    """
    return 2 * settings.photo_max_bytes * 4 // 3 + 1024 * 1024


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
    store = open_store(settings.db)
    basemap = basemap_of(settings)
    display = basemap.display  # AMap: everything drawn is shifted to GCJ-02 (app.basemap)
    data = display.town(load_town(store))
    villages = [
        (str(f["properties"]["code"]), str(f["properties"]["name"]))
        for f in data.layers.get("villages", {"features": []})["features"]
    ]
    app = Dash(
        __name__,
        title=TITLE,
        update_title="",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.config["MAX_CONTENT_LENGTH"] = request_limit(settings)
    register_page_scripts(app)  # core-js only for old browsers; no unused bundle (app._index)
    csrf = init_auth(app.server, store, settings)  # /login, /logout, sessions, CSRF (app.auth)
    init_health(app.server, settings.db)  # /healthz and the JSON access log (app.health)
    register_api(app.server, store, csrf)  # /ogc/, /open311/v2/, /openapi.json, /export/
    pages: dict[str, Callable[[dict[str, str]], Any]] = {
        "wall": lambda args: wall_page.layout(
            data, villages, basemap, args, settings.lang, settings.db
        ),
        "map": lambda args: town_map_page.layout(
            data, basemap, lang_of(args.get("lang"), settings.lang)
        ),
        "console": lambda args: console_page.layout(
            data, basemap, settings.db, args, settings.lang
        ),
        "incident": lambda args: incident_page.layout(
            data, basemap, settings.db, args, settings.lang
        ),
        "officer": lambda args: officer_page.layout(store, data, basemap, settings, args),
        "callbacks": lambda args: callbacks_page.layout(store, settings, args),
        "reports": lambda args: reports_page.layout(store, settings, args),
    }
    app.server.extensions[PAGES_KEY] = pages
    app.layout = lambda: root_layout(app)

    @app.callback(
        Output("ember-page", "children"),
        Input("ember-url", "pathname"),
        State("ember-url", "search"),
        prevent_initial_call=True,  # the layout holds the first page (root_layout)
    )
    def route(pathname: str | None, search: str | None) -> Any:
        return page_layout(app, pathname, search)

    town_map_page.register_callbacks(app)
    wall_page.register_callbacks(app, settings.db, data, display)
    console_page.register_callbacks(app, settings.db, display)
    incident_page.register_callbacks(app, settings.db)
    officer_page.register_callbacks(app, store, data, basemap, settings)  # /me, /photos/…
    callbacks_page.register_callbacks(app, store, settings)  # /callbacks
    reports_page.register_callbacks(app, store, settings)  # /reports, /reports/<kind>.xlsx
    routes_incidents.register(app, settings.db)  # /incidents/<id>, /console gates; /api/incidents
    routes_me.register(app, store)  # /api/me/tasks: the officer's task lists as JSON
    _history_route(app, settings.db, display)
    local = settings.basemap in KINDS
    _tile_route(app, open_archive(settings.basemap_path, settings.basemap) if local else None)
    log.info(
        "应用已就绪 / app ready: %s, %d grid cells, %.2f s",
        data.name,
        data.count("grid_cells"),
        time.perf_counter() - started,
    )
    return app


def root_layout(app: Dash) -> html.Div:
    """The app's layout, built per ``/_dash-layout`` request for the page the browser is on
    (the request's ``Referer``, same host only): the page comes with the layout, not one round
    trip later from the router. The ``dcc.Location`` then holds that path (so it does not fire
    the router at start) and serves in-app navigation. Without a usable ``Referer`` (no request,
    a proxy that strips it) the page is left to the router, as before."""
    where = _page_of_referer()
    if where is None:
        page, location = None, dcc.Location(id="ember-url")
    else:
        path, search, href = where
        page = page_layout(app, path, search)
        location = dcc.Location(id="ember-url", pathname=path, search=search, hash="", href=href)
    return html.Div([location, html.Div(page, id="ember-page", className="ember-router")])


def _page_of_referer() -> tuple[str, str, str] | None:
    """(path, search, href) of the page that asked for the layout, or None."""
    if not has_request_context() or request.path != "/_dash-layout":
        return None
    referer = request.headers.get("Referer", "")
    parts = urlsplit(referer)
    if not referer or parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    return parts.path or "/", f"?{parts.query}" if parts.query else "", referer


def page_layout(app: Dash, pathname: str | None, search: str | None = None) -> Any:
    """The layout of the page at ``pathname`` (unknown paths show the wall); ``search`` (the
    query string, e.g. ``?window=year``) sets the wall's initial filters."""
    pages = app.server.extensions[PAGES_KEY]
    path = (pathname or "/").rstrip("/") or "/"
    args = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    for prefix, (name, key) in PREFIX_ROUTES.items():
        if path.startswith(prefix) and len(path) > len(prefix):
            return pages[name]({**args, key: path[len(prefix) :]})
    name = ROUTES.get(path, "wall")
    if name == "wall" and not _may_watch_wall():  # an unknown path asked by an area role
        return html.Div(html.A("返回 / back", href=HOME.get(current_user.role, "/login")))
    return pages[name](args)


def _may_watch_wall() -> bool:
    """Whether the request's user may see the wall (anyone outside a request, or anonymous:
    the sign-in gate deals with those)."""
    if not has_request_context() or not current_user.is_authenticated:
        return True
    return may_watch_wall(current_user.role)


def _history_route(app: Dash, url: str, display: Display = IDENTITY) -> None:
    """``GET /wall/history.geojson?cut=…&window=…[&z=…&bbox=…]``: the filtered history, gzipped:
    a zoom's clusters and single incidents with ``z``, every point without
    (:mod:`app.wall_history`)."""

    def history() -> Response:
        try:
            body, tag = wall_history.answer(dict(request.args), url, display, wall_data.now_utc())
        except wall_history.BadViewArgument as exc:
            return Response(orjson.dumps({"error": str(exc)}), 400, mimetype="application/json")
        return wall_routes.gzipped_geojson(body, tag, "private, max-age=3600")

    app.server.add_url_rule("/wall/history.geojson", "wall_history", history)


def _tile_route(app: Dash, archive: TileArchive | None) -> None:
    """``GET /tiles/<z>/<x>/<y>``: a tile of the local basemap archive; 404 when absent, when
    the path is not z/x/y or when the basemap is not a local archive (not the page's HTML)."""

    def missing(**_kw: Any) -> Response:
        return Response(status=404, headers={"Cache-Control": "public, max-age=3600"})

    def tile(z: int, x: int, y: int) -> Response:
        data = archive.tile(z, x, y) if archive is not None else None
        if data is None or archive is None:
            return missing()
        tag = '"' + hashlib.sha1(data, usedforsecurity=False).hexdigest()[:20] + '"'
        headers = {"ETag": tag, "Cache-Control": "public, max-age=86400"}
        if request.headers.get("If-None-Match") == tag:
            return Response(status=304, headers=headers)
        return Response(data, mimetype=archive.info.media_type, headers=headers)

    app.server.add_url_rule("/tiles/<int:z>/<int:x>/<int:y>", "basemap_tile", tile)
    app.server.add_url_rule("/tiles/<path:rest>", "basemap_missing", missing)


class _NoQueryLog(WSGIRequestHandler):
    """The development server's request lines without their query strings, which may carry an
    ``api_key`` or a phone number (the production server logs through ``ember.access``)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        line = f"{self.command} {self.path.split('?', 1)[0]} {self.request_version}"
        self.log("info", '"%s" %s %s', line, code, size)


def serve(settings: Settings) -> None:
    """Run the app on ``settings.host:settings.port`` (no reloader; blocks until stopped)."""
    app = create_app(settings)
    wall_data.warm(settings.db)  # the wall's first page then needs no store read
    if settings.port == 0:
        # Dash's run() reads 0 as "no port given" and serves on 8050; Flask's (werkzeug) binds
        # a free port and its "Running on" line says which (tests read it there).
        app.enable_dev_tools(debug=settings.debug, dev_tools_hot_reload=False)
        app.server.run(
            host=settings.host,
            port=0,
            debug=settings.debug,
            use_reloader=False,
            request_handler=_NoQueryLog,
        )
        return
    app.run(
        host=settings.host,
        port=settings.port,
        debug=settings.debug,
        use_reloader=False,
        dev_tools_hot_reload=False,
        request_handler=_NoQueryLog,
    )


@contextmanager
def serve_in_thread(app: Dash, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a background thread (tests, benchmarks, embedding).

    ``port`` 0 takes a free one. Yields the base URL; the server stops when the block ends.
    """
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
