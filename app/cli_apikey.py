"""``ember apikey create|list|disable|enable``: API keys of client systems (issue #9).

A key is bound to a role and areas like an account (:mod:`app.auth.roles`), printed once when
made, and stored as its SHA-256 only (:mod:`app.api._auth`). Every change is audited.
"""

from __future__ import annotations

import argparse
from typing import Any

from app._cli_io import emit, open_to_add
from app.api._auth import hash_key, new_key
from app.auth.roles import ROLES, RoleError, check_areas, check_username, role
from app.cli_users import _actor
from app.config import Settings
from store import ApiKey, open_store


def _doc(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "role": key.role,
        "areas": list(key.areas),
        "disabled": key.disabled,
        "created_at": key.created_at.isoformat() if key.created_at else None,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
    }


def _line(key: ApiKey) -> str:
    spec = ROLES.get(key.role)
    label = f"{key.role}（{spec.zh}）" if spec else key.role
    state = "停用 disabled" if key.disabled else "启用 active"
    made = key.created_at.strftime("%Y-%m-%d %H:%M") if key.created_at else "-"
    used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "从未 never"
    areas = ",".join(key.areas) or "-"
    return f"  {key.name:<18}{label:<22}{state:<14}{areas:<28}{made:<18}{used}"


def _key_name(name: str) -> str:
    """``name`` if usable as a key's name (the rules of a username, said of a key)."""
    try:
        return check_username(name)
    except RoleError:
        raise RoleError(
            f"密钥名称无效（1–64 个字符，不含空白、| : / \\）/ invalid API key name {name!r} "
            "(1-64 characters, no blanks, | : / or \\)"
        ) from None


def cmd_create(args: argparse.Namespace, settings: Settings) -> int:
    name = _key_name(args.name)
    spec = role(args.role)
    areas = check_areas(spec.name, args.area or [])
    key = new_key()
    made = open_to_add(settings.db).apikey_add(
        name, spec.name, areas, hash_key(key), actor=_actor()
    )
    text = (
        f"已创建 API 密钥 / API key created:\n{_line(made)}\n\n  {key}\n\n"
        "请立即妥善保存，此密钥不会再次显示 / store it now: it is not shown again"
    )
    emit(args, {**_doc(made), "key": key}, text)
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    keys = open_store(settings.db, create=False).apikey_list()
    text = "\n".join(map(_line, keys)) if keys else "没有 API 密钥 / no API keys"
    emit(args, {"keys": [_doc(k) for k in keys]}, text)
    return 0


def _set_disabled(args: argparse.Namespace, settings: Settings, disabled: bool) -> int:
    key = open_store(settings.db, create=False).apikey_set_disabled(
        args.name, disabled, actor=_actor()
    )
    verb = "已停用 / disabled" if disabled else "已启用 / enabled"
    emit(args, _doc(key), f"{verb}:\n{_line(key)}")
    return 0


def cmd_disable(args: argparse.Namespace, settings: Settings) -> int:
    return _set_disabled(args, settings, True)


def cmd_enable(args: argparse.Namespace, settings: Settings) -> int:
    return _set_disabled(args, settings, False)


def add_apikey_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember apikey create|list|disable|enable``."""
    keys = sub.add_parser("apikey", help="API keys of client systems API 密钥")
    ksub = keys.add_subparsers(dest="apikey_command", required=True)

    p = ksub.add_parser("create", help="create a key (printed once) 新建密钥")
    p.add_argument("--name", required=True, help="client system, e.g. city12345")
    p.add_argument("--role", required=True, choices=list(ROLES))
    p.add_argument("--area", action="extend", nargs="+", metavar="CODE", help="area codes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_create)

    p = ksub.add_parser("list", help="list keys (never the keys themselves) 密钥列表")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    for name, handler, text in (
        ("disable", cmd_disable, "disable a key 停用"),
        ("enable", cmd_enable, "enable a key again 启用"),
    ):
        p = ksub.add_parser(name, help=text)
        p.add_argument("name", metavar="NAME")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=handler)


__all__ = ["add_apikey_commands"]
