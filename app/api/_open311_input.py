"""What an Open311 POST brings in: its parameters (form-encoded or JSON), checked for what no
store or XML document can keep, its coordinates and the caller's name; and the error type the
views answer with."""

from __future__ import annotations

from flask import request

from app.api._params import unstorable, xml_safe
from ingest.read import given_twice, load_json


class Open311Error(Exception):
    """An error answered as ``[{code, description}]`` with HTTP status ``code``."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


#: Bodies read as form fields; any other (text/plain, a JSON body without its type) was read
#: as no parameters at all, and refused as lacking an api_key.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def post_params() -> dict[str, str]:
    """The POST's parameters: form-encoded (the spec) or a JSON object."""
    if request.is_json:
        body = request.get_json(silent=True)
        twice = _twice_in_json() if isinstance(body, dict) else []
        if twice:
            raise _given_twice(twice)
        if not isinstance(body, dict):
            raise Open311Error(400, "请求体须为 JSON 对象 / the body must be a JSON object")
        attributes = body.get("attribute") or {}
        if not isinstance(attributes, dict):
            raise Open311Error(
                400, "attribute 须为 JSON 对象 / attribute must be a JSON object of codes"
            )
        flat = {str(k): v for k, v in body.items() if not isinstance(v, dict)}
        for key, value in attributes.items():
            flat[f"attribute[{key}]"] = value
        params = {k: "" if v is None else str(v) for k, v in flat.items()}
    else:
        if request.content_length and request.mimetype not in _FORMS:  # read as no parameters
            kind = request.mimetype or "无 / none"
            raise Open311Error(
                400,
                f"请求体须为表单（application/x-www-form-urlencoded）或 JSON，收到 {kind} / the "
                f"body must be form-encoded or JSON (Content-Type), not {kind}",
            )
        # (a multivaluelist attribute would come as ``attribute[code][]``, repeated: ours has none)
        twice = [k for k in request.form if len(request.form.getlist(k)) > 1 and k[-2:] != "[]"]
        if twice:
            raise _given_twice(twice)
        params = dict(request.form.items())
    for key, value in params.items():
        if unstorable(key) or unstorable(value):
            raise Open311Error(
                400,
                f"{_echo_key(key)} 含有无法保存的控制字符 / {_echo_key(key)} holds a control "
                "character or a lone surrogate, which cannot be stored",
            )
    return params


def _twice_in_json() -> list[str]:
    """The keys the JSON body gives more than once, at any depth (``json`` keeps the last)."""
    return given_twice(load_json(request.get_data(as_text=True)))


def _given_twice(keys: list[str]) -> Open311Error:
    names = ", ".join(_echo_key(k) for k in keys)
    return Open311Error(
        400,
        f"参数 {names} 出现不止一次，无法确定取哪个值 / the parameter {names} is given more "
        "than once: which value is meant is unclear",
    )


def _echo_key(key: str) -> str:
    return repr(xml_safe(key)[:40])


def coordinate(params: dict[str, str], name: str, limit: float) -> float | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not abs(value) <= limit:
        raise Open311Error(400, f"{name} 无效 / {name} is not a valid coordinate: {text!r}")
    return value


def caller_name(first: str, last: str) -> str:
    if any(not c.isascii() for c in first + last):
        return last + first  # 姓在前 / family name first
    return " ".join(p for p in (first, last) if p)


__all__ = ["Open311Error", "caller_name", "coordinate", "post_params"]
