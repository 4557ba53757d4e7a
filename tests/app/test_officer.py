"""Officer view 我的网格: use cases within scope, the page's route and the photo route."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import officer_actions as actions
from app.auth import scope_for
from app.components import officer_cards as cards
from app.config import Settings
from app.server import create_app
from incidents.model import State
from store import IncidentNotFound, IncidentStore, ReadOnlyScope
from tests.app._officer_fixtures import ALL, GRID_A, build_store, jpeg, login


@pytest.fixture
def store(town_gpkg: Path, tmp_path: Path) -> Iterator[IncidentStore]:
    s = build_store(town_gpkg, tmp_path)
    yield s
    s.close()


@pytest.fixture
def settings(store: IncidentStore, tmp_path: Path) -> Settings:
    return Settings(db=store.url, photo_dir=str(tmp_path / "photos")).validate()


@pytest.fixture
def client(settings: Settings) -> FlaskClient:
    return create_app(settings).server.test_client()


def wang() -> object:
    return scope_for("grid", [GRID_A], "wang")


def test_tasks_are_those_of_my_grid(store: IncidentStore) -> None:
    tasks = actions.my_tasks(store, wang())  # type: ignore[arg-type]
    assert sorted(t.id for t in tasks.to_arrive) == ["E-A1", "E-A2"]
    assert tasks.to_handle == () and tasks.callbacks == ()
    team = actions.my_tasks(store, scope_for("team", ["T01"], "team1"))
    assert len(team.to_arrive) == 3


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_long_list_shows_its_first_cards_under_the_full_count(
    store: IncidentStore, lang: str
) -> None:
    team = actions.my_tasks(store, scope_for("team", ["T01"], "team1"))
    arrive = cards.task_lists(team, lang, 1000)[0]  # type: ignore[arg-type]
    shown = cards.task_lists(team, lang, 1000, shown=2)[0]  # type: ignore[arg-type]
    assert arrive.children[0].children == shown.children[0].children  # "(3)": all of them
    assert "(3)" in shown.children[0].children
    assert [getattr(c, "className", "").split()[0] for c in shown.children[1:]] == [
        "officer-shown", "officer-card", "officer-card",
    ]  # fmt: skip
    assert [c.id for c in shown.children[2:]] == [c.id for c in arrive.children[1:3]]
    assert len(arrive.children) == 4  # within the default: every card, no line


def test_arrive_near_and_far(store: IncidentStore) -> None:
    near = actions.arrive(store, wang(), "E-A1", 2, {"lon": 120.0051, "lat": 30.0051})  # type: ignore[arg-type]
    assert near.status.state == State.ON_SCENE and not near.far
    assert near.distance_m is not None and near.distance_m < 50
    far = actions.arrive(store, wang(), "E-A2", 2, {"lon": 120.02, "lat": 30.02})  # type: ignore[arg-type]
    assert far.far and far.distance_m is not None and far.distance_m > 500
    event = store.events("E-A2", ALL)[-1]
    assert event.action == "arrive" and event.lon == 120.02 and event.data["far"] is True


def test_arrive_without_position_is_recorded(store: IncidentStore) -> None:
    got = actions.arrive(store, wang(), "E-A1", 2, {"error": "1"})  # type: ignore[arg-type]
    assert got.distance_m is None and got.status.state == State.ON_SCENE
    assert store.events("E-A1", ALL)[-1].data["position"] == "unavailable"


def test_officer_cannot_act_on_another_grid(store: IncidentStore, tmp_path: Path) -> None:
    with pytest.raises(IncidentNotFound):
        actions.arrive(store, wang(), "E-B1", 2, None)  # type: ignore[arg-type]
    with pytest.raises(IncidentNotFound):
        actions.add_photo(
            store,
            wang(),
            "E-B1",
            jpeg(),
            photo_dir=tmp_path,
            max_bytes=10_000,  # type: ignore[arg-type]
        )
    assert not (tmp_path / "E-B1").exists()
    with pytest.raises(ReadOnlyScope):
        actions.arrive(store, scope_for("analyst", [], "ana"), "E-A1", 2, None)


def test_resolve_with_commitment(store: IncidentStore) -> None:
    actions.arrive(store, wang(), "E-A1", 2, None)  # type: ignore[arg-type]
    c = actions.parse_commitment("某厂", "补发工资", "7000", "2099-01-31")
    assert c is not None and c["amount"] == 7000.0
    status = actions.resolve(store, wang(), "E-A1", 3, "双方达成协议", [c])  # type: ignore[arg-type]
    assert status.state == State.RESOLVED
    assert [r.commitment.amount for r in status.open_commitments] == [7000.0]
    with pytest.raises(actions.ActionError):
        actions.parse_commitment("", "工资", "", "")
    with pytest.raises(actions.ActionError):
        actions.resolve(store, wang(), "E-A1", 4, "  ")  # type: ignore[arg-type]


def test_photo_types_and_size(store: IncidentStore, tmp_path: Path) -> None:
    name = actions.add_photo(store, wang(), "E-A1", jpeg(), photo_dir=tmp_path, max_bytes=10_000)  # type: ignore[arg-type]
    assert (tmp_path / "E-A1" / name).is_file() and name.endswith(".jpg")
    note = store.events("E-A1", ALL)[-1]
    assert note.action == "note" and note.data["photos"][0]["file"] == name
    with pytest.raises(actions.ActionError, match="JPEG"):
        actions.add_photo(
            store, wang(), "E-A1", b"GIF89a....", photo_dir=tmp_path, max_bytes=10_000
        )  # type: ignore[arg-type]
    with pytest.raises(actions.ActionError, match="KB"):
        actions.add_photo(store, wang(), "E-A1", jpeg(20_000), photo_dir=tmp_path, max_bytes=10_000)  # type: ignore[arg-type]
    assert actions.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert actions.sniff(b"\x89PNG\r\n\x1a\n") == "image/png"


def test_me_needs_a_signed_in_officer(client: FlaskClient) -> None:
    response = client.get("/me", headers={"Accept": "text/html"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "hui")  # a callback clerk is not an officer
    assert client.get("/me").status_code == 403
    login(client, "wang")
    assert client.get("/me").status_code == 200


def test_photos_are_served_within_scope_only(
    client: FlaskClient, store: IncidentStore, settings: Settings
) -> None:
    mine = actions.add_photo(
        store, wang(), "E-A1", jpeg(), photo_dir=settings.photo_dir, max_bytes=10_000
    )  # type: ignore[arg-type]
    other = actions.add_photo(
        store, scope_for("grid", ["330784199002001"], "li"), "E-B1", jpeg(300),
        photo_dir=settings.photo_dir, max_bytes=10_000,
    )  # fmt: skip
    assert client.get(f"/photos/E-A1/{mine}").status_code == 401  # not signed in
    login(client, "wang")
    got = client.get(f"/photos/E-A1/{mine}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg" and got.data == jpeg()
    assert client.get(f"/photos/E-B1/{other}").status_code == 404
    assert client.get("/photos/E-A1/secret_key").status_code == 404
    assert client.get(f"/photos/E-A1/{other}").status_code == 404  # not this incident's photo


def _forged_arrival(client: FlaskClient, incident_id: str) -> str:
    """POST the page's action callback as dash-renderer would, for ``incident_id``."""
    outs = [
        {"id": "officer-msg", "property": "children"},
        {"id": "officer-tasks", "property": "children"},
        {"id": "officer-points", "property": "data"},
    ]
    body = {
        "output": "..officer-msg.children...officer-tasks.children...officer-points.data..",
        "outputs": outs,
        "inputs": [
            {
                "id": "officer-arrival",
                "property": "data",
                "value": {"id": incident_id, "v": 2, "lon": 120.025, "lat": 30.005},
            },
            [],
            [],
        ],
        "state": [[], [], [], [], [], {"id": "officer-lang", "property": "data", "value": "en"}],
        "changedPropIds": ["officer-arrival.data"],
    }
    client.get("/me")
    token = client.get_cookie("_csrf_token")
    assert token is not None
    got = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    assert got.status_code == 200, got.get_data(as_text=True)
    return got.get_data(as_text=True)


