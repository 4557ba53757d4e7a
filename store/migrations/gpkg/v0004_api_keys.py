"""API keys of client systems (issue #9: Open311, OGC API – Features).

``api_keys`` holds one row per client system: the SHA-256 of its key (never the key), the role
and area codes (a JSON array) it is bound to, whether it is disabled and when it was made. Not
registered in ``gpkg_contents`` (not map data). Changes go to ``audit_log``.
"""

SQL = r"""
CREATE TABLE api_keys (
  name TEXT PRIMARY KEY NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  areas TEXT NOT NULL DEFAULT '[]',
  disabled BOOLEAN NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL
);
"""
