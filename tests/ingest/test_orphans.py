"""A run killed outright (SIGKILL: the OOM killer, a supervisor giving up on it) leaves no
process of its own behind: its writer and the child building the town (and geocoding ahead of
it) end once it is gone.

They waited for ever: each was forked holding both ends of its pipe to the run, so the run's
death closed neither, and the writer stayed with the store open and ~250 MB in memory (one
more at every crash and restart of ``ember watch``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.ingest.conftest import gbk_rows, write_csv

ROOT = Path(__file__).resolve().parents[2]

RUN = textwrap.dedent(
    """
    import os, signal, sys
    from ingest import _writer
    from ingest.pipeline import IngestContext, ingest_file
    from layers.demo import build_demo
    from store import open_store
    from tests.ingest.make_fixtures import N, SEED

    path, url = sys.argv[1], sys.argv[2]
    ctx = IngestContext.from_frames(build_demo(SEED, n_incidents=N))
    real = _writer.ProcessWriter.__init__

    def init(self, *a, **kw):
        real(self, *a, **kw)
        print(self._proc.pid, flush=True)

    def progress(done, total):
        if done:  # the first batch written: killed outright, the writer idle or writing
            os.kill(os.getpid(), signal.SIGKILL)

    _writer.ProcessWriter.__init__ = init
    ingest_file(path, "110", open_store(url), ctx, batch_size=5, parallel=True,
                progress=progress)
    """
)

BUILD = textwrap.dedent(
    """
    import os, signal, time
    from ingest._forked import Forked

    run = os.getpid()

    def build():
        while os.getppid() == run:  # until the run is gone, then a value larger than a pipe
            time.sleep(0.01)
        return bytes(1 << 20)

    f = Forked(build)
    print(f._proc.pid, flush=True)
    os.kill(run, signal.SIGKILL)
    """
)

HELPER = textwrap.dedent(
    """
    import os, signal
    from ingest import _ahead
    from ingest._forked import Forked
    from ingest.pipeline import IngestContext
    from layers.demo import build_demo
    from tests.ingest.make_fixtures import N, SEED

    ctx = IngestContext.from_frames(build_demo(SEED, n_incidents=N))
    f = Forked(lambda: ctx, serve=_ahead.serve)
    f.result()
    f.channel.send([f"演示镇华溪大道{i}号" for i in range(5000)])  # busy geocoding them
    print(f._proc.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left unreaped by an init that does not reap: ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            return not any(line.startswith("State:\tZ") for line in fh)
    except FileNotFoundError:
        return False


def _orphans(tmp_path: Path, script: str, *args: str) -> list[int]:
    """The children ``script`` printed the pids of, still running a while after it was killed
    (ended here then, the test failing). Its output goes to files: a child left running would
    hold a pipe open, and the run with it."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", script, *args], cwd=ROOT, stdout=stdout, stderr=stderr,
            timeout=300,
        )  # fmt: skip
    assert done.returncode == -9, err.read_text()[-2000:]
    pids = [int(p) for p in out.read_text().split()]
    assert pids
    deadline = time.monotonic() + 60  # generous: they end at once on an idle machine
    while any(map(_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if _alive(p)]
    for p in left:
        os.kill(p, 9)
    return left


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_writer_of_a_run_killed_outright_ends(store_url: str, tmp_path: Path) -> None:
    feed = write_csv(gbk_rows(), tmp_path / "feed.csv")
    assert _orphans(tmp_path, RUN, str(feed), store_url) == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_town_builder_of_a_run_killed_outright_ends(tmp_path: Path) -> None:
    assert _orphans(tmp_path, BUILD) == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_geocoding_helper_of_a_run_killed_outright_ends(tmp_path: Path) -> None:
    assert _orphans(tmp_path, HELPER) == []