def test_a_forged_callback_cannot_reach_another_grid(
    client: FlaskClient, store: IncidentStore
) -> None:
    login(client, "wang")
    answer = _forged_arrival(client, "E-B1")
    assert "No such incident within your scope" in answer
    assert [e.action for e in store.events("E-B1", ALL)] == ["receive", "dispatch"]
    assert "Arrival recorded" in _forged_arrival(client, "E-A1")
    assert store.events("E-A1", ALL)[-1].actor == "wang"


def _action_call(
    pressed: list[Any], photos: list[Any], state: list[Any], lang: str, changed: Any, prop: str
) -> dict[str, Any]:
    """The body dash-renderer posts for the page's action callback: the buttons ``pressed``
    and ``photos`` uploaded (pattern-matched inputs), the resolve forms' ``state``, the page
    language, and which input changed."""
    return {
        "output": "..officer-msg.children...officer-tasks.children...officer-points.data..",
        "outputs": [
            {"id": "officer-msg", "property": "children"},
            {"id": "officer-tasks", "property": "children"},
            {"id": "officer-points", "property": "data"},
        ],
        "inputs": [{"id": "officer-arrival", "property": "data", "value": None}, pressed, photos],
        "state": [*state, {"id": "officer-lang", "property": "data", "value": lang}],
        "changedPropIds": [json.dumps(changed, separators=(",", ":")) + "." + prop],
    }


