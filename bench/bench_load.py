"""Load: 200 officers polling their task lists against gunicorn on PostGIS, 1 worker and 3.

Workload: the demo town (``build_demo(7)``, 6,000 incidents ending now; 1,000 with ``--quick``)
in a throwaway PostGIS (durable settings), 200 accounts (182 grid officers over the grid cells,
those with open incidents first, and 18 team members, two per team; 50 with ``--quick``), each
signed in once (GET ``/login``, POST with the form's CSRF token). The server is ``ember serve
--production`` (gunicorn, ``gthread``, 4 threads a worker, JSON access log), first with 1 worker,
then with 3, on the same database with the same session cookies.

Each simulated officer is an ``httpx.AsyncClient`` with its own cookie and one keep-alive
connection, polling ``GET /api/me/tasks`` (what ``/me`` shows: :func:`app.officer_actions
.my_tasks` with the session's scope). Two phases per server:

- **paced**: every officer polls every :data:`POLL_S` seconds (random phase, ±20 % jitter), so
  200 officers offer ~20 requests/s (a phone refreshing its list every 10 s); latency p50/p95
  and errors (non-200 or transport) are measured here. Target (issues #7, #10): p95 < 300 ms,
  zero errors.
- **saturated**: every officer polls again as soon as an answer arrives; requests/s is the
  server's capacity.

Results: ours = the 3-worker run, peer = the 1-worker run, ratio = 1-worker / 3-worker: p95 of
the paced phase, and seconds per request at saturation (= requests/s ratio). The machine has 2
cores shared by PostgreSQL, the workers and the client, so the ratio is bounded by ~2.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._timing import Result

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load-test-pass-1"
SECRET = "bench-load-secret-key-0123456789abcdefghij"
#: Seconds between two polls of one officer in the paced phase.
POLL_S = 10.0
PATH = "/api/me/tasks"


@dataclass
class Phase:
    """Latencies (seconds) and errors of one phase."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def n(self) -> int:
        return len(self.latencies) + self.errors

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.n:,} requests, {self.rps:,.1f}/s, p50 {self.pct(0.5) * 1000:.0f} ms, "
            f"p95 {self.pct(0.95) * 1000:.0f} ms, errors {self.errors}"
        )


