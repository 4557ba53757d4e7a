"""The map wall at 100,000 incidents in headless Chromium, against a folium MarkerCluster map.

Ember: the wall at ``/?window=year`` (every incident of the demo year on the map), served by
Werkzeug on 127.0.0.1 in a process of its own (:mod:`bench._wall_server`); timed from
navigation until the incident clusters (computed on the server for the map's zoom:
``app.wall_history``) and the KPI tiles are in the page, in a fresh browser context (no HTTP
cache), after one untimed load has warmed the server's per-cut cache (an always-on wall server
is warm; the cold figure is in the note): the median of five loads, against the median of five
loads of the peer, the two alternating. Warm, the first clusters come with the page's layout
(``app.wall_history.first_frame``) and are drawn with the map; cold, they come from the
history request, after the map's lazily loaded layers have rendered.

Both pages are timed in the page: a ``MutationObserver`` installed before any of the page's
scripts notes ``performance.now()`` (milliseconds since the navigation started) at the first
change after which what is awaited exists. Playwright's own waits poll the page from another
process and return 0.2-0.4 s after that (measured: two sequential waits for the wall, one for
folium); their figures, from ``goto`` to the last wait returning, are in the note.

Also measured: the bytes of every refresh response over a few polls (live deltas and the
periodic tiles/feed refresh), and the latency of a filter change (click a category until the
new history layer is drawn).

Peer: folium, what an analyst would otherwise use: the same incidents as a ``MarkerCluster``
rendered to HTML and opened in the same browser. Its CDN scripts (Leaflet, Leaflet.markercluster)
are served from local copies fetched once with ``npm pack`` (into ``var/bench-vendor``); its
other CDN assets (Bootstrap, fonts) are answered empty, which only helps it.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
from folium.plugins import MarkerCluster

from bench._timing import Result
from layers.demo import build_demo
from store import IncidentQuery, Scope, open_store
from tests._signin import sign_in_context

VENDOR = Path(__file__).resolve().parent.parent / "var" / "bench-vendor"
#: npm package -> {URL suffix folium uses: file inside the package}.
NPM = {
    "leaflet@1.9.3": {
        "leaflet@1.9.3/dist/leaflet.js": "package/dist/leaflet.js",
        "leaflet@1.9.3/dist/leaflet.css": "package/dist/leaflet.css",
    },
    "leaflet.markercluster@1.1.0": {
        "markercluster/1.1.0/leaflet.markercluster.js": "package/dist/leaflet.markercluster.js",
        "markercluster/1.1.0/MarkerCluster.css": "package/dist/MarkerCluster.css",
        "markercluster/1.1.0/MarkerCluster.Default.css": "package/dist/MarkerCluster.Default.css",
    },
    "jquery@3.7.1": {"jquery-3.7.1.min.js": "package/dist/jquery.min.js"},
}
#: Seconds of refreshes watched: long enough for a tiles/feed refresh as well as deltas.
REFRESH_WINDOW = 32.0
#: Seconds between loads, untimed: the browser finishes tearing down the last context (folium's
#: 73 MB page takes a while; with 2 s the next wall load measured ~0.05 s slower) before the
#: next load is timed.
SETTLE = 5.0
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _vendor() -> dict[str, bytes]:
    """Local copies of folium's scripts: URL suffix -> body (``npm pack`` once, then cached)."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    out: dict[str, bytes] = {}
    for spec, files in NPM.items():
        name, version = spec.rsplit("@", 1)
        tgz = VENDOR / f"{name}-{version}.tgz"
        if not tgz.exists():
            subprocess.run(
                ["npm", "pack", spec, "--silent", "--pack-destination", str(VENDOR)],
                check=True,
                capture_output=True,
                timeout=300,
            )
        with tarfile.open(tgz) as tar:
            for suffix, member in files.items():
                handle = tar.extractfile(member)
                assert handle is not None, member
                out[suffix] = handle.read()
    return out


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


#: Bytes over the wire and features of the history layers the wall fetched (by ``_wall_render``).
HISTORY_SEEN: list[tuple[int, int]] = []


def _history_seen(response: Any) -> None:
    if "/wall/history.geojson" in response.url and response.status == 200:
        body = response.body()  # decoded by the browser
        wire = int(response.headers.get("content-length") or 0)
        HISTORY_SEEN.append((wire, body.count(b'"Feature"')))


