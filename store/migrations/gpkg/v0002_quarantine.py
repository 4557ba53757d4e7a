"""Quarantine: feed rows that could not be stored, with the raw row, where it came from and why.

Not registered in ``gpkg_contents`` (not map data). ``(source, raw_hash)`` is unique so that
re-running an import (after a crash, or the same file again) does not quarantine a row twice.
``raw`` keeps the row as read, personal data included: show it masked.
"""

SQL = r"""
CREATE TABLE quarantine (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  at DATETIME NOT NULL,
  source TEXT NOT NULL,
  source_id TEXT,
  file TEXT NOT NULL,
  line INTEGER,
  column_name TEXT,
  code TEXT NOT NULL,
  reason_zh TEXT NOT NULL,
  reason_en TEXT NOT NULL,
  problems TEXT NOT NULL DEFAULT '[]',
  raw TEXT NOT NULL,
  raw_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'discarded')),
  resolved_at DATETIME,
  resolved_by TEXT,
  incident_id TEXT,
  note TEXT NOT NULL DEFAULT '',
  UNIQUE (source, raw_hash)
);
CREATE INDEX quarantine_status ON quarantine (status, id);
CREATE INDEX quarantine_source_id ON quarantine (source, source_id);
"""
