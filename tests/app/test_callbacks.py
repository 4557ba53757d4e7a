"""Callback view 回访: what is due, the outcome in one step (reopen when unsatisfied or broken)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import officer_actions as actions
from app.auth import scope_for
from app.components import callback_cards as cards
from app.config import Settings
from app.server import create_app
from incidents._time import local_date
from incidents.model import State
from store import IncidentStore, Scope
from tests.app._officer_fixtures import GRID_A, build_store, login

CJK = re.compile(r"[\u3400-\u9fff]")

CLERK = scope_for("callback", [], "hui")


@pytest.fixture
def store(town_gpkg: Path, tmp_path: Path) -> Iterator[IncidentStore]:
    s = build_store(town_gpkg, tmp_path)
    officer = scope_for("grid", [GRID_A], "wang")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for iid in ("E-A1", "E-A2"):
        actions.arrive(s, officer, iid, 2, None)
        c = actions.parse_commitment("某厂", "补发工资", 3000, yesterday)
        actions.resolve(s, officer, iid, 3, "调解成功", [c] if c else [])
    yield s
    s.close()


def test_due_today_lists_commitment_callbacks(store: IncidentStore) -> None:
    today = local_date(datetime.now(UTC))
    due = actions.due_callbacks(store, CLERK, today)
    assert [r.incident.id for r, _ in due] == ["E-A1", "E-A2"]
    assert all(d <= today for _, d in due)
    assert actions.due_callbacks(store, scope_for("grid", ["X"], "x"), today) == []


@pytest.mark.parametrize(("lang", "want"), [("zh", "满意"), ("en", "satisfied")])
def test_the_card_speaks_one_language(store: IncidentStore, lang: str, want: str) -> None:
    today = local_date(datetime.now(UTC))
    record, due = actions.due_callbacks(store, CLERK, today)[0]
    page = cards.card(record, due, today, lang, may_unmask=False)  # type: ignore[arg-type]
    radios = [n for n in page._traverse() if getattr(n, "className", "") == "cb-radio"]
    labels = [o["label"] for r in radios for o in r.options]
    assert want in labels, labels
    if lang == "en":  # values stay as stored (满意 …), labels are English only
        assert not [x for x in labels if CJK.search(x)], labels
    # an organisation (某厂) is no personal data: shown as written, masked or not
    commitment = "某厂: 补发工资 · CNY 3,000" if lang == "en" else "某厂：补发工资 · 3,000 元"
    assert commitment in str(page.to_plotly_json()), commitment
    record = store.get_incident("E-A1", scope_for("callback", [], "hui", unmask=True))
    page = cards.card(record, due, today, lang, may_unmask=True)  # type: ignore[arg-type]
    assert commitment in str(page.to_plotly_json())


def test_broken_commitment_reopens_in_one_step(store: IncidentStore) -> None:
    done = actions.record_callback(store, CLERK, "E-A1", 4, True, "基本满意", {0: False})
    assert done.result == "reopen" and done.status.state == State.REOPENED
    assert [c.status for c in done.status.commitments] == ["broken"]
    assert store.events("E-A1", Scope.everything())[-1].actor == "hui"


def test_unsatisfied_reopens_kept_and_satisfied_closes(store: IncidentStore) -> None:
    assert actions.record_callback(store, CLERK, "E-A1", 4, True, "不满意", {0: True}).result == (
        "reopen"
    )
    done = actions.record_callback(store, CLERK, "E-A2", 4, True, "满意", {0: True})
    assert done.result == "close" and done.status.state == State.CLOSED


def test_unreached_keeps_it_due_and_bad_input_is_refused(store: IncidentStore) -> None:
    done = actions.record_callback(store, CLERK, "E-A1", 4, False)
    assert done.result == "continue" and done.status.state == State.CALLBACK_DUE
    with pytest.raises(actions.ActionError):
        actions.record_callback(store, CLERK, "E-A2", 4, True, None)


def test_preview_matches_the_recorded_result() -> None:
    assert actions.preview_result(False, None, [None]) == "continue"
    assert actions.preview_result(True, "满意", [False]) == "reopen"
    assert actions.preview_result(True, "不满意", []) == "reopen"
    assert actions.preview_result(True, "满意", [True]) == "close"
    assert actions.preview_result(True, "满意", [None]) == "continue"
    assert actions.preview_result(True, None, []) == "incomplete"


def test_callbacks_page_is_for_clerks(store: IncidentStore, tmp_path: Path) -> None:
    client: FlaskClient = create_app(Settings(db=store.url).validate()).server.test_client()
    login(client, "wang")
    assert client.get("/callbacks").status_code == 403
    login(client, "hui")
    assert client.get("/callbacks").status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_the_queue_s_first_cards_under_the_full_count(
    store: IncidentStore, lang: str
) -> None:
    today = local_date(datetime.now(UTC))
    due = actions.due_callbacks(store, CLERK, today)
    assert len(due) == 2
    whole = cards.card_list(due, today, lang, may_unmask=False)  # type: ignore[arg-type]

    def kinds(items: list[Any]) -> list[str]:
        return [getattr(c, "className", "").split()[0] for c in items]

    assert kinds(whole) == ["cb-count", "cb-card", "cb-card"]
    first = cards.card_list(due, today, lang, may_unmask=False, shown=1)  # type: ignore[arg-type]
    assert kinds(first) == ["cb-count", "cb-shown", "cb-card"]
    assert "2" in first[0].children and "1" in first[1].children  # all due; how many shown
    assert first[2].id == whole[1].id  # the one due earliest
    assert 0 < cards.CARDS_SHOWN <= 30


def test_find_narrows_the_list_by_id_or_address(store: IncidentStore) -> None:
    today = local_date(datetime.now(UTC))
    due = actions.due_callbacks(store, CLERK, today)
    a2 = next(r for r, _ in due if r.incident.id == "E-A2")
    assert cards.matches(a2, "e-a2") and not cards.matches(a2, "E-A1")
    address = a2.status.address or a2.incident.address
    assert address and cards.matches(a2, address[-3:])
    found = cards.card_list(due[1:], today, "en", may_unmask=False, found=True)  # type: ignore[arg-type]
    assert found[0].children == "1 due callbacks found"
    none = cards.card_list([], today, "zh", may_unmask=False, found=True)
    assert none[0].children == "没有找到相符的待回访事项"


def _submit(
    client: FlaskClient,
    iid: str,
    version: int,
    entered: dict[str, dict[str, Any]],
    find: str | None = None,
) -> dict[str, Any]:
    """POST the page's submit callback as dash-renderer would: ``iid``'s button pressed (or,
    with ``find``, that typed in the find box), with what was ``entered`` on each card
    (incident id -> reached, sat, check, note)."""
    ids = ("E-A1", "E-A2")

    def states(kind: str, key: str, extra: dict[str, Any] | None = None) -> list[Any]:
        return [
            {"id": {"id": i, "type": kind, **(extra or {})}, "property": "value",
             "value": entered.get(i, {}).get(key)}
            for i in ids
        ]  # fmt: skip

    buttons = [
        {"id": {"id": i, "type": "cb-submit", "v": 4}, "property": "n_clicks",
         "value": 1 if i == iid else 0}
        for i in ids
    ]  # fmt: skip
    buttons[ids.index(iid)]["id"]["v"] = version
    body = {
        "output": "..cb-msg.children...cb-list.children..",
        "outputs": [
            {"id": "cb-msg", "property": "children"},
            {"id": "cb-list", "property": "children"},
        ],
        "inputs": [buttons, {"id": cards.FIND_ID, "property": "value", "value": find}],
        "state": [
            states("cb-reached", "reached"),
            states("cb-sat", "sat"),
            states("cb-check", "check", {"i": 0}),
            states("cb-note", "note"),
            {"id": "cb-lang", "property": "children", "value": "zh"},
        ],
        "changedPropIds": [
            f"{cards.FIND_ID}.value"
            if find is not None
            else json.dumps({"id": iid, "type": "cb-submit", "v": version}, separators=(",", ":"))
            + ".n_clicks"
        ],
    }
    token = client.get_cookie("_csrf_token")
    assert token is not None
    got = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    assert got.status_code == 200, got.get_data(as_text=True)
    return dict(got.get_json()["response"])


def _entered(children: Any) -> dict[str, Any]:
    """The values of the fields in a rendered list, by id (JSON, keys sorted); and the submit
    buttons' ids under ``"buttons"``."""
    values: dict[str, Any] = {"buttons": []}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            key = props.get("id") if isinstance(props, dict) else None
            if isinstance(key, dict) and key.get("type") == "cb-submit":
                values["buttons"].append(key)
            if isinstance(key, dict) and "value" in props:
                values[json.dumps(key, sort_keys=True)] = props["value"]
            for v in (props or node).values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(children)
    return values


