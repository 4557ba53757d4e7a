"""SQL ``WHERE`` clauses for a query and a scope, shared by the backends.

Each backend supplies a :class:`Dialect`: its parameter marker, how it tests membership, how it
intersects a bounding box with its spatial index, and how it writes a time. The scope is always
part of the SQL, never a filter applied in Python afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from store.base import AREA_FIELDS, IncidentQuery, Scope

_QUERY_CODES = (*AREA_FIELDS, "categories", "sources", "states", "ids")
_COLUMN = {
    "ids": "id",
    "categories": "category",
    "sources": "source",
    "states": "state",
    **{f: f.removesuffix("s") for f in AREA_FIELDS},
}


@dataclass(frozen=True)
class Dialect:
    """How one backend spells the pieces of a filter (``alias`` prefixes incident columns)."""

    ph: str
    in_list: Callable[[str, Sequence[str]], tuple[str, list[Any]]]
    bbox: Callable[[tuple[float, float, float, float]], tuple[str, list[Any]]]
    time: Callable[[datetime], Any]
    false: str = "FALSE"
    alias: str = "i."
    #: ``LIMIT`` without a bound (SQLite has no ``LIMIT ALL``, PostgreSQL refuses ``-1``).
    no_limit: str = "ALL"


def scope_clause(scope: Scope, d: Dialect) -> tuple[str, list[Any]]:
    """``(sql, params)`` admitting exactly the incidents within ``scope``."""
    parts: list[str] = []
    params: list[Any] = []
    if not scope.all:
        ors = []
        for name in AREA_FIELDS:
            values = getattr(scope, name)
            if values:
                sql, p = d.in_list(d.alias + _COLUMN[name], values)
                ors.append(sql)
                params += p
        parts.append(f"({' OR '.join(ors)})" if ors else d.false)
    if scope.sources is not None:
        if scope.sources:
            sql, p = d.in_list(d.alias + "source", scope.sources)
            parts.append(sql)
            params += p
        else:
            parts.append(d.false)
    return " AND ".join(parts) or "TRUE", params


def query_clause(query: IncidentQuery, scope: Scope, d: Dialect) -> tuple[str, list[Any]]:
    """``(sql, params)`` for the incidents matching ``query`` within ``scope``."""
    sql, params = scope_clause(scope, d)
    parts = [sql]
    if query.bbox is not None:
        s, p = d.bbox(query.bbox)
        parts.append(s)
        params += p
    if query.received_from is not None:
        parts.append(f"{d.alias}received_at >= {d.ph}")
        params.append(d.time(query.received_from))
    if query.received_to is not None:
        parts.append(f"{d.alias}received_at < {d.ph}")
        params.append(d.time(query.received_to))
    if query.changed_since is not None:
        parts.append(f"{d.alias}last_event_at > {d.ph}")
        params.append(d.time(query.changed_since))
    if query.after is not None:
        # the index on received_at bounds the range; the id breaks ties in the page order
        way = "<" if query.newest_first else ">"
        t = f"{d.alias}received_at"
        parts.append(f"{t} {way}= {d.ph} AND ({t} {way} {d.ph} OR {d.alias}id {way} {d.ph})")
        at = d.time(query.after[0])
        params += [at, at, str(query.after[1])]
    for name in _QUERY_CODES:
        values = [str(v) for v in getattr(query, name)]
        if values:
            s, p = d.in_list(d.alias + _COLUMN[name], values)
            parts.append(s)
            params += p
    return " AND ".join(parts), params


def order_page(query: IncidentQuery, d: Dialect) -> str:
    """`` ORDER BY … LIMIT … OFFSET …`` of the query's order and page (integers checked by
    :class:`IncidentQuery`, so written as literals)."""
    way = " DESC" if query.newest_first else ""
    sql = f" ORDER BY {d.alias}received_at{way}, {d.alias}id{way}"
    if query.limit is not None or query.offset:
        limit = d.no_limit if query.limit is None else str(int(query.limit))
        sql += f" LIMIT {limit} OFFSET {int(query.offset)}"
    return sql


def count_sql(query: IncidentQuery, scope: Scope, d: Dialect) -> tuple[str, list[Any]]:
    """``(sql, params)`` counting the incidents matching ``query`` within ``scope``."""
    where, params = query_clause(replace(query, after=None), scope, d)
    return f"SELECT count(*) FROM incidents {d.alias.rstrip('.')} WHERE {where}", params
