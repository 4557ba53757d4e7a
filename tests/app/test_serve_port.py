"""``ember serve --port 0`` takes a free port, as the configuration says, even when 8050 (the
default port) is taken — Dash's own ``run()`` would read 0 as "unset" and try 8050."""

from __future__ import annotations

import socket
from pathlib import Path

import requests

from tests.app.api_town import serve_in_process


def test_port_0_is_a_free_port_not_8050(demo_gpkg: Path) -> None:
    taken = socket.socket()
    try:
        try:
            taken.bind(("127.0.0.1", 8050))
            taken.listen()
        except OSError:
            pass  # already taken by someone else: the same situation
        with serve_in_process(demo_gpkg) as url:
            assert not url.endswith(":8050"), url
            assert requests.get(f"{url}/healthz", timeout=30).status_code in (200, 503)
    finally:
        taken.close()
