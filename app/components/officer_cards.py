"""The officer view's pieces: the area map, the three task lists and their cards.

Phone first: one column, large touch targets (at least 48 px), high contrast for outdoors
(``assets/officer.css``). Buttons carry the incident id and the version the officer saw
(``{"type": …, "id": …, "v": …}``), so an action based on an old view is refused by the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from app.basemap import Basemap
from app.components.town_map import TownData, basemap_overlays
from app.i18n import Lang, t
from app.officer_actions import Task, Tasks
from incidents._time import LOCAL_TZ
from store import User

MAP_ID = "officer-map"
POINTS_ID = "officer-points"
#: Role -> (layer, property holding the area code) drawn as "my area".
AREA_LAYERS = {
    "grid": ("grid_cells", "code"),
    "beat": ("police_beats", "code"),
    "station": ("fire_station_coverage", "station_code"),
}
LISTS = ("to_arrive", "to_handle", "callbacks")


def _local(ts: datetime | None) -> str:
    return "" if ts is None else ts.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")


def area_collection(data: TownData, account: User) -> dict[str, Any]:
    """The account's areas as GeoJSON (grid cells, beat, station coverage; none for teams and
    departments, whose area is where their incidents are)."""
    layer = AREA_LAYERS.get(account.role)
    if layer is None:
        return {"type": "FeatureCollection", "features": []}
    name, prop = layer
    codes = set(account.areas)
    features = data.layers.get(name, {"features": []})["features"]
    return {
        "type": "FeatureCollection",
        "features": [f for f in features if str(f["properties"].get(prop)) in codes],
    }


def task_points(tasks: Tasks, display: Any) -> dict[str, Any]:
    """The tasks as display-coordinate points, tagged with their list."""
    features = []
    for list_name, items in zip(
        LISTS, (tasks.to_arrive, tasks.to_handle, tasks.callbacks), strict=True
    ):
        for task in items:
            if task.lon is None or task.lat is None:
                continue
            x, y = display.point(task.lon, task.lat)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {"id": task.id, "list": list_name, "label": task.category_zh},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _bounds(area: dict[str, Any], points: dict[str, Any], data: TownData) -> list[list[float]]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for part in c:
                walk(part)

    for f in [*area["features"], *points["features"]]:
        if f.get("geometry"):
            walk(f["geometry"]["coordinates"])
    if not xs:
        west, south, east, north = data.bounds
    else:
        west, south, east, north = min(xs), min(ys), max(xs), max(ys)
    pad = 0.002
    return [[south - pad, west - pad], [north + pad, east + pad]]


def area_map(
    data: TownData, basemap: Basemap | str, area: dict[str, Any], points: dict[str, Any]
) -> dl.Map:
    """A light map of my area with my task points (red: to arrive, orange: to handle, blue:
    callbacks)."""
    layers: list[Any] = [
        dl.GeoJSON(
            data=area,
            style={"color": "#003f88", "weight": 3, "fillColor": "#4cc9f0", "fillOpacity": 0.15},
            interactive=False,
            id="officer-area",
        ),
        dl.GeoJSON(
            data=points,
            pointToLayer={"variable": "dashExtensions.officer.taskToLayer"},
            id=POINTS_ID,
        ),
    ]
    overlays = basemap_overlays(basemap)
    children = [dl.LayersControl(overlays, collapsed=True)] if overlays else []
    return dl.Map(
        [*children, *layers, dl.ScaleControl(position="bottomleft", imperial=False)],
        id=MAP_ID,
        className="officer-map",
        bounds=_bounds(area, points, data),
        trackViewport=False,
        zoomSnap=0.5,
        maxZoom=20,
        attributionControl=False,
    )


def _field(kind: str, task: Task, label: str, **props: Any) -> html.Label:
    component = props.pop("component", dcc.Input)
    return html.Label(
        [html.Span(label), component(id={"type": kind, "id": task.id}, **props)],
        className="officer-field",
    )


def _resolve_form(task: Task, lang: Lang) -> html.Details:
    """Result text and one optional commitment (承诺: who, what, amount, due)."""
    return html.Details(
        [
            html.Summary(t("me.resolve.open", lang), className="officer-summary"),
            _field(
                "officer-result",
                task,
                t("me.result", lang),
                component=dcc.Textarea,
                placeholder=t("me.result.hint", lang),
                className="officer-input officer-text",
            ),
            html.Fieldset(
                [
                    html.Legend(t("me.commit", lang)),
                    _field(
                        "officer-c-who",
                        task,
                        t("me.commit.who", lang),
                        type="text",
                        className="officer-input",
                    ),
                    _field(
                        "officer-c-what",
                        task,
                        t("me.commit.what", lang),
                        type="text",
                        className="officer-input",
                    ),
                    _field(
                        "officer-c-amount",
                        task,
                        t("me.commit.amount", lang),
                        type="number",
                        min=0,
                        inputMode="decimal",
                        className="officer-input",
                    ),
                    _field(
                        "officer-c-due",
                        task,
                        t("me.commit.due", lang),
                        type="date",
                        className="officer-input",
                    ),
                ],
                className="officer-commit",
            ),
            html.Button(
                t("me.resolve", lang),
                id={"type": "officer-resolve", "id": task.id, "v": task.version},
                className="officer-btn officer-btn-resolve",
                n_clicks=0,
            ),
        ],
        className="officer-resolve-form",
    )


def _photo(task: Task, lang: Lang, max_bytes: int) -> dcc.Upload:
    return dcc.Upload(
        html.Div(t("me.photo", lang), className="officer-btn officer-btn-photo"),
        id={"type": "officer-photo", "id": task.id},
        accept="image/jpeg,image/png,image/webp",
        max_size=max_bytes,
        multiple=False,
        className="officer-upload",
    )


def card(task: Task, list_name: str, lang: Lang, max_bytes: int) -> html.Article:
    """One task: what, where, since when; its buttons."""
    facts = [
        html.Div(
            [html.Strong(task.category_zh or task.category), html.Span(task.id)],
            className="officer-card-head",
        ),
        html.Div(task.address, className="officer-card-addr"),
        html.Div(task.description, className="officer-card-desc"),
        html.Div(
            f"{t('me.received', lang)} {_local(task.received_at)}"
            + (f" · {t('me.deadline', lang)} {_local(task.deadline)}" if task.deadline else "")
            + (f" · {t('me.due', lang)} {task.due.isoformat()}" if task.due else ""),
            className="officer-card-time",
        ),
        html.A(t("me.detail", lang), href=f"/incidents/{task.id}", className="officer-link"),
    ]
    actions: list[Any] = []
    if list_name == "to_arrive":
        actions.append(
            html.Button(
                t("me.arrive", lang),
                id={"type": "officer-arrive", "id": task.id, "v": task.version},
                className="officer-btn officer-btn-arrive",
                n_clicks=0,
            )
        )
    if list_name == "to_handle":
        actions.append(_resolve_form(task, lang))
    actions.append(_photo(task, lang, max_bytes))
    return html.Article(
        [*facts, html.Div(actions, className="officer-actions")],
        className=f"officer-card officer-card-{list_name}",
        id=f"officer-task-{task.id}",
    )


def task_lists(tasks: Tasks, lang: Lang, max_bytes: int) -> list[html.Section]:
    """The three lists, each with its count; an empty list says so."""
    out = []
    for list_name, items in zip(
        LISTS, (tasks.to_arrive, tasks.to_handle, tasks.callbacks), strict=True
    ):
        body: list[Any] = [card(task, list_name, lang, max_bytes) for task in items]
        if not body:
            body = [html.P(t("me.empty", lang), className="officer-empty")]
        out.append(
            html.Section(
                [html.H2(f"{t(f'me.list.{list_name}', lang)} ({len(items)})"), *body],
                className=f"officer-list officer-list-{list_name}",
                id=f"officer-list-{list_name}",
            )
        )
    return out
