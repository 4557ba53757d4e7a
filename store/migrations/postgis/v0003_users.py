"""Accounts and login attempts (issue #7).

``users`` holds one row per account: an argon2 hash (never the password), the role and the area
codes it is responsible for, whether it is disabled, and when it was made and last signed in.
``login_attempts`` records every sign-in attempt so that rate limiting works across several app
workers (no state in process memory); old rows are pruned by the store. Account changes go to
``audit_log``.
"""

SQL = r"""
CREATE TABLE users (
  username text PRIMARY KEY,
  password_hash text NOT NULL,
  role text NOT NULL,
  areas jsonb NOT NULL DEFAULT '[]',
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_login_at timestamptz
);
COMMENT ON COLUMN users.password_hash IS 'argon2id hash; never the password';

CREATE TABLE login_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  username text NOT NULL,
  ip text NOT NULL,
  success boolean NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
CREATE INDEX login_attempts_at ON login_attempts (at);
"""
