"""Open311 GeoReport v2 under ``/open311/v2/`` (http://wiki.open311.org/GeoReport_v2).

Services are Ember's first-level categories (``service_code`` = category code), each with one
optional attribute, ``subcategory``. ``POST requests`` needs an ``api_key`` of a role that may
act (not analyst, wall or police liaison) and goes through the ingest pipeline
(:func:`ingest.pipeline.ingest_records`, format ``open311``): geocoded, assigned, deduplicated,
or quarantined for a person to look at (then only a ``token`` is returned, 202), as is a
request placed outside the key's scope (a grid officer's key: its own grid cells). ``GET
requests`` and ``GET requests/{id}`` need an API key or a signed-in session and answer within its
scope, with the caller's personal data left out; without either they are refused (403), as is
an unknown or disabled key. A POST sent again with the same ``Idempotency-Key`` header answers
as the first did (:mod:`app.api._idempotency`). ``GET tokens/{token}`` needs nothing: a token
is an unguessable value only its poster knows, and the answer is only the request id.

Ember's states map to ``open``/``closed`` (closed = 办结 closed or 退回 returned) with the state
in ``status_notes``; ``agency_responsible`` is the department, else the team, else the centre.
Errors are ``[{code, description}]`` (``<errors><error>`` in XML) with 400, 403, 404 or 422.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from flask import Blueprint, Response, request

from app.api import _idempotency as once
from app.api._auth import Caller, KeyRefused, caller, refuse_bad_key
from app.api._common import (
    incident_by_id,
    incidents_by_id,
    iso,
    json_response,
    plain,
    query_public,
    state,
)
from app.api._open311_input import Open311Error, caller_name, coordinate, post_params
from app.api._params import YEARS, instant
from app.api._xml import document
from incidents.model import State
from incidents.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from ingest.pipeline import ingest_records
from store import IncidentNotFound, IncidentQuery, StoreBusy

bp = Blueprint("ember_open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json, xml):fmt>"
WINDOW = timedelta(days=90)
MAX_ROWS = 1000
CLOSED = {State.CLOSED.value, State.RETURNED.value}
CENTRE = "镇非警务事项协同处置中心 / town non-police affairs centre"
TAXONOMY: Taxonomy = DEFAULT_TAXONOMY


def _fmt() -> str:
    return str((request.view_args or {}).get("fmt", "json"))


def _respond(body: Any, root: str, item: str | None, status: int = 200) -> Response:
    if _fmt() == "xml":
        return Response(document(root, item, body), status=status, mimetype="text/xml")
    return json_response(body, status)


def error_response(code: int, description: str) -> Response:
    """``[{code, description}]`` (or ``<errors>``) with HTTP status ``code``."""
    return _error(Open311Error(code, description))


@bp.before_request
def _key_check() -> None:
    refuse_bad_key(state().store)


@bp.errorhandler(Open311Error)
def _error(exc: Open311Error) -> Response:
    return _respond(
        [{"code": exc.code, "description": exc.description}], "errors", "error", exc.code
    )


@bp.errorhandler(KeyRefused)
def _refused(exc: KeyRefused) -> Response:
    return _error(Open311Error(403, str(exc)))


@bp.errorhandler(StoreBusy)
def _busy(exc: StoreBusy) -> Response:
    """Another writer held the store past its wait: nothing stored, the client may retry."""
    response = _error(Open311Error(503, str(exc)))
    response.headers["Retry-After"] = "5"
    return response


@bp.errorhandler(IncidentNotFound)
def _not_found(exc: IncidentNotFound) -> Response:
    return _error(
        Open311Error(404, f"服务请求不存在 / service_request_id not found: {exc.incident_id}")
    )


def _service(code: str) -> dict[str, Any]:
    cat = TAXONOMY.get(code)
    return {
        "service_code": cat.code,
        "service_name": f"{cat.zh} / {cat.en}",
        "description": f"{cat.zh}（非警务事项）/ {cat.en} (non-police affairs)",
        "metadata": bool(TAXONOMY.subcategories(code)),
        "type": "realtime",
        "keywords": ",".join(cat.aliases),
        "group": "非警务事项 / non-police affairs",
    }


def _check_format(fmt: str) -> None:
    if fmt not in ("json", "xml"):
        raise Open311Error(404, f"格式只能是 json 或 xml / format is json or xml: {fmt!r}")


def _known_service(code: str) -> str:
    if code not in TAXONOMY:
        raise Open311Error(404, f"服务代码不存在 / service_code not found: {code!r}")
    return code


@bp.get(f"/services.{FMT}")
def services(fmt: str) -> Response:
    return _respond([_service(c) for c in TAXONOMY.codes], "services", "service")


@bp.get(f"/services/<code>.{FMT}")
def service_definition(code: str, fmt: str) -> Response:
    _known_service(code)
    subs = TAXONOMY.subcategories(code)
    attributes = [
        {
            "variable": True,
            "code": "subcategory",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "细类代码 / subcategory code",
            "order": 1,
            "description": "细类 / subcategory",
            "values": [{"key": s.code, "name": f"{s.zh} / {s.en}"} for s in subs],
        }
    ]
    body = {"service_code": code, "attributes": attributes if subs else []}
    return _respond(body, "service_definition", None)


# --- reading requests ---------------------------------------------------------------------


def _reader() -> Caller:
    who = caller(state().store)
    if who.anonymous:
        raise Open311Error(
            403, "需要 api_key 或登录 / an api_key (or a signed-in session) is required"
        )
    return who


def _agency(row: dict[str, Any]) -> str:
    if row.get("department_code"):
        code = str(row["department_code"])
        return state().names("departments").get(code, code)
    if row.get("team_code"):
        code = str(row["team_code"])
        return state().names("teams").get(code, code)
    return CENTRE


def _request_doc(row: dict[str, Any], lon: float | None, lat: float | None) -> dict[str, Any]:
    st = str(row.get("state") or "received")
    times = [
        row.get(c)
        for c in (
            "received_at",
            "dispatched_at",
            "on_scene_at",
            "resolved_at",
            "standing_resolved_at",
            "callback_at",
            "closed_at",
            "returned_at",
        )
    ]
    known = [t for t in times if t is not None and not pd.isna(t)]
    zh = State(st).zh if st in State.__members__.values() else st
    return {
        "service_request_id": row["id"],
        "status": "closed" if st in CLOSED else "open",
        "status_notes": f"{zh} / {st.replace('_', ' ')}",
        "service_name": TAXONOMY.get(row["category"]).zh if row["category"] in TAXONOMY else "",
        "service_code": row["category"],
        "description": row.get("description") or "",
        "agency_responsible": _agency(row),
        "service_notice": "",
        "requested_datetime": iso(row.get("received_at")),
        "updated_datetime": iso(max(known)) if known else None,
        "expected_datetime": iso(row.get("deadline")),
        "address": row.get("address") or "",
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def _docs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for i in range(len(frame)):
        raw = frame.iloc[i].to_dict()
        row = {k: v if isinstance(v, pd.Timestamp) else plain(v) for k, v in raw.items()}
        geom = frame.geometry.iloc[i]
        lon = None if geom is None or geom.is_empty else round(float(geom.x), 7)
        lat = None if geom is None or geom.is_empty else round(float(geom.y), 7)
        row.pop("geometry", None)
        out.append(_request_doc(row, lon, lat))
    return out


def _date(name: str) -> datetime | None:
    text = request.args.get(name)
    if text is None:
        return None
    at = instant(text)
    if at is None:
        raise Open311Error(
            400,
            f"{name} 须为 {YEARS[0]}–{YEARS[-1]} 年的 W3C 时间 / {name} must be a W3C datetime "
            f"in {YEARS[0]}–{YEARS[-1]}: {text!r}",
        )
    return at


def _positive(name: str, default: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= high:
        raise Open311Error(400, f"{name} 须为 1–{high} 的整数 / {name} must be 1..{high}")
    return int(text)


def _split(name: str) -> list[str]:
    return [p.strip() for p in request.args.get(name, "").split(",") if p.strip()]


@bp.get("/requests.<fmt>")  # any text: the POST rule takes any, so must this (else 405)
def requests_list(fmt: str) -> Response:
    """Requests by id (which overrides the other filters) or by window, code and status."""
    _check_format(fmt)
    who = _reader()
    start, end = _date("start_date"), _date("end_date")
    if start is not None and end is not None and end - start > WINDOW:
        raise Open311Error(400, "时间范围不能超过 90 天 / start_date..end_date spans over 90 days")
    if start is not None and end is not None and end < start:
        raise Open311Error(400, "end_date 早于 start_date / end_date is before start_date")
    if end is None:
        end = start + WINDOW if start is not None else datetime.now(UTC)
    if start is None:
        start = end - WINDOW
    codes = tuple(_split("service_code"))
    for code in codes:
        _known_service(code)
    given = request.args.get("status")
    statuses = set() if given is None else set(given.split(","))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status 只能是 open 或 closed / status is open or closed")
    page_size = _positive("page_size", MAX_ROWS, MAX_ROWS)
    page = _positive("page", 1, 10**6)
    ids = _split("service_request_id")
    if ids:  # overrides the other filters (which must still be well-formed)
        found = incidents_by_id(ids[:MAX_ROWS], who.scope)
        return _respond(_docs(found), "service_requests", "request")
    states: tuple[str, ...] = ()
    if statuses == {"closed"}:
        states = tuple(sorted(CLOSED))
    elif statuses == {"open"}:
        states = tuple(s.value for s in State if s.value not in CLOSED)
    query = IncidentQuery(
        received_from=start,
        received_to=end,
        categories=codes,
        states=states,
        newest_first=True,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return _respond(_docs(query_public(query, who.scope)), "service_requests", "request")


@bp.get(f"/requests/<rid>.{FMT}")
def request_one(rid: str, fmt: str) -> Response:
    who = _reader()
    return _respond(_docs(incident_by_id(rid, who.scope)), "service_requests", "request")


@bp.get(f"/tokens/<token>.{FMT}")
def token(token: str, fmt: str) -> Response:
    done, held = once.request_state(state().store, token)
    body: list[dict[str, str | None]]
    if done is not None:
        body = [{"service_request_id": done, "token": token}]
    elif held is not None:
        # held for review (the 202 of the POST): no request id yet, the token is known
        notice = "已转人工核实，尚无服务请求编号 / held for review: no service_request_id yet"
        body = [{"service_request_id": None, "token": token, "service_notice": notice}]
    else:
        raise Open311Error(404, f"令牌不存在 / token not found: {token!r}")
    return _respond(body, "service_requests", "request")


# --- creating requests --------------------------------------------------------------------


def _record(params: dict[str, str], token: str) -> dict[str, str]:
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code / service_code is required")
    _known_service(code)
    lat, lon = coordinate(params, "lat", 90), coordinate(params, "long", 180)
    address = params.get("address_string", "").strip() or params.get("address_id", "").strip()
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat 与 long 须同时提供 / give both lat and long")
    if lat is None and not address:
        raise Open311Error(
            400, "须提供 lat/long 或 address_string / lat and long, or address_string, required"
        )
    sub = params.get("attribute[subcategory]", "").strip()
    if sub and sub not in {s.code for s in TAXONOMY.subcategories(code)}:
        raise Open311Error(400, f"细类无效 / attribute[subcategory] is not valid: {sub!r}")
    description = params.get("description", "").strip() or TAXONOMY.get(code).zh
    return {
        "token": token,
        "requested_datetime": datetime.now(UTC).isoformat(),
        "service_code": f"{code}.{sub}" if sub else code,
        "description": description,
        "address_string": address,
        "lat": "" if lat is None else repr(lat),
        "long": "" if lon is None else repr(lon),
        "caller_name": caller_name(params.get("first_name", ""), params.get("last_name", "")),
        "phone": params.get("phone", "").strip(),
        "media_url": params.get("media_url", "").strip(),
    }


@bp.post("/requests.<fmt>")
def create(fmt: str) -> Response:
    """Create a service request through the ingest pipeline."""
    _check_format(fmt)
    params = post_params()
    key = params.get("api_key") or request.headers.get("X-API-Key") or request.args.get("api_key")
    if not key:
        raise Open311Error(403, "缺少 api_key / api_key is required")
    who = caller(state().store, key.strip())
    if who.scope.read_only:
        raise Open311Error(403, "该 api_key 只能查看 / this api_key may not create requests")
    st = state()
    idem = once.idempotency_key(request.headers.get(once.HEADER))  # a client's retry
    token = secrets.token_hex(10) if idem is None else once.request_token(who.name, idem)
    record = _record(params, token)
    if idem is not None:
        done, held = once.earlier(st.store, token, record["service_code"], record["description"])
        if done is not None:
            return _created(done)
        if held is not None:
            return _held(token, held.reason_en)
    summary = ingest_records(
        [record],
        "open311",
        st.store,
        st.context(),
        label=f"open311:{who.name}",
        actor=f"apikey:{who.name}",
        keep_outcomes=True,
        batch_size=1,
        scope=who.scope,  # a grid officer's key places requests in its own cells only
    )
    outcome = summary.outcomes[0] if summary.outcomes else None
    if outcome is not None and outcome.incident_id and outcome.outcome != "quarantined":
        return _created(outcome.incident_id)
    reasons = "; ".join(str(p.get("en", "")) for p in (outcome.problems if outcome else ()))
    return _held(token, reasons)


def _created(incident_id: str) -> Response:
    body = [{"service_request_id": incident_id, "service_notice": "", "account_id": None}]
    return _respond(body, "service_requests", "request", 201)


def _held(token: str, reasons: str) -> Response:
    notice = f"已转人工核实 / held for review: {reasons}".rstrip(": ")
    body = [{"token": token, "service_notice": notice, "account_id": None}]
    return _respond(body, "service_requests", "request", 202)


@bp.get("/<path:rest>")
def unknown(rest: str) -> Response:
    """Anything else under the prefix: a GeoReport error, not the Dash page."""
    raise Open311Error(404, f"没有此接口 / no such resource: {rest!r}")
