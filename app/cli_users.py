"""``ember users add|list|disable|enable|passwd``: accounts, roles and areas.

There is no default account and no default password: the first administrator is made with
``ember users add NAME --role admin``. A password is read with ``getpass`` (asked twice) or, with
``--password-stdin``, as the first line of stdin (for scripts); it is never echoed, logged or
printed, and only its argon2 hash is stored. Every change is written to the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app._cli_io import emit, log, open_to_add
from app.auth.passwords import check_new_password, hash_password
from app.auth.roles import ROLES, check_areas, check_username, role
from app.config import Settings
from store import IncidentStore, User, open_store

#: The layer holding the codes of each kind of area.
AREA_LAYERS = {
    "team_codes": "teams",
    "grid_codes": "grid_cells",
    "beat_codes": "police_beats",
    "station_codes": "fire_stations",
    "department_codes": "departments",
}


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def _read_password(args: argparse.Namespace) -> str:
    """The new password from stdin (first line) or asked twice on the terminal."""
    if args.password_stdin:
        line = sys.stdin.readline()
        return check_new_password(line.removesuffix("\n").removesuffix("\r"))
    if not sys.stdin.isatty():  # getpass would fall back to echoing what is typed
        raise ValueError(
            "没有终端可输入密码：请用 --password-stdin / no terminal to type the password on: "
            "use --password-stdin"
        )
    first = getpass.getpass("密码 / password: ")
    check_new_password(first)
    if getpass.getpass("再次输入密码 / repeat the password: ") != first:
        raise ValueError("两次输入的密码不一致 / the passwords do not match")
    return first


def _doc(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "role_zh": ROLES[user.role].zh if user.role in ROLES else "",
        "areas": list(user.areas),
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def _line(user: User) -> str:
    spec = ROLES.get(user.role)
    label = f"{user.role}（{spec.zh}）" if spec else user.role
    state = "停用 disabled" if user.disabled else "启用 active"
    areas = ",".join(user.areas) or "-"
    last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "-"
    return f"  {user.username:<16}{label:<22}{state:<14}{areas:<28}{last}"


def _warn_unknown_areas(
    store: IncidentStore, area_field: str | None, areas: tuple[str, ...]
) -> None:
    """Warn (on stderr) about codes missing from the store's layer of that kind, if it has one."""
    layer = AREA_LAYERS.get(area_field or "")
    if layer is None or layer not in store.layer_names():
        return
    known = set(store.read_layer(layer)["code"].astype(str))
    unknown = [a for a in areas if a not in known]
    if unknown:
        log(
            f"警告：图层 {layer} 中没有这些代码 / warning: not in layer {layer}: "
            f"{', '.join(unknown)}"
        )


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    username = check_username(args.name)
    spec = role(args.role)
    areas = check_areas(spec.name, args.area or [])
    store = open_to_add(settings.db)  # the first account may start a new store
    password_hash = hash_password(_read_password(args))
    user = store.user_add(username, spec.name, areas, password_hash, actor=_actor())
    _warn_unknown_areas(store, spec.area_field, areas)
    emit(args, _doc(user), f"已创建用户 / user created:\n{_line(user)}")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    users = open_store(settings.db, create=False).user_list()
    header = "  ".join(["", "用户 user".ljust(14), "角色 role".ljust(20), "状态 state".ljust(12)])
    header += "区域 areas".ljust(28) + "最近登录 last"
    text = "\n".join([header, *map(_line, users)]) if users else "没有用户 / no users"
    emit(args, {"users": [_doc(u) for u in users]}, text)
    return 0


def cmd_disable(args: argparse.Namespace, settings: Settings) -> int:
    user = open_store(settings.db, create=False).user_set_disabled(args.name, True, actor=_actor())
    emit(args, _doc(user), f"已停用 / disabled:\n{_line(user)}")
    return 0


def cmd_enable(args: argparse.Namespace, settings: Settings) -> int:
    user = open_store(settings.db, create=False).user_set_disabled(args.name, False, actor=_actor())
    emit(args, _doc(user), f"已启用 / enabled:\n{_line(user)}")
    return 0


def cmd_passwd(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings.db, create=False)
    user = store.user_get(args.name)  # fail before asking for a password
    store.user_set_password(user.username, hash_password(_read_password(args)), actor=_actor())
    emit(args, _doc(user), f"密码已更新 / password changed: {user.username}")
    return 0


def add_users_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``ember users add|list|disable|enable|passwd``."""
    users = sub.add_parser("users", help="accounts, roles, areas 用户与权限")
    usub = users.add_subparsers(dest="users_command", required=True)

    p = usub.add_parser("add", help="create an account 新建用户")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=list(ROLES))
    p.add_argument(
        "--area",
        action="extend",
        nargs="+",
        metavar="CODE",
        help="area codes for team/grid/beat/station/department roles (repeatable)",
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_add)

    p = usub.add_parser("list", help="list accounts (no passwords or hashes) 用户列表")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    for name, handler, text in (
        ("disable", cmd_disable, "disable an account 停用"),
        ("enable", cmd_enable, "enable an account again 启用"),
    ):
        p = usub.add_parser(name, help=text)
        p.add_argument("name", metavar="NAME")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=handler)

    p = usub.add_parser("passwd", help="set a new password 修改密码")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_passwd)


__all__ = ["add_users_commands"]
