"""Officer view on a phone (390×844): sign in, arrive (geolocation), resolve, photo, far warning."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from app.config import Settings
from app.server import create_app
from store import Scope
from tests.app._officer_fixtures import PASSWORD, build_store

pytestmark = pytest.mark.browser


def png(width: int = 8, height: int = 8) -> bytes:
    """A small valid red PNG (built by hand: no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xd0\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + (chunk(b"IEND", b""))
    )


ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"


def _sign_in(page: Any, url: str) -> None:
    """Open /me and sign in as the grid officer wang."""
    page.goto(f"{url}/me")
    page.wait_for_url("**/login**")
    page.fill("#username", "wang")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_officer_on_a_phone(
    browser: Any, town_gpkg: Path, tmp_path: Path,
    live_server: Callable[[Dash], AbstractContextManager[str]],
) -> None:  # fmt: skip
    store = build_store(town_gpkg, tmp_path)
    app = create_app(Settings(db=store.url, photo_dir=str(tmp_path / "photos")).validate())
    ARTIFACTS.mkdir(exist_ok=True)
    with live_server(app) as url:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            geolocation={"longitude": 120.0051, "latitude": 30.0051, "accuracy": 8},
            permissions=["geolocation"],
        )
        page = context.new_page()
        _sign_in(page, url)
        page.wait_for_selector("#officer-list-to_arrive .officer-card", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "officer_1_tasks.png"), full_page=False)
        assert page.locator("#officer-list-to_arrive .officer-card").count() == 2
        box = page.locator("#officer-task-E-A1 .officer-btn-arrive").bounding_box()
        assert box is not None and box["height"] >= 48
        page.locator("#officer-task-E-A1 .officer-btn-arrive").click()
        page.wait_for_selector(".officer-msg-ok", timeout=20_000)
        assert "到场" in page.inner_text("#officer-msg")
        page.wait_for_selector("#officer-list-to_handle #officer-task-E-A1")
        page.screenshot(path=str(ARTIFACTS / "officer_2_arrived.png"))
        card = page.locator("#officer-list-to_handle #officer-task-E-A1")
        card.locator("summary").click()
        card.locator("textarea").fill("双方达成调解协议，厂方承诺补发工资")
        inputs = card.locator("input")
        inputs.nth(0).fill("某五金厂")
        inputs.nth(1).fill("补发工资")
        inputs.nth(2).fill("7000")
        inputs.nth(3).fill("2099-01-31")
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "officer_3_resolve_form.png"))
        card.locator(".officer-btn-resolve").click()
        page.wait_for_function(
            "document.querySelector('#officer-msg') && "
            "document.querySelector('#officer-msg').innerText.includes('处置完毕')",
            timeout=20_000,
        )
        page.screenshot(path=str(ARTIFACTS / "officer_4_resolved.png"))
        upload = page.locator("#officer-task-E-A2 input[type=file]")
        upload.set_input_files(
            files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png()}]
        )
        page.wait_for_function(
            "(() => { const i = document.querySelector('.officer-thumb');"
            " return i && i.complete && i.naturalWidth === 8; })()",
            timeout=20_000,
        )
        page.screenshot(path=str(ARTIFACTS / "officer_5_photo.png"))
        # far arrival: warned in both languages, recorded all the same
        context.set_geolocation({"longitude": 120.02, "latitude": 30.02, "accuracy": 8})
        page.locator("#officer-task-E-A2 .officer-btn-arrive").click()
        page.wait_for_selector(".officer-msg-warn", timeout=20_000)
        text = page.inner_text("#officer-msg")
        assert "米" in text and " m from the incident" in text
        page.screenshot(path=str(ARTIFACTS / "officer_6_far.png"))
        context.close()
    record = store.get_incident("E-A1", Scope.everything())
    assert [e.action for e in record.events][-2:] == ["arrive", "resolve"]
    assert record.events[-2].lon == pytest.approx(120.0051)
    assert record.status.open_commitments[0].commitment.amount == 7000.0
    a2 = store.get_incident("E-A2", Scope.everything()).events
    assert a2[-1].data["far"] is True and a2[-2].data["photos"][0]["type"] == "image/png"
    assert len(list((tmp_path / "photos" / "E-A2").glob("*.png"))) == 1


def test_a_photo_too_large_is_refused_in_the_browser_with_a_message(
    browser: Any, town_gpkg: Path, tmp_path: Path,
    live_server: Callable[[Dash], AbstractContextManager[str]],
) -> None:  # fmt: skip
    """Past the server's request limit a photo got a bare 413 and no word on the page; any
    photo over the limit is refused before it is sent, saying so; a smaller one goes through."""
    store = build_store(town_gpkg, tmp_path)
    limit = 60_000
    settings = Settings(db=store.url, photo_dir=str(tmp_path / "photos"), photo_max_bytes=limit)
    with live_server(create_app(settings.validate())) as url:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = context.new_page()
        posts: list[int] = []
        page.on(
            "request",
            lambda r: (
                posts.append(len(r.post_data_buffer or b""))
                if r.method == "POST" and "_dash-update-component" in r.url
                else None
            ),
        )
        _sign_in(page, url)
        page.wait_for_selector("#officer-task-E-A2", timeout=20_000)
        upload = page.locator("#officer-task-E-A2 input[type=file]")
        big = png() + b"\x00" * (3 * limit)  # 0.2 MB
        upload.set_input_files(files=[{"name": "big.png", "mimeType": "image/png", "buffer": big}])
        warn = page.locator("#officer-photo-warn")
        warn.wait_for(state="visible", timeout=10_000)
        assert "0.2 MB" in warn.inner_text() and "58 KB" in warn.inner_text()
        page.screenshot(path=str(ARTIFACTS / "officer_7_photo_too_large.png"))
        page.wait_for_timeout(500)
        assert all(size < limit for size in posts)  # never sent
        # dropped onto the upload's box (no change event: the drop itself is checked)
        page.evaluate("document.querySelector('#officer-photo-warn').hidden = true")
        dropped = page.evaluate_handle(
            """(size) => { const dt = new DataTransfer();
                 dt.items.add(new File([new Uint8Array(size)], 'big.png', {type: 'image/png'}));
                 return dt; }""",
            3 * limit,
        )
        box = page.locator("#officer-task-E-A2 .officer-upload")
        for kind in ("dragenter", "dragover", "drop"):
            box.dispatch_event(kind, {"dataTransfer": dropped})
        warn.wait_for(state="visible", timeout=10_000)
        page.wait_for_timeout(500)
        assert all(size < limit for size in posts)
        upload.set_input_files(
            files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png()}]
        )
        page.wait_for_selector(".officer-thumb", timeout=20_000)
        assert warn.is_hidden()
        context.close()
    events = store.get_incident("E-A2", Scope.everything()).events
    assert [len(e.data.get("photos", [])) for e in events if e.action == "note"] == [1]
