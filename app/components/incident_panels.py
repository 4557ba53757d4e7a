"""Panels of the incident page (and of the console's detail): plain Dash HTML from the dict of
:func:`app.components.incident_detail.detail`. Data (addresses, names) is never translated."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from app.components.incident_detail import local
from app.i18n import t, t_or
from layers.incidents_layer import CATEGORIES


def notice(text: str, href: str, lang: str) -> html.Div:
    """A full-page message with one link (not signed in, not found)."""
    return html.Div(
        [
            html.P(text, className="incident-notice-text"),
            dcc.Link(t("inc.back", lang), href=href, className="console-btn"),
        ],
        className="incident-notice console-theme",
        lang=lang,
    )


def error(text: str) -> html.Div:
    return html.Div(text, className="console-msg console-msg-error", role="alert")


def category(code: str | None, lang: str) -> str:
    return t_or(f"cat.{code}", lang, CATEGORIES.get(code or "", code or "—"))


def state(code: str, lang: str) -> html.Span:
    return html.Span(t_or(f"state.{code}", lang, code), className=f"console-state state-{code}")


#: Each role's own page, linked from the incident page's header: (path, title message). The
#: console only for the roles it serves (others got "您的角色无权使用坐席台"); none for the wall.
HOME_LINKS: dict[str, tuple[str, str]] = {
    "dispatcher": ("/console", "con.title"),
    "commander": ("/console", "con.title"),
    "admin": ("/console", "con.title"),
    "callback": ("/callbacks", "cb.title"),
    "analyst": ("/reports", "rep.title"),
    "grid": ("/me", "me.title"),
    "beat": ("/me", "me.title"),
    "station": ("/me", "me.title"),
    "team": ("/me", "me.title.tasks"),
    "department": ("/me", "me.title.tasks"),
}


def home_link(role: str | None, lang: str) -> dcc.Link | None:
    """The link to ``role``'s own page, in ``lang`` (kept in the link's ``?lang``)."""
    if role not in HOME_LINKS:
        return None
    path, key = HOME_LINKS[role]
    return dcc.Link(t(key, lang), href=f"{path}?lang={lang}")


def header(body: dict[str, Any], username: str, lang: str, role: str | None = None) -> html.Header:
    flags = []
    if body.get("supervised"):
        flags.append(html.Span(t("flag.supervised", lang), className="console-flag"))
    if body.get("escalation_level"):
        flags.append(
            html.Span(t("con.level", lang, n=body["escalation_level"]), className="console-flag")
        )
    other = "zh" if lang == "en" else "en"
    return html.Header(
        [
            html.H1([f"{t('inc.title', lang)} {body['id']} ", category(body["category"], lang)]),
            state(body["state"], lang),
            *flags,
            html.Span(
                [
                    home_link(role, lang),
                    html.A(t(f"lang.{other}", lang), href=f"?lang={other}"),
                    html.Span(username, className="console-user"),
                    html.A(t("con.logout", lang), href="/logout"),
                ],
                className="console-nav",
            ),
        ],
        className="console-header",
    )


def _row(label: str, value: Any) -> html.Div:
    return html.Div([html.Dt(label), html.Dd(value if value not in (None, "") else "—")])


def facts(body: dict[str, Any], lang: str) -> html.Div:
    """Source, times, address, description, deadline, team, department."""
    src = t_or(f"src.{body['source']}", lang, body["source"])
    rows = [
        _row(t("fact.source", lang), f"{src} {body.get('source_id') or ''}"),
        _row(t("fact.received", lang), local(body.get("received_at"))),
        _row(t("fact.deadline", lang), local(body.get("deadline"))),
        _row(t("fact.address", lang), body.get("address")),
        _row(t("inc.description", lang), body.get("description")),
        _row(t("inc.geocode", lang), _geocode(body, lang)),
        _row(t("inc.team", lang), _named(body.get("team_name"), body.get("team_code"))),
        _row(
            t("inc.department", lang),
            _named(body.get("department_name"), body.get("department_code")),
        ),
    ]
    for c in body.get("commitments", ()):
        amount = f" ¥{c['amount']:,.0f}" if c.get("amount") else ""
        rows.append(
            _row(
                t("inc.commitment", lang),
                f"{c['what']}{amount} · {local(c['due'])} · {c['status']}",
            )
        )
    return html.Div(
        [html.H2(t("inc.facts", lang)), html.Dl(rows, className="console-facts")],
        className="console-card",
    )


def _named(name: str | None, code: str | None) -> str | None:
    """A team or department by its directory name, its code after it: ``第1处置队 (T01)``."""
    if not code:
        return None
    return f"{name} ({code})" if name and name != code else code


def _geocode(body: dict[str, Any], lang: str) -> str:
    """How the incident was placed, in words (``门牌 · 可信度 100%``), never a raw level code."""
    code = body.get("geocode_level")
    level = t_or(f"geo.{code}", lang, str(code)) if code else "—"
    conf = body.get("geocode_confidence")
    text = f"{level} · {t('geo.confidence', lang, p=conf)}" if isinstance(conf, float) else level
    return f"{text} · {t('con.needs_place', lang)}" if body.get("needs_placement") else text


def party_rows(body: dict[str, Any], lang: str) -> list[Any]:
    """The parties as rows (masked or not, as the body says)."""
    rows: list[Any] = [
        html.Li(
            [
                html.B(p["name"] or "—"),
                f" {p['phone'] or '—'} ",
                html.Span(p["id_number"], className="console-muted"),
                html.Span(t("drawer.migrant", lang), className="console-flag")
                if p["residency"] == "migrant"
                else None,
            ],
            className="incident-party",
        )
        for p in body.get("parties", ())
    ]
    note = t("inc.masked", lang) if body.get("masked") else t("inc.unmasked", lang)
    return [
        html.Ul(rows or [html.Li(t("drawer.none", lang))]),
        html.P(note, className="console-muted"),
    ]


def parties(body: dict[str, Any], may_unmask: bool, lang: str) -> html.Div:
    """The parties, masked, with the unmask button for roles that may use it."""
    button = (
        html.Button(t("inc.unmask", lang), id="incident-unmask", className="console-btn")
        if may_unmask
        else html.Span(id="incident-unmask")
    )
    return html.Div(
        [
            html.H2([t("inc.parties", lang), " ", button]),
            html.Div(party_rows(body, lang), id="incident-parties"),
        ],
        className="console-card",
    )


def trinity(body: dict[str, Any], lang: str) -> html.Div:
    """Grid officer, beat officer, nearest station, department and team."""
    tr = body.get("trinity") or {}
    rows = []
    for key, label in (("grid", "role.grid"), ("beat", "role.beat"), ("station", "role.station")):
        p = tr.get(key)
        who = f"{p['unit']} · {p['name'] or '—'} {p['phone']}" if p else "—"
        if key == "station" and p:
            dist = tr.get("station_distance_m")
            crew = t("people.crew", lang, n=p["name"]) if p["name"] else ""
            who = f"{p['unit']} · {crew} {p['phone']}" + (f" · {dist:,.0f} m" if dist else "")
        rows.append(_row(t(label, lang), who))
    dept, team = tr.get("department"), tr.get("team")
    rows.append(_row(t("inc.department", lang), dept[1] if dept else None))
    rows.append(_row(t("inc.team", lang), team[1] if team else None))
    return html.Div(
        [html.H2(t("drawer.people", lang)), html.Dl(rows, className="console-facts")],
        className="console-card",
    )


def timeline(body: dict[str, Any], lang: str) -> html.Div:
    items = [
        html.Li(
            [
                html.Span(local(e["at"]), className="console-time"),
                html.B(t_or(f"act.{e['action']}", lang, e["action"])),
                html.Span(e["actor"], className="console-muted"),
                html.Span(e["reason"]),
            ],
        )
        for e in body.get("timeline", ())
    ]
    return html.Div(
        [html.H2(t("drawer.timeline", lang)), html.Ol(items, className="incident-timeline")],
        className="console-card",
    )


def _incident_links(rows: list[dict[str, Any]], lang: str) -> list[Any]:
    if not rows:
        return [html.Li(t("drawer.none", lang))]
    return [
        html.Li(
            [
                dcc.Link(r["id"], href=f"/incidents/{r['id']}"),
                f" {local(r['received_at'])} ",
                category(r["category"], lang),
                " ",
                state(r["state"], lang),
                html.Span(t("drawer.repeat", lang), className="console-flag")
                if r.get("repeat")
                else None,
            ]
        )
        for r in rows
    ]


def links(body: dict[str, Any], lang: str) -> html.Div:
    """Related (linked, repeat) and nearby incidents within the caller's scope."""
    if "related" not in body:
        return html.Div()
    return html.Div(
        [
            html.H2(t("inc.related", lang)),
            html.Ul(_incident_links(body["related"], lang)),
            html.H2(t("inc.nearby", lang)),
            html.Ul(_incident_links(body["nearby"], lang)),
        ],
        className="console-card",
    )


def audit(body: dict[str, Any], lang: str) -> html.Div:
    if "audit" not in body:
        return html.Div()
    items = [
        html.Li(
            [
                html.Span(local(a["at"]), className="console-time"),
                f" {a['actor']} ",
                html.B(a["action"]),
            ]
        )
        for a in body["audit"]
    ]
    return html.Div(
        [html.H2(t("inc.audit", lang)), html.Ul(items or [html.Li("—")])], className="console-card"
    )


def find_field(id_: str, placeholder: str, class_name: str) -> dcc.Input:
    """A search field that reports its text on Enter or a pause (the callbacks page's and the
    console's finding of an incident by id or address)."""
    return dcc.Input(
        id=id_, type="search", debounce=True, placeholder=placeholder, className=class_name
    )
