"""Step 6 of the GeoPackage adds the table of incidents whose R-tree entries a bulk load left
pending (``store._gpkg_rtree``). PostGIS keeps its GiST index as the rows arrive and needs no
such table: here the step only keeps both backends at the same schema version (what
``ember migrate`` and the conformance tests compare)."""

SQL = r"""
SELECT 1;
"""
