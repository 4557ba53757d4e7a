"""Step 7: an event's incident is checked once per statement, not once per row, and incidents
are never deleted or renumbered.

PostgreSQL checks a foreign key row by row, each check a ``SELECT … FOR KEY SHARE`` that locks
the referenced incident (and writes that lock into its row): ~5 µs an event, 0.5 s of the
server's time when a 100,000-row file is loaded (``bench/bench_ingest.py``), where every
incident gets its receive event. A statement-level trigger reads the statement's new events
(a transition table) and refuses the statement if any names an incident that is not stored —
one anti-join per ``COPY`` of 10,000 events. What the foreign key also guaranteed, that an
incident with events is not deleted or renumbered, triggers on ``incidents`` now guarantee for
every incident: history is never lost (``DESIGN.md``). The refusal keeps the foreign key's
SQLSTATE (23503) and constraint name, so the store reports it as before. The check's function
keeps the schema path of the migration, as the key was bound to its table whatever a session's
``search_path``.
"""

SQL = r"""
ALTER TABLE events DROP CONSTRAINT events_incident_id_fkey;

CREATE FUNCTION ember_events_incident_stored() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  missing text;
BEGIN
  SELECT n.incident_id INTO missing FROM ember_new_events n
    WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = n.incident_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION '事件所属的警情不存在 / an event must belong to a stored incident (%)', missing
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'events_incident_id_fkey';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER events_incident_stored AFTER INSERT ON events
  REFERENCING NEW TABLE AS ember_new_events
  FOR EACH STATEMENT EXECUTE FUNCTION ember_events_incident_stored();

CREATE FUNCTION ember_incidents_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '警情不可删除或改号 / incidents are never deleted or renumbered'
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
  FOR EACH ROW EXECUTE FUNCTION ember_incidents_kept();
CREATE TRIGGER incidents_no_truncate BEFORE TRUNCATE ON incidents
  FOR EACH STATEMENT EXECUTE FUNCTION ember_incidents_kept();
CREATE TRIGGER incidents_keep_id BEFORE UPDATE OF id ON incidents
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ember_incidents_kept();
REVOKE DELETE, TRUNCATE ON incidents FROM PUBLIC;
"""
