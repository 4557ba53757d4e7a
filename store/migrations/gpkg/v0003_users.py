"""Accounts and login attempts (issue #7).

``users`` holds one row per account: an argon2 hash (never the password), the role and the area
codes it is responsible for (a JSON array), whether it is disabled, and when it was made and last
signed in. ``login_attempts`` records every sign-in attempt so that rate limiting works across
several app processes (no state in process memory); old rows are pruned by the store. Neither is
registered in ``gpkg_contents`` (not map data). Account changes go to ``audit_log``.
"""

SQL = r"""
CREATE TABLE users (
  username TEXT PRIMARY KEY NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  areas TEXT NOT NULL DEFAULT '[]',
  disabled BOOLEAN NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  last_login_at DATETIME
);

CREATE TABLE login_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  at DATETIME NOT NULL,
  username TEXT NOT NULL,
  ip TEXT NOT NULL,
  success BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
"""
