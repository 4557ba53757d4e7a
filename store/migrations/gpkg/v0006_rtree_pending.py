"""Incidents whose R-tree entries are still to be written: a bulk load (an ingest run's writer
process) leaves the spatial index to its end, and records here, in the same transaction as the
rows, which fids wait for it; whoever opens the file next brings a load killed before its end up
to date (:mod:`store._gpkg_rtree`)."""

SQL = r"""
CREATE TABLE ember_rtree_pending (
  fid_from INTEGER NOT NULL,
  fid_to INTEGER NOT NULL CHECK (fid_to >= fid_from)
);
"""
