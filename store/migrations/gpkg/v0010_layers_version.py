"""Step 10: a version of the town's layers, raised by every ``write_layers``.

A long-running process builds what it needs from the layers once — ``ember watch`` and the
server's intake their geocoder and trinity index, the console its placement index — and
compares this number before using it again, so that incidents are placed on the layers as
they are now (``ember layers import`` while they run), not on the grid cells of the day they
started. The number is at least the Unix time of the write (a store restored from a backup
and written again never comes back to a number seen before). Layers written by other tools
(QGIS, GDAL) do not raise it."""

SQL = r"""
CREATE TABLE ember_layers_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL CHECK (version >= 0),
  changed_at DATETIME
);
INSERT INTO ember_layers_version (id, version) VALUES (1, 0);
"""
