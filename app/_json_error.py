"""The JSON API's error body (``/api/…``): one shape for every route and every refusal."""

from __future__ import annotations

from flask import Response, jsonify


def json_error(status: int, zh: str, en: str) -> Response:
    """``{"error": {"zh", "en"}, "message": "zh / en"}`` with ``status``, never cached."""
    response = jsonify(error={"zh": zh, "en": en}, message=f"{zh} / {en}")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["json_error"]
