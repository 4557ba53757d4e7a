"""The seed's wage case end to end in headless Chromium, each role signed in through /login
(issue #7, "Done when"): a 110 transfer file arrives (a one-row GBK CSV, ingested) → the
dispatcher dispatches it to a team in /console → the team member arrives and resolves with a
commitment (wages paid by a date) in /me → the callback clerk finds the commitment broken in
/callbacks → reopened → the team member resolves again → the clerk records it kept and satisfied
→ closed. Screenshots of every step in tests/_artifacts/wage_case/; the incident page shows the
whole timeline and the store holds exactly the expected events. Offline: 127.0.0.1 only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.components.callback_cards import RESULT_CLASS
from app.config import Settings
from app.server import create_app
from app.server import serve_in_thread as serve
from incidents.model import State
from ingest.pipeline import ingest_file
from layers.demo import build_demo
from store import GeoPackageStore, IncidentQuery, Scope
from tests._signin import ensure_account, sign_in_page
from tests.app.test_town_map_browser import ARTIFACTS, foreign

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "wage_case"
SOURCE_ID = "J3307842026112800001"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
DESK = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}
#: The 110 transfer as the police send it: GBK, Chinese headers, WGS84 coordinates.
HEADER = "警情编号,报警时间,报警人,联系电话,报警地址,警情类别,简要警情,流转时间," + (
    "管辖单位,经度,纬度,坐标系"
)


def transfer_file(path: Path, now: pd.Timestamp, lon: float, lat: float) -> Path:
    """A one-row 110 transfer file (GBK CSV) of a wage case received five minutes ago."""
    row = [
        SOURCE_ID,
        f"{now - pd.Timedelta(minutes=5):%Y-%m-%d %H:%M:%S}",
        "罗大明",
        "13812345678",
        "演示镇枫川社区1组8号",
        "劳资纠纷",
        "某五金厂拖欠十二名工人三个月工资共七千元，工人聚集厂门口",
        f"{now - pd.Timedelta(minutes=2):%Y-%m-%d %H:%M:%S}",
        "演示镇派出所",
        f"{lon:.6f}",
        f"{lat:.6f}",
        "WGS84",
    ]
    path.write_bytes(f"{HEADER}\r\n{','.join(row)}\r\n".encode("gbk"))
    return path


def _resolve(page: Any, iid: str, what: str, amount: str, due: str) -> None:
    card = page.locator(f"#officer-list-to_handle #officer-task-{iid}")
    card.wait_for(timeout=20_000)
    card.locator("summary").click()
    card.locator("textarea").fill(f"现场调解：{what}")
    inputs = card.locator(".officer-commit input")
    for i, value in enumerate(("某五金厂", what, amount, due)):
        inputs.nth(i).fill(value)
    card.scroll_into_view_if_needed()
    card.locator(".officer-btn-resolve").click()
    page.wait_for_function(
        "document.querySelector('#officer-msg').innerText.includes('处置完毕')", timeout=20_000
    )


def _call_back(page: Any, iid: str, satisfaction: str, kept: str, expect: str, shot: str) -> None:
    page.reload()
    card = page.locator(f"#cb-card-{iid}")
    card.wait_for(timeout=20_000)
    for label in ("已接通", satisfaction, kept):
        card.locator("label", has_text=label).first.click()
    page.wait_for_selector(f"#cb-card-{iid} .cb-will-{RESULT_CLASS[expect]}", timeout=20_000)
    card.locator(".cb-btn-submit").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / shot))
    card.locator(".cb-btn-submit").click()
    page.wait_for_selector(f"#cb-msg .cb-msg-{'warn' if expect == 'reopen' else 'ok'}")


def test_the_wage_case_end_to_end(browser: Any, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    now = pd.Timestamp.now(tz="Asia/Shanghai").floor("s")
    frames = build_demo(7, n_incidents=200, end=now.floor("min") - pd.Timedelta(minutes=10))
    store = GeoPackageStore(tmp_path / "ember.gpkg")
    store.write_layers(frames)
    cell = frames["grid_cells"].iloc[0]
    spot = cell.geometry.representative_point()

    # 1. The 110 transfer file arrives and is ingested (as `ember ingest FILE --format 110`).
    summary = ingest_file(transfer_file(tmp_path / "110.csv", now, spot.x, spot.y), "110", store)
    assert (summary.read, summary.stored, summary.encoding) == (1, 1, "gb18030")
    found = store.query_incidents(IncidentQuery(), Scope.everything("test"))
    iid = str(found.loc[found["source_id"] == SOURCE_ID, "id"].iloc[0])
    assert store.get_incident(iid, Scope.everything("test")).status.state == State.RECEIVED

    ensure_account(store, "zuoxi", "dispatcher")
    ensure_account(store, "huifang", "callback")
    ensure_account(store, "zhihui", "commander")
    app = create_app(Settings(db=store.url).validate())
    yesterday = (now - pd.Timedelta(days=1)).date().isoformat()
    requests: list[str] = []
    errors: list[str] = []

    def context(**kw: Any) -> Any:
        ctx = browser.new_context(**kw)
        ctx.on("request", lambda r: requests.append(r.url))
        ctx.on("page", lambda p: p.on("pageerror", lambda e: errors.append(str(e))))
        return ctx

    with serve(app) as url:
        # 2. The dispatcher signs in, finds it in the queue and dispatches it to a team.
        desk = context(**DESK)
        page = desk.new_page()
        sign_in_page(page, url, "zuoxi", next="/console")
        row = page.locator(".console-queue-row", has_text=iid)
        row.wait_for(timeout=30_000)
        page.screenshot(path=str(SHOTS / "01_dispatcher_queue.png"))
        row.click()
        page.locator("#console-detail h2", has_text=iid).wait_for(timeout=15_000)
        page.locator("#console-detail", has_text="劳资纠纷").wait_for(timeout=15_000)
        page.click("#console-dispatch")
        page.locator("#console-msg", has_text="已派遣").wait_for(timeout=15_000)
        page.screenshot(path=str(SHOTS / "02_dispatcher_dispatched.png"))
        desk.close()
        team = store.get_incident(iid, Scope.everything("test")).status.team_code
        assert team, "dispatched to a team"
        ensure_account(store, "duiyuan", "team", [str(team)])

        # 3. The team member arrives (on the spot) and resolves with a commitment.
        officer_ctx = context(
            **PHONE,
            permissions=["geolocation"],
            geolocation={"longitude": spot.x, "latitude": spot.y, "accuracy": 8},
        )
        officer = officer_ctx.new_page()
        sign_in_page(officer, url, "duiyuan", next="/me")
        officer.locator(f"#officer-task-{iid} .officer-btn-arrive").wait_for(timeout=20_000)
        officer.screenshot(path=str(SHOTS / "03_team_tasks.png"))
        officer.locator(f"#officer-task-{iid} .officer-btn-arrive").click()
        officer.wait_for_selector(".officer-msg-ok", timeout=20_000)
        officer.screenshot(path=str(SHOTS / "04_team_arrived.png"))
        _resolve(officer, iid, "补发拖欠工资", "7000", yesterday)
        officer.screenshot(path=str(SHOTS / "05_team_resolved_with_commitment.png"))

        # 4. The callback clerk calls back: the wages were not paid → reopened in one step.
        clerk_ctx = context(**PHONE)
        clerk = clerk_ctx.new_page()
        sign_in_page(clerk, url, "huifang", next="/callbacks")
        _call_back(clerk, iid, "不满意", "未兑现", "reopen", "06_clerk_commitment_broken.png")
        assert "重开" in clerk.inner_text("#cb-msg")
        clerk.screenshot(path=str(SHOTS / "07_clerk_reopened.png"))

        # 5. The team member resolves again; 6. the clerk finds it kept and satisfied → closed.
        officer.reload()
        _resolve(officer, iid, "补足全部工资", "7000", yesterday)
        officer.screenshot(path=str(SHOTS / "08_team_resolved_again.png"))
        _call_back(clerk, iid, "满意", "已兑现", "close", "09_clerk_kept_satisfied.png")
        clerk.screenshot(path=str(SHOTS / "10_clerk_closed.png"))
        officer_ctx.close()
        clerk_ctx.close()

        # 7. The commander opens the incident page: the whole timeline, in order.
        boss_ctx = context(**DESK)
        boss = boss_ctx.new_page()
        sign_in_page(boss, url, "zhihui", next=f"/incidents/{iid}")
        items = boss.locator(".incident-timeline li")
        boss.wait_for_function(
            "document.querySelectorAll('.incident-timeline li').length >= 7", timeout=20_000
        )
        shown = [items.nth(i).inner_text() for i in range(items.count())]
        boss.screenshot(path=str(SHOTS / "11_incident_timeline.png"), full_page=True)
        boss_ctx.close()

    record = store.get_incident(iid, Scope.everything("test"))
    steps = [(e.action, e.actor) for e in record.events]
    assert steps == [
        ("receive", "ingest"),
        ("dispatch", "zuoxi"),
        ("arrive", "duiyuan"),
        ("resolve", "duiyuan"),
        ("callback", "huifang"),
        ("resolve", "duiyuan"),
        ("callback", "huifang"),
    ], steps
    assert record.events[1].data["team_code"] == team
    status = record.status
    assert status.state == State.CLOSED and status.reopen_count == 1
    assert [c.status for c in status.commitments] == ["broken", "kept"]
    assert status.last_satisfaction == "满意"
    assert len(shown) == len(steps)
    for text, (_action, actor) in zip(shown, steps, strict=True):
        assert actor in text, (text, actor)
    assert not errors, errors
    assert foreign(requests) == [], foreign(requests)
    assert len(list(SHOTS.glob("*.png"))) == 11
