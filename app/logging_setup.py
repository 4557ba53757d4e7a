"""Structured logs for production: one JSON object a line on stderr.

Every line has ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message`` and ``pid`` (which
gunicorn worker wrote it); a traceback goes in ``exc``. The access log of :mod:`app.health`
(``ember.access``, a JSON object as its message) is merged into the line: ``method``, ``path``,
``status``, ``ms``. Personal data is never logged on purpose (DESIGN.md); as a safety net, phone
and ID numbers that slip into a message or a traceback are masked here as well
(:func:`incidents.masking.mask_text`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from incidents.masking import mask_text

#: Record attributes of the standard library, not copied into the JSON line as extras.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line (no personal data; see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = _access_fields(record.name, message)
        if fields is not None:
            doc["message"] = f"{fields.get('method', '')} {fields.get('path', '')} " + str(
                fields.get("status", "")
            )
            doc.update({k: v for k, v in fields.items() if k not in doc})
        else:
            doc["message"] = mask_text(message) or ""
        doc["pid"] = record.process or os.getpid()
        for key, value in record.__dict__.items():  # extra={...} of the caller
            if key not in _STANDARD and key not in doc and not key.startswith("_"):
                doc[key] = value if isinstance(value, int | float | bool) else str(value)
        if record.exc_info:
            doc["exc"] = mask_text(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exc"] = mask_text(record.exc_text)
        return json.dumps(doc, ensure_ascii=False, default=str)


def _access_fields(logger: str, message: str) -> dict[str, Any] | None:
    """The fields of an ``ember.access`` line (a JSON object), else None."""
    if logger != "ember.access" or not message.startswith("{"):
        return None
    try:
        fields = json.loads(message)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) else None


def json_handler(stream: Any = None) -> logging.Handler:
    """A handler writing JSON lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    return handler


def setup_json_logging(level: int = logging.INFO) -> None:
    """Send every log record (Ember's, gunicorn's, libraries') as JSON lines to stderr.

    Replaces the root logger's handlers; gunicorn's own loggers propagate to it (see
    :data:`GUNICORN_LOGCONFIG`). Werkzeug's request log is silenced: ``ember.access`` is the
    request log, without query strings.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(json_handler())
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


#: gunicorn's ``logconfig_dict``: its error log as JSON lines on stderr, no separate access log.
GUNICORN_LOGCONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.logging_setup.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}