def _resolve(client: FlaskClient, incident_id: str, version: int, typed: dict[str, Any]) -> Any:
    """POST the page's action callback as dash-renderer would: 处置完毕 pressed on
    ``incident_id``'s card with the ``typed`` fields (result, who, what, amount, due)."""
    fields = ("result", "c-who", "c-what", "c-amount", "c-due")
    button = {"id": incident_id, "type": "officer-resolve", "v": version}
    state: list[Any] = [
        [{"id": {"id": incident_id, "type": f"officer-{f}"}, "property": "value",
          "value": typed.get(f)}]
        for f in fields
    ]  # fmt: skip
    pressed = [{"id": button, "property": "n_clicks", "value": 1}]
    body = _action_call(pressed, [], state, "zh", button, "n_clicks")
    client.get("/me")
    token = client.get_cookie("_csrf_token")
    assert token is not None
    got = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    assert got.status_code == 200, got.get_data(as_text=True)
    return got.get_json()["response"]


def test_a_refused_resolve_keeps_the_open_form(client: FlaskClient, store: IncidentStore) -> None:
    """A refused 处置完毕 (a commitment without its due date) says why and leaves the cards as
    they are: the open form and what the officer typed stay."""
    actions.arrive(store, wang(), "E-A1", 2, None)  # type: ignore[arg-type]
    login(client, "wang")
    typed = {"result": "双方达成协议", "c-who": "某厂", "c-what": "补发工资"}
    refused = _resolve(client, "E-A1", 3, typed)
    assert "承诺须填写内容和期限" in json.dumps(refused["officer-msg"], ensure_ascii=False)
    assert "officer-tasks" not in refused and "officer-points" not in refused
    assert store.events("E-A1", ALL)[-1].action == "arrive"
    done = _resolve(client, "E-A1", 3, {**typed, "c-due": "2099-01-31"})
    assert "officer-tasks" in done and store.events("E-A1", ALL)[-1].action == "resolve"


