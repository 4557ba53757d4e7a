"""The officer view's pieces: the three task lists and their cards (the map:
:mod:`app.components.officer_map`).

Phone first: one column, large touch targets (at least 48 px), high contrast for outdoors
(``assets/officer.css``). Buttons carry the incident id and the version the officer saw
(``{"type": …, "id": …, "v": …}``), so an action based on an old view is refused by the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from app.i18n import Lang, t, t_or
from app.officer_actions import Task, Tasks
from incidents._time import LOCAL_TZ

LISTS = ("to_arrive", "to_handle", "callbacks")


def _local(ts: datetime | None) -> str:
    return "" if ts is None else ts.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")


def category_name(task: Task, lang: Lang) -> str:
    """The task's category in ``lang`` (a category outside the table as stored)."""
    return t_or(f"cat.{task.category}", lang, task.category_zh or task.category)


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


def photo_limit(max_bytes: int, lang: Lang) -> html.Div:
    """Where ``assets/officer.js`` refuses a photo larger than ``max_bytes`` before it is
    sent (over a phone's network, for nothing), saying so in this box; the page's own message
    box belongs to its callbacks. The server refuses such a photo too (``add_photo``)."""
    data: dict[str, Any] = {
        "data-bytes": str(max_bytes),
        "data-message": t("me.photo.too_big", lang, kb=max_bytes // 1024, mb="{mb}"),
    }
    return html.Div(
        id="officer-photo-warn",
        className="officer-msg officer-msg-error officer-photo-warn",
        hidden=True,
        role="alert",
        **data,
    )


def _photo(task: Task, lang: Lang, max_bytes: int) -> dcc.Upload:
    # No ``max_size``: the browser would drop a larger photo silently (no message, no request).
    # ``assets/officer.js`` refuses it with a message (see photo_limit) before dcc.Upload reads
    # it; the server refuses it too (app.officer_photos.add_photo, ``max_bytes``), and Flask's
    # MAX_CONTENT_LENGTH (app.server.request_limit) bounds what it reads at all.
    del max_bytes
    return dcc.Upload(
        html.Div(t("me.photo", lang), className="officer-btn officer-btn-photo"),
        id={"type": "officer-photo", "id": task.id},
        accept="image/jpeg,image/png,image/webp",
        multiple=False,
        className="officer-upload",
    )


def card(task: Task, list_name: str, lang: Lang, max_bytes: int) -> html.Article:
    """One task: what, where, since when; its buttons."""
    facts = [
        html.Div(
            [
                html.Strong(category_name(task, lang)),
                html.Span(task.id),
            ],
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


#: Cards of one list on the page at once, the oldest (or due earliest) first. A department
#: holds ~200 open tasks at a city's volume: every card (~25 components each, forms included)
#: kept a desktop browser busy for ~0.6 s after loading, a phone several times longer. The
#: map shows every task; a card done brings in the next.
CARDS_SHOWN = 30


def task_lists(
    tasks: Tasks, lang: Lang, max_bytes: int, shown: int = CARDS_SHOWN
) -> list[html.Section]:
    """The three lists, each with its count and its first ``shown`` cards; an empty list says
    so."""
    out = []
    for list_name, items in zip(
        LISTS, (tasks.to_arrive, tasks.to_handle, tasks.callbacks), strict=True
    ):
        body: list[Any] = [card(task, list_name, lang, max_bytes) for task in items[:shown]]
        if len(items) > shown:
            body.insert(0, html.P(t("me.shown", lang, shown=shown), className="officer-shown"))
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
