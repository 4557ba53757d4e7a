"""PostGIS schema steps."""
