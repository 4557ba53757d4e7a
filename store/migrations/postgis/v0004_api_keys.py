"""API keys of client systems (issue #9: Open311, OGC API – Features).

``api_keys`` holds one row per client system: the SHA-256 of its key (never the key), the role
and area codes it is bound to, whether it is disabled and when it was made. Changes go to
``audit_log``.
"""

SQL = r"""
CREATE TABLE api_keys (
  name text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  role text NOT NULL,
  areas jsonb NOT NULL DEFAULT '[]',
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON COLUMN api_keys.key_hash IS 'sha256 hex of the key; never the key';
"""
