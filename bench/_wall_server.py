"""The wall's server for :mod:`bench.bench_wall`, in a process of its own, as ``ember serve``
runs it: the benchmark's process drives the browser, and a server in one of its threads would
wait for the GIL while Playwright's client handles the page's events (every request and
response of the page is an event there).

``python -m bench._wall_server DB`` prints the base URL, serves until its stdin closes.
"""

from __future__ import annotations

import logging
import sys

from app.config import Settings
from app.server import create_app, serve_in_thread
from store import open_store
from tests._signin import WALL_USER, ensure_account


def main(db: str) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    ensure_account(open_store(db), WALL_USER, "wall")  # before the app: it warns if none
    app = create_app(Settings(db=db))
    with serve_in_thread(app) as base:
        print(base, flush=True)
        sys.stdin.read()  # until the benchmark closes it (or ends)


if __name__ == "__main__":
    main(sys.argv[1])
