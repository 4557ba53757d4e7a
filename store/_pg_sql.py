"""SQL plumbing of the PostGIS backend: the filter dialect, migrations, COPY, map layers.

Map layers live in the schema ``layers`` (one table each, with an ``fid`` for row order and a
``geometry`` column in EPSG:4326), apart from the incident tables in ``public``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from store import _codec as codec
from store._filters import Dialect
from store.migrations import load, newer_schema
from store.received import CONSTANT, VARYING, ReceivedRows

MIGRATION_LOCK = 0x656D626572  # pg_advisory_xact_lock key ("ember")


def _in_list(column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    return f"{column} = ANY(%s)", [list(values)]


def _bbox(b: tuple[float, float, float, float]) -> tuple[str, list[Any]]:
    return "ST_Intersects(i.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", list(b)


DIALECT = Dialect(ph="%s", in_list=_in_list, bbox=_bbox, time=codec.utc_ms)

INCIDENT_COPY = f"COPY incidents ({', '.join(codec.NAMES)}, geom) FROM STDIN"
EVENT_COPY = f"COPY events ({', '.join(codec.EVENT_COLUMNS)}) FROM STDIN"
AUDIT_COPY = f"COPY audit_log ({', '.join(codec.AUDIT_COLUMNS)}) FROM STDIN"
INSERT_EVENT = codec.insert_sql("events", codec.EVENT_COLUMNS, "%s")
INSERT_AUDIT = codec.insert_sql("audit_log", codec.AUDIT_COLUMNS, "%s")
UPDATE = codec.update_sql("%s", "%s::geometry")
INCIDENT_SELECT = codec.select_sql(codec.NAMES, "ST_X(i.geom)", "ST_Y(i.geom)")
EVENT_SELECT = codec.events_sql("%s")
#: The geometry of query_incidents' rows, after the columns asked for.
QUERY_GEOMETRY = "ST_AsBinary(i.geom)"
FIRST_STORED = (
    "SELECT id, source, source_id FROM incidents WHERE id = ANY(%s) OR (source, source_id) IN "
    "(SELECT * FROM unnest(%s::text[], %s::text[])) LIMIT 1"
)


_RECEIVED_COPY = f"COPY incidents ({', '.join(VARYING)}, {', '.join(CONSTANT)}, geom) FROM STDIN"
_RECEIVE_EVENT_COPY = "COPY events (incident_id, at, actor, data, seq, action, reason) FROM STDIN"


def copy_received(cur: psycopg.Cursor[Any], rows: ReceivedRows) -> None:
    """COPY the incidents, receive events and audit lines of ``rows`` (caller's transaction)."""
    const = tuple(CONSTANT.values())
    with cur.copy(_RECEIVED_COPY) as copy:
        for row, x, y in zip(rows.incidents, rows.lon, rows.lat, strict=True):
            copy.write_row((*row, *const, ewkb_point(x, y)))
    with cur.copy(_RECEIVE_EVENT_COPY) as copy:
        for ev in rows.events:
            copy.write_row((*ev, 1, "receive", ""))
    with cur.copy(AUDIT_COPY) as copy:
        for a in rows.audit:
            copy.write_row(a)


def ewkb_point(lon: float | None, lat: float | None) -> str | None:
    """Hex EWKB of a WGS84 point, as COPY hands it to the geometry type."""
    if lon is None or lat is None:
        return None
    return struct.pack("<BIIdd", 1, 0x20000001, 4326, lon, lat).hex()


def schema_version(conn: psycopg.Connection[Any]) -> int:
    found = conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()
    if not found or found[0] is None:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any], target: int | None = None) -> int:
    """Apply the PostGIS steps not yet recorded (up to ``target``, default all), in one
    transaction under an advisory lock; return the schema version. A database of a newer Ember
    is refused."""
    known = len(load("postgis"))
    steps = load("postgis")[:target]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = schema_version(conn)
        if done > known:
            raise newer_schema(done, known)
        for step in steps[done:]:
            conn.execute(step.sql.encode())  # several statements, no parameters
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (step.version, step.name),
            )
    return max(done, len(steps))


# --- map layers ----------------------------------------------------------------------------


def _pg_type(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp"
    return "text"


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_layer(cur: psycopg.Cursor[Any], name: str, frame: pd.DataFrame) -> None:
    """Replace ``layers.<name>`` with ``frame`` (geometry, if any, in EPSG:4326)."""
    table = sql.Identifier("layers", name)
    geom_name = frame.geometry.name if hasattr(frame, "geometry") else None
    columns = [c for c in frame.columns if c != geom_name]
    defs: list[sql.Composable] = [sql.SQL("fid bigint PRIMARY KEY")]
    defs += [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(frame[c]))) for c in columns
    ]
    geoms: Iterable[Any] = [None] * len(frame)
    if geom_name is not None:
        defs.append(sql.SQL("geometry geometry(Geometry, 4326)"))
        g = (
            frame.geometry.to_crs(4326)
            if frame.crs and frame.crs.to_epsg() != 4326
            else frame.geometry
        )
        geoms = shapely.to_wkb(shapely.set_srid(g.values._data, 4326), hex=True, include_srid=True)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(defs)))
    names = [sql.Identifier("fid"), *map(sql.Identifier, columns)]
    names += [sql.Identifier("geometry")] if geom_name is not None else []
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(names))
    with cur.copy(copy_sql) as copy:
        for i, (row, geom) in enumerate(
            zip(frame[columns].itertuples(index=False), geoms, strict=True)
        ):
            values = [i, *map(_cell, row)]
            copy.write_row([*values, geom] if geom_name is not None else values)


def read_layer(cur: psycopg.Cursor[Any], name: str) -> pd.DataFrame:
    """``layers.<name>`` as written: a GeoDataFrame in EPSG:4326 or a DataFrame."""
    import geopandas as gpd

    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'layers' AND table_name = %s ORDER BY ordinal_position",
        (name,),
    )
    cols = [(c, t) for c, t in cur.fetchall() if c != "fid"]
    has_geom = any(c == "geometry" for c, _ in cols)
    attrs = [(c, t) for c, t in cols if c != "geometry"]
    select: list[sql.Composable] = [sql.Identifier(c) for c, _ in attrs]
    select += [sql.SQL("ST_AsBinary(geometry)")] if has_geom else []
    cur.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY fid").format(
            sql.SQL(", ").join(select), sql.Identifier("layers", name)
        )
    )
    rows = cur.fetchall()
    frame = pd.DataFrame.from_records(
        rows, columns=[c for c, _ in attrs] + (["geometry"] if has_geom else [])
    )
    for c, t in attrs:
        if t == "bigint":
            frame[c] = pd.to_numeric(frame[c]).astype("Int64")
        elif t == "boolean":
            frame[c] = frame[c].astype("boolean")
        elif t == "double precision":
            frame[c] = pd.to_numeric(frame[c]).astype("float64")
        elif t == "timestamp with time zone":
            frame[c] = pd.to_datetime(frame[c], utc=True).astype("datetime64[ms, UTC]")
        elif t == "timestamp without time zone":
            frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ms]")
    if not has_geom:
        return frame
    geoms = shapely.from_wkb([None if b is None else bytes(b) for b in frame.pop("geometry")])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