@contextlib.contextmanager
def _served(db: Path) -> Iterator[str]:
    """The wall of the store ``db`` served by another process (:mod:`bench._wall_server`);
    yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._wall_server", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:"), f"the wall's server did not start: {base!r}"
        yield base
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _drawn_mark(*selectors: str) -> str:
    """An init script noting, in ``window.__drawnAt``, ``performance.now()`` at the first DOM
    change after which every one of ``selectors`` matches."""
    test = " && ".join(f"document.querySelector({s!r})" for s in selectors)
    return (
        "window.__drawnAt = null; new MutationObserver(function (_m, obs) {"
        f" if ({test}) {{ window.__drawnAt = performance.now(); obs.disconnect(); }}"
        "}).observe(document, {subtree: true, childList: true});"
    )


WALL_DRAWN = (".wall-cluster", "#wall-kpi-received")
FOLIUM_DRAWN = (".marker-cluster",)


def _drawn(page: Any, selectors: tuple[str, ...], t0: float) -> tuple[float, float]:
    """(seconds in the page from navigation to drawn, seconds from ``t0`` to Playwright's
    waits returning)."""
    for selector in selectors:
        page.locator(selector).first.wait_for(timeout=600_000)
    outer = time.perf_counter() - t0
    at = page.evaluate("window.__drawnAt")
    assert at is not None, "the page's observer did not see it drawn"
    return at / 1000, outer


def _wall_context(browser: Any, url: str) -> Any:
    """A fresh browser context signed in as the wall account (before any clock starts), its
    pages noting when the wall is drawn (:func:`_drawn_mark`)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    sign_in_context(context, _origin(url))
    context.add_init_script(_drawn_mark(*WALL_DRAWN))
    return context


def _wall_render(browser: Any, url: str) -> tuple[float, float]:
    """(in-page, outer) seconds from navigation to drawn clusters, in a fresh context."""
    context = _wall_context(browser, url)
    page = context.new_page()
    page.on("response", _history_seen)
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        return _drawn(page, WALL_DRAWN, t0)
    finally:
        context.close()


def _wall_reloads(browser: Any, url: str, n: int = 3) -> float:
    """Median in-page seconds to drawn clusters when the wall is reloaded in one context: the
    browser's HTTP cache (and V8's code cache) warm, as on a wall PC reloading the page."""
    context = _wall_context(browser, url)
    page = context.new_page()
    times: list[float] = []
    try:
        for i in range(n + 1):
            time.sleep(SETTLE)
            t0 = time.perf_counter()
            if i == 0:
                page.goto(url, wait_until="commit")
            else:
                page.reload(wait_until="commit")
            seconds, _outer = _drawn(page, WALL_DRAWN, t0)
            if i:  # the first load fills the cache
                times.append(seconds)
        return statistics.median(times)
    finally:
        context.close()


#: For the filter change, timed in the page: when an option of a dropdown was clicked
#: (``__pickedAt``) and when clusters were last added to the map (``__clustersAt``).
FILTER_MARK = """
() => {
  window.__pickedAt = 0;
  window.__clustersAt = 0;
  document.addEventListener("click", (e) => {
    if (e.target.closest('[role="option"]')) window.__pickedAt = performance.now();
  }, true);
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType === 1 && (n.matches(".wall-cluster") || n.querySelector(".wall-cluster"))) {
        window.__clustersAt = performance.now();
      }
    }
  }).observe(document.body, {subtree: true, childList: true});
}
"""


