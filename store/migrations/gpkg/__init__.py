"""GeoPackage (SQLite) schema steps."""
