"""Incidents (point feature table), events (attribute table), audit log, in a GeoPackage 1.4.

The GeoPackage core tables are created only when the file does not have them yet (GDAL writes
the same DDL). ``incidents`` is registered in ``gpkg_contents`` / ``gpkg_geometry_columns`` with
the R-tree spatial index extension and its standard triggers, so GDAL and QGIS open it as a point
layer; its first columns are those of the ``incidents`` layer spec. ``events`` is registered as
an attribute table. ``audit_log`` is deliberately not registered (it is not map data, and its
times are wall-clock). ``events`` and ``audit_log`` refuse UPDATE and DELETE.
"""

SQL = r"""
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,srs_id INTEGER NOT NULL
  PRIMARY KEY,organization TEXT NOT NULL,organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,description TEXT);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined Cartesian SRS', -1, 'NONE', -1, 'undefined',
   'undefined Cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',
   'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",'
   || '6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM['
   || '"Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY['
   || '"EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,data_type TEXT
  NOT NULL,identifier TEXT UNIQUE,description TEXT DEFAULT '',last_change DATETIME NOT NULL
  DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),min_x DOUBLE, min_y DOUBLE,max_x DOUBLE,
  max_y DOUBLE,srs_id INTEGER,CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES
  gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL,column_name TEXT
  NOT NULL,geometry_type_name TEXT NOT NULL,srs_id INTEGER NOT NULL,z TINYINT NOT NULL,m TINYINT
  NOT NULL,CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),CONSTRAINT
  uk_gc_table_name UNIQUE (table_name),CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES
  gpkg_contents(table_name),CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES
  gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT,column_name TEXT,extension_name
  TEXT NOT NULL,definition TEXT NOT NULL,scope TEXT NOT NULL,CONSTRAINT ge_tce UNIQUE
  (table_name, column_name, extension_name));

CREATE TABLE incidents (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  received_at DATETIME NOT NULL,
  category TEXT,
  category_zh TEXT,
  subcategory TEXT,
  description TEXT NOT NULL,
  address TEXT NOT NULL,
  geocode_level TEXT,
  grid_code TEXT,
  village_code TEXT,
  beat_code TEXT,
  station_code TEXT,
  involves_migrant BOOLEAN NOT NULL,
  caller_name TEXT,
  caller_phone TEXT,
  caller_id_number TEXT,
  priority TEXT NOT NULL,
  team_code TEXT,
  department_code TEXT,
  state TEXT NOT NULL CHECK (state IN ('received', 'dispatched', 'on_scene', 'resolved',
    'callback_due', 'closed', 'returned', 'reopened', 'escalated')),
  dispatched_at DATETIME,
  on_scene_at DATETIME,
  resolved_at DATETIME,
  callback_at DATETIME,
  closed_at DATETIME,
  satisfaction TEXT,
  commitment_amount REAL,
  commitment_due DATETIME,
  commitment_kept BOOLEAN,
  reopened BOOLEAN NOT NULL,
  repeat_of TEXT,
  version INTEGER NOT NULL CHECK (version >= 1),
  deadline DATETIME,
  town_code TEXT,
  supervised BOOLEAN NOT NULL,
  escalation_level INTEGER NOT NULL,
  returned_at DATETIME,
  reopen_count INTEGER NOT NULL,
  callback_count INTEGER NOT NULL,
  last_event_at DATETIME NOT NULL,
  related TEXT NOT NULL,
  geocode_confidence REAL,
  parties TEXT NOT NULL,
  intake TEXT NOT NULL,
  UNIQUE (source, source_id)
);
CREATE INDEX incidents_received_at ON incidents (received_at);
CREATE INDEX incidents_grid_code ON incidents (grid_code);
CREATE INDEX incidents_beat_code ON incidents (beat_code);
CREATE INDEX incidents_state ON incidents (state);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('incidents', 'features', 'incidents', '非警务事项 / non-police incidents', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('incidents', 'geom', 'POINT', 4326, 0, 0);

CREATE VIRTUAL TABLE rtree_incidents_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('incidents', 'geom', 'gpkg_rtree_index',
  'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER rtree_incidents_geom_insert AFTER INSERT ON incidents
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update6 AFTER UPDATE OF geom ON incidents
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
    AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN
  UPDATE rtree_incidents_geom SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom),
    miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid;
END;
CREATE TRIGGER rtree_incidents_geom_update7 AFTER UPDATE OF geom ON incidents
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
    AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN
  INSERT INTO rtree_incidents_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update2 AFTER UPDATE OF geom ON incidents
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_incidents_geom_update5 AFTER UPDATE ON incidents
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid,
    ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update4 AFTER UPDATE ON incidents
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_incidents_geom_delete AFTER DELETE ON incidents WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
END;

CREATE TABLE events (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  action TEXT NOT NULL,
  at DATETIME NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  lon REAL,
  lat REAL,
  data TEXT NOT NULL DEFAULT '{}',
  UNIQUE (incident_id, seq)
);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('events', 'attributes', 'events', '事项事件 / incident events', 0);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  incident_id TEXT,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_incident ON audit_log (incident_id);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, '事件只能追加 / events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, '事件只能追加 / events are append-only'); END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '审计日志只能追加 / audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '审计日志只能追加 / audit_log is append-only'); END;
"""