def test_a_photo_too_large_is_refused_with_a_message(store: IncidentStore, tmp_path: Path) -> None:
    """The browser sends a photo of any size (``dcc.Upload`` without ``max_size`` dropped a
    larger one silently); the server says it is too large, and reads no body beyond its limit."""
    import base64

    from app.server import request_limit

    settings = Settings(db=store.url, photo_dir=str(tmp_path / "p"), photo_max_bytes=2048)
    app = create_app(settings.validate())
    tasks = actions.my_tasks(store, wang())  # type: ignore[arg-type]
    uploads = [
        n
        for n in cards.task_lists(tasks, "zh", 2048)[0]._traverse()
        if type(n).__name__ == "Upload"
    ]
    assert uploads and all(getattr(u, "max_size", -1) == -1 for u in uploads)
    client = app.server.test_client()
    login(client, "wang")
    client.get("/me")
    token = client.get_cookie("_csrf_token")
    assert token is not None

    def upload(content: bytes) -> Any:
        data = "data:image/jpeg;base64," + base64.b64encode(content).decode()
        target = {"id": "E-A1", "type": "officer-photo"}
        photo = [{"id": target, "property": "contents", "value": data}]
        body = _action_call([], photo, [[], [], [], [], []], "en", target, "contents")
        headers = {"X-CSRFToken": token.value}
        return client.post("/_dash-update-component", json=body, headers=headers)

    got = upload(jpeg(3000))
    assert got.status_code == 200
    said = json.dumps(got.get_json(), ensure_ascii=False)
    assert "照片超过 2 KB / the photo is larger than 2 KB" in said
    assert app.server.config["MAX_CONTENT_LENGTH"] == request_limit(settings) > 2 * 2048
    assert upload(jpeg(request_limit(settings))).status_code == 413
    assert store.events("E-A1", ALL)[-1].action == "dispatch"


def test_a_stale_resolve_draws_the_cards_again_with_what_was_typed(
    client: FlaskClient, store: IncidentStore
) -> None:
    """Someone else acted on the incident since the card was drawn: the resolve is refused
    and the cards come back with the incident's version now, the form open with what the
    officer typed, so that pressing again works without reloading the page."""
    actions.arrive(store, wang(), "E-A1", 2, None)  # type: ignore[arg-type]
    login(client, "wang")
    typed = {"result": "双方达成协议", "c-who": "某厂", "c-what": "补发工资", "c-due": "2099-01-31"}
    stale = _resolve(client, "E-A1", 2, typed)  # drawn before the arrival
    text = json.dumps(stale, ensure_ascii=False)
    assert "已被他人更新" in text and store.events("E-A1", ALL)[-1].action == "arrive"
    assert '"v": 3' in text and '"type": "officer-resolve"' in text  # the version now
    assert "双方达成协议" in text and "补发工资" in text and '"open": true' in text
    done = _resolve(client, "E-A1", 3, typed)
    assert "officer-tasks" in done and store.events("E-A1", ALL)[-1].action == "resolve"


def test_a_photo_keeps_the_resolve_form_typed_on_its_card(
    client: FlaskClient, store: IncidentStore
) -> None:
    """A photo added while the resolve form is half typed: the cards are drawn again (the
    version moved) and the form keeps what was typed, open; only a resolve clears it."""
    actions.arrive(store, wang(), "E-A1", 2, None)  # type: ignore[arg-type]
    login(client, "wang")
    client.get("/me")
    token = client.get_cookie("_csrf_token")
    assert token is not None
    target = {"id": "E-A1", "type": "officer-photo"}
    data = "data:image/jpeg;base64," + base64.b64encode(jpeg(500)).decode()
    photo = [{"id": target, "property": "contents", "value": data}]
    typed = [
        [{"id": {"id": "E-A1", "type": "officer-result"}, "property": "value",
          "value": "双方达成协议"}],
        [], [], [], [],
    ]  # fmt: skip
    body = _action_call([], photo, typed, "zh", target, "contents")
    got = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token.value})
    text = json.dumps(got.get_json()["response"], ensure_ascii=False)
    assert "照片已保存" in text and store.events("E-A1", ALL)[-1].action == "note"
    assert "双方达成协议" in text and '"open": true' in text
