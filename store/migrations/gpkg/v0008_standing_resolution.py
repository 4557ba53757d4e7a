"""Step 8: the standing resolution, ``standing_resolved_at``, next to the first one.

``resolved_at`` (the layer's 处置完毕时间) keeps an incident's *first* resolution after a reopen;
on-time resolution and overdue (docs/kpi.md) are about the *standing* one: the latest
resolution, none while the incident is reopened and not resolved again (the status's
``resolved_at``, which the fold clears on a reopen). The new column holds it, written with the
projection from now on.

Existing rows are filled from their events. The state machine (``incidents._transitions``) only
reaches ``resolved``, ``callback_due`` and ``closed`` through a ``resolve``, and leaves them only
by a reopen (a ``reopen``, or a callback that reopens), which clears the standing resolution:
so an incident in one of those states stands resolved at its latest ``resolve`` event, and
any other has no standing resolution. A plain nullable DATETIME column added at the end of the
feature table: GDAL and QGIS read it as one more attribute.
"""

SQL = r"""
ALTER TABLE incidents ADD COLUMN standing_resolved_at DATETIME;
UPDATE incidents SET standing_resolved_at = (
    SELECT e.at FROM events e WHERE e.incident_id = incidents.id AND e.action = 'resolve'
    ORDER BY e.seq DESC LIMIT 1)
  WHERE state IN ('resolved', 'callback_due', 'closed');
UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE table_name = 'incidents';
"""