def _refresh_and_filter(browser: Any, url: str, seconds: float) -> tuple[int, int, float, float]:
    """(largest refresh response bytes, number of refreshes, filter-change seconds in the page
    from the option's click to the new clusters, the same from the harness's first click)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    sign_in_context(context, _origin(url))
    page = context.new_page()
    sizes: list[int] = []
    try:
        page.goto(url, wait_until="networkidle")
        page.locator(".wall-cluster").first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        listening = [True]

        def record(r: Any) -> None:
            if listening[0] and "_dash-update-component" in r.url:
                sizes.append(len(r.body()))

        page.on("response", record)
        page.wait_for_timeout(seconds * 1000)
        listening[0] = False
        refreshes = list(sizes)
        # Filter change: pick a category; done when the new history layer is drawn.
        page.evaluate(FILTER_MARK)
        t0 = time.perf_counter()
        with page.expect_response(lambda r: "category=wage" in r.url) as resp:
            page.locator("#wall-category").click()
            page.get_by_role("option", name="劳资纠纷").click()
        resp.value.finished()
        page.wait_for_function(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        page.wait_for_function(
            "() => window.__clustersAt > window.__pickedAt && window.__pickedAt > 0",
            timeout=30_000,
        )
        outer = time.perf_counter() - t0
        picked, drawn = page.evaluate("[window.__pickedAt, window.__clustersAt]")
        return max(refreshes, default=0), len(refreshes), (drawn - picked) / 1000, outer
    finally:
        context.close()


def _folium_html(db: Path, out: Path) -> int:
    """Write the folium MarkerCluster page of every incident of the demo; return the count."""
    frame = open_store(str(db)).query_incidents(IncidentQuery(), Scope.everything("bench"))
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    west, south, east, north = frame.total_bounds
    m = folium.Map(tiles=None)
    m.options["maxZoom"] = 19  # MarkerCluster needs one; folium sets it on tiles only
    m.fit_bounds([[south, west], [north, east]])
    cluster = MarkerCluster().add_to(m)
    for x, y, i in zip(frame.geometry.x, frame.geometry.y, frame["id"], strict=True):
        folium.CircleMarker([y, x], radius=5, tooltip=str(i)).add_to(cluster)
    m.save(str(out))
    return len(frame)


def _folium_render(browser: Any, html: Path, vendor: dict[str, bytes]) -> tuple[float, float]:
    """(in-page, outer) seconds from navigation to folium's first cluster, in a fresh context."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.add_init_script(_drawn_mark(*FOLIUM_DRAWN))

    def local(route: Any) -> None:
        url = route.request.url
        for suffix, body in vendor.items():
            if url.endswith(suffix):
                kind = "text/css" if suffix.endswith(".css") else "application/javascript"
                route.fulfill(status=200, body=body, content_type=kind)
                return
        route.fulfill(status=200, body="", content_type="text/plain")

    context.route("https://**/*", local)
    page = context.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(html.as_uri(), wait_until="commit")
        return _drawn(page, FOLIUM_DRAWN, t0)
    finally:
        context.close()


def run(quick: bool = False) -> list[Result]:
    from playwright.sync_api import sync_playwright

    n = 20_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.gpkg"
        open_store(str(db)).write_layers(build_demo(7, n_incidents=n))
        try:
            vendor: dict[str, bytes] | None = _vendor()
        except (OSError, subprocess.SubprocessError) as exc:  # no npm, no registry: no peer
            print(f"[bench] folium peer skipped: {exc}", file=sys.stderr)
            vendor = None
        html = Path(tmp) / "folium.html"
        count = _folium_html(db, html)
        folium_mb = html.stat().st_size / 1e6
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("EMBER_CHROMIUM", "/usr/bin/chromium"),
                headless=True,
                args=ARGS,
            )
            try:
                with _served(db) as base:
                    url = base + "/?window=year"
                    cold = _wall_render(browser, url)[0]
                    # Ours and the peer's loads alternate, so that a change in the machine's
                    # background load (a shared 2-core box) falls on both alike.
                    ours: list[tuple[float, float]] = []
                    peers: list[tuple[float, float]] = []
                    for _ in range(3 if quick else 5):
                        time.sleep(SETTLE)
                        ours.append(_wall_render(browser, url))
                        if vendor:
                            time.sleep(SETTLE)
                            peers.append(_folium_render(browser, html, vendor))
                    refresh, polls, latency, latency_outer = _refresh_and_filter(
                        browser, url, REFRESH_WINDOW
                    )
                    reload = _wall_reloads(browser, url)
                warm = statistics.median(t for t, _ in ours)
                peer = statistics.median(t for t, _ in peers) if peers else float("nan")
                outer = statistics.median(o for _, o in ours)
                outer_peer = statistics.median(o for _, o in peers) if peers else float("nan")
            finally:
                browser.close()
    wire, features = HISTORY_SEEN[-1] if HISTORY_SEEN else (0, 0)
    note = (
        f"{count:,} incidents; the map's history layer at the town's zoom: {features:,} "
        f"features (clusters computed on the server), {wire / 1e3:.1f} KB gzipped; "
        f"wall cold server {cold:.2f} s; wall reloaded with the browser's cache warm "
        f"{reload:.2f} s (no peer figure); largest refresh response "
        f"{refresh / 1e3:.1f} KB over {polls} refreshes in {REFRESH_WINDOW:.0f} s (live deltas "
        f"every 5 s, tiles/feed every 30 s); filter change {latency:.2f} s (in the page, from "
        f"the option's click to the new clusters; {latency_outer:.2f} s by the harness, its "
        "clicks included); "
        f"folium page {folium_mb:.1f} MB; timed by Playwright's waits instead: wall "
        f"{outer:.2f} s, folium {outer_peer:.2f} s ({outer_peer / outer:.1f}×)"
    )
    return [
        Result(
            "wall first render",
            f"{count:,} incidents, year window, 1920×1080, headless Chromium",
            warm,
            "folium MarkerCluster page in the same browser",
            peer,
            note,
        )
    ]
