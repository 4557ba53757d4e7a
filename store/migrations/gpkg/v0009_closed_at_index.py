"""Step 9: an index on ``closed_at``, for repeat-call candidates.

A new call may repeat any incident still open or closed at most a few days before it, however
long ago that incident was received (``incidents.repeat``). Ingest asks the store for those
(:func:`store._common.candidate_sql`): the open ones through ``incidents_state``, the recently
closed ones through this index, each a small range whatever the table's length. It holds only
closed incidents: a new one, the bulk of an ingest, costs it nothing.
"""

SQL = r"""
CREATE INDEX incidents_closed_at ON incidents (closed_at) WHERE closed_at IS NOT NULL;
"""
