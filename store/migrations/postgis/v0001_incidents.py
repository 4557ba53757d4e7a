"""Incidents, events and the audit log in PostGIS; a schema ``layers`` for the map layers.

Time-range queries: a btree on ``received_at`` (not partitions). A town adds ~6,000 incidents a
year and a city ~100,000, so a decade is ~1M rows, where an index range scan costs O(log n + k);
monthly partitions would also force ``received_at`` into every unique key, and (source,
source_id) must stay unique across all time. Beyond a city, Citus distributes by region code.

``events`` and ``audit_log`` are append-only: triggers refuse UPDATE, DELETE and TRUNCATE even
for the table owner; give the application role only SELECT and INSERT on them.
"""

SQL = r"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS layers;

CREATE TABLE incidents (
  id text PRIMARY KEY,
  source text NOT NULL,
  source_id text NOT NULL,
  received_at timestamptz NOT NULL,
  category text,
  category_zh text,
  subcategory text,
  description text NOT NULL,
  address text NOT NULL,
  geocode_level text,
  grid_code text,
  village_code text,
  beat_code text,
  station_code text,
  involves_migrant boolean NOT NULL,
  caller_name text,
  caller_phone text,
  caller_id_number text,
  priority text NOT NULL,
  team_code text,
  department_code text,
  state text NOT NULL CHECK (state IN ('received', 'dispatched', 'on_scene', 'resolved',
    'callback_due', 'closed', 'returned', 'reopened', 'escalated')),
  dispatched_at timestamptz,
  on_scene_at timestamptz,
  resolved_at timestamptz,
  callback_at timestamptz,
  closed_at timestamptz,
  satisfaction text,
  commitment_amount double precision,
  commitment_due timestamptz,
  commitment_kept boolean,
  reopened boolean NOT NULL,
  repeat_of text,
  version integer NOT NULL CHECK (version >= 1),
  deadline timestamptz,
  town_code text,
  supervised boolean NOT NULL,
  escalation_level integer NOT NULL,
  returned_at timestamptz,
  reopen_count integer NOT NULL,
  callback_count integer NOT NULL,
  last_event_at timestamptz NOT NULL,
  related jsonb NOT NULL,
  geocode_confidence double precision,
  parties jsonb NOT NULL,
  intake jsonb NOT NULL,
  geom geometry(Point, 4326),
  CONSTRAINT incidents_source_key UNIQUE (source, source_id)
);
CREATE INDEX incidents_geom ON incidents USING gist (geom);
CREATE INDEX incidents_received_at ON incidents (received_at);
CREATE INDEX incidents_grid_code ON incidents (grid_code);
CREATE INDEX incidents_beat_code ON incidents (beat_code);
CREATE INDEX incidents_state ON incidents (state);
COMMENT ON TABLE incidents IS '非警务事项 / non-police incidents (intake + current status)';
COMMENT ON COLUMN incidents.parties IS 'personal data: mask before showing';

CREATE TABLE events (
  incident_id text NOT NULL REFERENCES incidents (id),
  seq integer NOT NULL CHECK (seq >= 1),
  action text NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  reason text NOT NULL DEFAULT '',
  lon double precision,
  lat double precision,
  data jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (incident_id, seq)
);

CREATE TABLE audit_log (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL,
  action text NOT NULL,
  incident_id text,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_incident ON audit_log (incident_id);

CREATE FUNCTION ember_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% 只能追加 / % is append-only', TG_TABLE_NAME, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION ember_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION ember_append_only();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION ember_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION ember_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON events, audit_log FROM PUBLIC;
"""
