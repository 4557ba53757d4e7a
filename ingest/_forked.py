"""A value built in a forked child process while this one does something else.

An ingest run needs the town's indexes (geocoder, trinity raster: ~0.45 s to build for the demo
town) only once the file is read (~0.45 s for 100,000 rows), and both are CPU-bound Python, so
a thread would not overlap them (the GIL). A forked child starts with everything imported and
every frame in memory, builds the value and sends it back pickled (~0.04 s for the demo town's
indexes). Where forking is not safe enough (:func:`ingest._writer.can_fork`) the value is built
in line, when asked for. The child may go on serving the run once the value is sent (the
town's builder geocodes ahead of the run, :mod:`ingest._ahead`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from ingest._writer import can_fork

T = TypeVar("T")
#: The child's process name.
NAME = "ember-ingest-forked"


class Forked(Generic[T]):
    """``build()`` run in a forked child; :meth:`result` waits for it (or builds it in line
    when the child could not be forked). Use as a context manager so that a child whose result
    is never asked for is ended.

    With ``serve``, the child goes on once the value is sent: ``serve(value, conn)`` runs in it
    (at the lowest CPU priority: it works in the time the run's processes leave idle) and
    :attr:`channel` is the run's end of ``conn`` until :meth:`close`."""

    def __init__(
        self, build: Callable[[], T], serve: Callable[[T, Connection], None] | None = None
    ) -> None:
        self._build = build
        self._serve = serve
        self._proc: Any = None
        self._conn: Connection | None = None
        self.channel: Connection | None = None
        if can_fork():
            ctx = mp.get_context("fork")
            self._conn, child = ctx.Pipe(duplex=serve is not None)
            self._proc = ctx.Process(
                target=_child, args=(child, build, self._conn, serve), daemon=True, name=NAME
            )
            self._proc.start()
            child.close()

    def result(self) -> T:
        """The value (the child's exception, re-raised here, when building it failed)."""
        if self._conn is None:
            return self._build()
        kind = "error"
        try:
            kind, value = self._conn.recv()
        except EOFError:
            self._proc.join(timeout=5)
            raise RuntimeError(
                f"构建进程意外退出（退出码 {self._proc.exitcode}） / the process building the "
                f"town's indexes ended unexpectedly (exit code {self._proc.exitcode})"
            ) from None
        finally:
            if self._serve is None or kind != "ok":
                self.close()
            else:
                self.channel = self._conn
        if kind == "error":
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the child (if it still runs) and release the pipe."""
        if self._conn is not None:
            self._conn.close()
            self._conn = self.channel = None
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc.join()
            self._proc = None

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _child(
    conn: Connection,
    build: Callable[[], Any],
    run_end: Connection,
    serve: Callable[[Any, Connection], None] | None,
) -> None:
    """Build the value, send it back, then ``serve`` (if any) until the run ends the child.
    ``run_end``, the run's end of the pipe, forked with the child, is closed first: held open,
    a run killed outright would leave the child blocked for ever sending a value larger than
    the pipe holds; closed, the send fails and the child ends."""
    run_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C: the run stops and ends this child
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the watcher's stop (the run ends it so)
    try:
        value: tuple[str, Any] = ("ok", build())
    except Exception as exc:  # every failure goes back to the run
        value = ("error", exc)
    try:
        conn.send(value)
    except BrokenPipeError:  # the run is gone
        return conn.close()
    except Exception as exc:  # an exception that does not pickle
        conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        return conn.close()
    try:
        if serve is not None and value[0] == "ok":
            os.nice(19)  # only the time the run's processes leave idle
            serve(value[1], conn)
    except Exception:  # a helper: the run does the work itself without it (EOF: the run ended)
        pass
    finally:
        conn.close()


__all__ = ["Forked"]
