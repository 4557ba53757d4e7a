"""Step 7: incidents are never deleted or renumbered (history is never lost, ``DESIGN.md``).

SQLite keeps checking each event's incident with its foreign key (a lookup in the ``id``
index, cheap here; PostgreSQL's step 7 replaces its row-by-row check, see there); this step
gives both backends the same rule on ``incidents`` itself.
"""

SQL = r"""
CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN SELECT RAISE(ABORT, '警情不可删除或改号 / incidents are never deleted or renumbered'); END;
CREATE TRIGGER incidents_keep_id BEFORE UPDATE OF id ON incidents WHEN OLD.id IS NOT NEW.id
BEGIN SELECT RAISE(ABORT, '警情不可删除或改号 / incidents are never deleted or renumbered'); END;
"""