def _town(url: str, n_incidents: int, officers: int) -> list[str]:
    """Write the demo town to ``url`` and add ``officers`` accounts; their usernames."""
    import pandas as pd

    from app.auth.passwords import hash_password
    from layers.demo import build_demo
    from store import open_store

    end = pd.Timestamp.now(tz="Asia/Shanghai").floor("min")
    frames = build_demo(7, n_incidents=n_incidents, end=end)
    store = open_store(url)
    try:
        store.write_layers(frames)
        incidents = frames["incidents"]
        busy = incidents.loc[~incidents["state"].isin(["closed", "returned"]), "grid_code"]
        cells = list(dict.fromkeys([*busy.value_counts().index, *frames["grid_cells"]["code"]]))
        teams = list(frames["teams"]["code"].astype(str))
        n_team = min(2 * len(teams), officers // 10)
        password_hash = hash_password(PASSWORD)  # one hash: sign-in cost is not the workload
        names = []
        for i in range(officers):
            if i < n_team:
                role, area = "team", teams[i % len(teams)]
            else:
                role, area = "grid", str(cells[(i - n_team) % len(cells)])
            name = f"officer{i:03d}"
            store.user_add(name, role, (area,), password_hash, actor="bench")
            names.append(name)
        return names
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``ember serve --production --workers N`` in a subprocess (stderr to ``log``)."""

    def __init__(self, url: str, workers: int, work: Path):
        self.workers = workers
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = work / f"gunicorn-{workers}.log"
        env = {
            **os.environ,
            "EMBER_DB": url,
            "EMBER_SECRET_KEY": SECRET,
            "EMBER_AUTH_REQUIRED": "true",
            "EMBER_CONFIG": os.devnull,
            "EMBER_PHOTO_DIR": str(work / "photos"),
        }
        argv = [sys.executable, "-m", "app.cli", "serve", "--production"]
        argv += ["--workers", str(workers), "--threads", "4", "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT
            )

    def wait(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            ready = self.log.read_text(errors="replace").count("app ready") >= self.workers
            try:
                up = httpx.get(self.base + "/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                up = False
            if ready and up:
                return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def pids(self) -> dict[int, int]:
        """Requests of :data:`PATH` per worker pid (from the JSON access log)."""
        counts: dict[int, int] = {}
        for raw in self.log.read_text(errors="replace").splitlines():
            if raw.startswith("{") and f'"path": "{PATH}"' in raw:
                pid = int(json.loads(raw)["pid"])
                counts[pid] = counts.get(pid, 0) + 1
        return counts


async def _sign_in(base: str, names: list[str]) -> dict[str, dict[str, str]]:
    """Each account's cookies after signing in (a few at a time)."""
    import httpx

    gate = asyncio.Semaphore(8)

    async def one(name: str) -> tuple[str, dict[str, str]]:
        async with gate, httpx.AsyncClient(base_url=base, timeout=60) as client:
            page = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            if page.status_code != 200 or token is None:
                raise RuntimeError(f"/login: {page.status_code}")
            form = {"username": name, "password": PASSWORD, "csrf_token": token.group(1)}
            done = await client.post("/login", data=form)
            if done.status_code not in (302, 303):
                raise RuntimeError(f"sign-in of {name} failed: {done.status_code}")
            return name, dict(client.cookies.items())

    return dict(await asyncio.gather(*(one(n) for n in names)))


async def _load(
    base: str, cookies: dict[str, dict[str, str]], paced_s: float, saturated_s: float
) -> tuple[Phase, Phase]:
    """The paced phase, then the saturated one, with one client per officer."""
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base, cookies=c, timeout=30, limits=limits)
        for c in cookies.values()
    ]
    rng = random.Random(7)

    async def poll(client: httpx.AsyncClient, phase: Phase) -> None:
        t0 = time.perf_counter()
        try:
            r = await client.get(PATH)
            ok = r.status_code == 200 and r.json().get("user")
        except (httpx.HTTPError, ValueError):
            ok = False
        if ok:
            phase.latencies.append(time.perf_counter() - t0)
        else:
            phase.errors += 1

    async def officer(client: httpx.AsyncClient, phase: Phase, end: float, pace: bool) -> None:
        if pace:
            await asyncio.sleep(rng.uniform(0, POLL_S))
        while time.perf_counter() < end:
            started = time.perf_counter()
            await poll(client, phase)
            if pace:
                wait = POLL_S * rng.uniform(0.8, 1.2) - (time.perf_counter() - started)
                await asyncio.sleep(max(0.0, wait))

    try:
        phases = []
        for seconds, pace in ((paced_s, True), (saturated_s, False)):
            phase = Phase(seconds)
            end = time.perf_counter() + seconds
            await asyncio.gather(*(officer(c, phase, end, pace) for c in clients))
            phases.append(phase)
        return phases[0], phases[1]
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def run(quick: bool = False) -> list[Result]:
    from store.pgtemp import TempPostgres, find_postgis

    bin_dir, why = find_postgis()
    if bin_dir is None:
        print(f"  load bench skipped: {why}", file=sys.stderr)
        return []
    import psycopg

    officers, n_incidents = (50, 1_000) if quick else (200, 6_000)
    paced_s, saturated_s = (10.0, 4.0) if quick else (15.0, 6.0)
    figures: dict[int, tuple[Phase, Phase, dict[int, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp, TempPostgres(bin_dir, durable=True) as pg:
        work = Path(tmp)
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE town")
        with psycopg.connect(pg.url("town"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        url = pg.url("town")
        t0 = time.perf_counter()
        names = _town(url, n_incidents, officers)
        print(f"  town and {len(names)} accounts: {time.perf_counter() - t0:.1f} s", flush=True)
        cookies: dict[str, dict[str, str]] = {}
        for workers in (3, 1):  # sign in where there are more workers
            server = Server(url, workers, work)
            try:
                server.wait()
                if not cookies:
                    t0 = time.perf_counter()
                    cookies = asyncio.run(_sign_in(server.base, names))
                    print(f"  signed in: {time.perf_counter() - t0:.1f} s", flush=True)
                paced, saturated = asyncio.run(_load(server.base, cookies, paced_s, saturated_s))
                figures[workers] = (paced, saturated, server.pids())
            finally:
                server.stop()
            spread = sorted(figures[workers][2].values(), reverse=True)
            print(
                f"  {workers} worker(s): paced {paced.line()} · saturated {saturated.line()} · "
                f"requests per worker {spread}",
                flush=True,
            )
    (p1, s1, _), (p3, s3, _) = figures[1], figures[3]
    load = f"{officers} officers, /api/me/tasks every {POLL_S:.0f} s, {n_incidents:,} incidents"
    target = "met" if p3.pct(0.95) < 0.3 and p3.errors == 0 else "NOT met"
    note = (
        f"paced: 1 worker p50 {p1.pct(0.5) * 1000:.0f} ms / p95 {p1.pct(0.95) * 1000:.0f} ms / "
        f"{p1.errors} errors of {p1.n:,}; 3 workers p50 {p3.pct(0.5) * 1000:.0f} ms / p95 "
        f"{p3.pct(0.95) * 1000:.0f} ms / {p3.errors} errors of {p3.n:,} (target p95 < 300 ms, "
        f"0 errors: {target} with 3 workers); saturated: {s1.rps:,.0f} req/s with 1 worker, "
        f"{s3.rps:,.0f} req/s with 3 ({s1.errors + s3.errors} errors)"
    )
    return [
        Result(
            "load: officers p95, 3 workers",
            load,
            p3.pct(0.95),
            "same, 1 worker (p95)",
            p1.pct(0.95),
            note,
        ),
        Result(
            "load: capacity, 3 workers",
            f"{officers} officers polling back to back, {n_incidents:,} incidents",
            1 / s3.rps if s3.rps else float("inf"),
            "same, 1 worker (s/request)",
            1 / s1.rps if s1.rps else float("inf"),
            f"{s3.rps:,.0f} vs {s1.rps:,.0f} requests/s; p95 at saturation "
            f"{s3.pct(0.95) * 1000:.0f} vs {s1.pct(0.95) * 1000:.0f} ms",
        ),
    ]


__all__ = ["run"]


if __name__ == "__main__":  # python -m bench.bench_load [--quick]
    for r in run(quick="--quick" in sys.argv):
        print(r.as_dict())
    sys.exit(0)
