"""Production serving: the WSGI application factory and ``ember serve --production`` (gunicorn).

``gunicorn 'app.wsgi:create()'`` builds the app from ``EMBER_*`` settings (:func:`create`);
``ember serve --production [--workers N] [--threads T]`` runs gunicorn itself with the settings of
the command line (:func:`serve_production`): ``gthread`` workers, each building its own app
*after* the fork (no ``preload_app``: a store's connection pool must not be shared across
processes), JSON logs on stderr (:mod:`app.logging_setup`).

Several workers are safe because nothing that must be shared lives in a worker's memory:
sessions are signed cookies (one ``EMBER_SECRET_KEY`` for all), accounts and sign-in attempts
are in the store, and the caches (layers, the wall's hourly history and its 2–30 s buckets) are
rebuilt by any worker from the store and keyed by wall-clock time. Layers are read once per
worker: reload (HUP) after ``ember layers import``. Known gap: each worker reads the wall's
history of an hour when it first needs it, so two workers' copies can differ by what changed in
between, and a live delta computed by one worker skips what its own copy shows.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Settings, load_settings
from app.logging_setup import GUNICORN_LOGCONFIG, setup_json_logging

log = logging.getLogger(__name__)

#: Seconds a worker may take to answer (a year of history is read on the first wall request).
TIMEOUT = 120


def default_workers() -> int:
    """gunicorn's rule of thumb, 2 × cores + 1, at most 8 (each worker holds its own caches)."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def create(settings: Settings | None = None) -> Flask:
    """The WSGI application (the Dash app's Flask server) for ``settings`` (default: read from
    ``EMBER_*`` and the config file).

    With ``behind_proxy``, the client address, scheme and host come from exactly one proxy's
    ``X-Forwarded-*`` headers. The wall's history cache is filled in the background.
    """
    from app import wall_data
    from app.server import create_app

    settings = settings or load_settings()
    server: Flask = create_app(settings).server
    if settings.behind_proxy:
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=1, x_proto=1, x_host=1
        )
    threading.Thread(target=wall_data.warm, args=(settings.db,), daemon=True).start()
    return server


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn settings for ``settings``: bind, workers, threads, timeouts, JSON logs."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers or default_workers(),
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": TIMEOUT,
        "graceful_timeout": 30,
        "keepalive": 5,
        "preload_app": False,
        "proc_name": "ember",
        "logconfig_dict": GUNICORN_LOGCONFIG,
        "accesslog": None,  # ember.access is the request log (no query strings)
        # A worker is replaced after this many requests (jitter: not all at once).
        "max_requests": 20_000,
        "max_requests_jitter": 2_000,
        # gunicorn >= 25: no runtime control socket (one fixed path per user: two servers on a
        # host would fight over it; systemd manages the service).
        "control_socket_disable": True,
    }


def serve_production(settings: Settings) -> None:
    """Run the app under gunicorn with ``settings`` (blocks until stopped)."""
    from gunicorn.app.base import BaseApplication

    class EmberApplication(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings).items():
                if key in self.cfg.settings:  # older gunicorn lacks some
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return create(settings)  # in each worker, after the fork

    setup_json_logging()
    if not settings.secret_key:
        log.warning(
            "未设置 EMBER_SECRET_KEY：各进程共用 var/ 下生成的开发密钥 / no EMBER_SECRET_KEY: "
            "workers share the generated development key; set one in production"
        )
    if not settings.db.startswith(("postgresql://", "postgres://")):
        log.warning(
            "生产模式建议使用 PostGIS / production serving with the embedded GeoPackage: "
            "fine for one town, use PostGIS for several workers under load"
        )
    EmberApplication().run()