def _field(iid: str, kind: str, **extra: Any) -> str:
    return json.dumps({"id": iid, "type": kind, **extra}, sort_keys=True)


def test_a_refused_submit_keeps_what_was_entered(store: IncidentStore) -> None:
    """A refused submit (nothing chosen) leaves the list alone: what the clerk entered on every
    card stays; a stale one (someone else acted first) draws the cards again with the
    incident's version now and everything entered kept, so that submitting again works
    without a reload; a recorded one keeps the other cards' input."""
    client: FlaskClient = create_app(Settings(db=store.url).validate()).server.test_client()
    login(client, "hui")
    client.get("/callbacks")
    other = {"E-A2": {"reached": "yes", "sat": "不满意", "check": "broken", "note": "再联系"}}
    nothing = _submit(client, "E-A1", 4, {"E-A1": {"note": "打了两次"}, **other})
    assert "请先选择是否接通" in json.dumps(nothing["cb-msg"], ensure_ascii=False)
    assert "cb-list" not in nothing  # not re-rendered: the entered values stay
    mine = {"reached": "yes", "sat": "满意", "check": "kept", "note": "好"}
    stale = _submit(client, "E-A1", 3, {"E-A1": mine, **other})
    assert "已被他人更新" in json.dumps(stale["cb-msg"], ensure_ascii=False)
    assert [e.action for e in store.events("E-A1", Scope.everything())][-1] == "resolve"
    drawn = _entered(stale["cb-list"]["children"])
    assert {"id": "E-A1", "type": "cb-submit", "v": 4} in drawn["buttons"]  # the version now
    assert drawn[_field("E-A1", "cb-note")] == "好" and drawn[_field("E-A1", "cb-sat")] == "满意"
    assert drawn[_field("E-A2", "cb-note")] == "再联系"
    done = _submit(client, "E-A1", 4, {"E-A1": mine, **other})
    assert store.events("E-A1", Scope.everything())[-1].action == "callback"
    values = _entered(done["cb-list"]["children"])
    assert values[_field("E-A2", "cb-note")] == "再联系"
    assert values[_field("E-A2", "cb-sat")] == "不满意"
    assert values[_field("E-A2", "cb-check", i=0)] == "broken"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_find_fields_search_on_a_pause(lang: str) -> None:
    """The find fields of /callbacks and /console search when typing pauses (~0.6 s), not
    only on Enter or leaving the field (``debounce=True``)."""
    from app.components import console_panels

    for field in (cards.find_box(lang), console_panels.find_box(lang)):  # type: ignore[arg-type]
        assert field.debounce == cards.FIND_PAUSE, field.id
        assert isinstance(field.debounce, float) and 0.3 <= field.debounce <= 1.0


def test_finding_keeps_what_was_entered_on_the_cards_found(store: IncidentStore) -> None:
    """Typing in the find box drew the list again and wiped what the clerk had entered."""
    client: FlaskClient = create_app(Settings(db=store.url).validate()).server.test_client()
    login(client, "hui")
    client.get("/callbacks")
    entered = {"E-A2": {"reached": "yes", "sat": "不满意", "note": "再联系"}}
    found = _submit(client, "E-A1", 4, entered, find="E-A")
    assert "cb-msg" not in found
    values = _entered(found["cb-list"]["children"])
    assert values[_field("E-A2", "cb-note")] == "再联系"
    assert values[_field("E-A2", "cb-sat")] == "不满意"
