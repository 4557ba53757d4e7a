"""Quarantine: feed rows that could not be stored, with the raw row, where it came from and why.

``(source, raw_hash)`` is unique so that re-running an import (after a crash, or the same file
again) does not quarantine a row twice. ``raw`` keeps the row as read, personal data included:
show it masked.
"""

SQL = r"""
CREATE TABLE quarantine (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  source text NOT NULL,
  source_id text,
  file text NOT NULL,
  line integer,
  column_name text,
  code text NOT NULL,
  reason_zh text NOT NULL,
  reason_en text NOT NULL,
  problems jsonb NOT NULL DEFAULT '[]',
  raw jsonb NOT NULL,
  raw_hash text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'discarded')),
  resolved_at timestamptz,
  resolved_by text,
  incident_id text,
  note text NOT NULL DEFAULT '',
  CONSTRAINT quarantine_source_raw_key UNIQUE (source, raw_hash)
);
CREATE INDEX quarantine_status ON quarantine (status, id);
CREATE INDEX quarantine_source_id ON quarantine (source, source_id);
COMMENT ON COLUMN quarantine.raw IS 'personal data: mask before showing';
"""
