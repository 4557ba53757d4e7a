"""Roles and what each may see: one pure function from an account to a :class:`~store.Scope`.

The scope is enforced by the store, in SQL (issue #7): an incident outside it is "not found"
(404), whichever way it is asked for. Personal data (names, phones, ID numbers) is masked for
everyone by default; roles whose work needs it may *unmask*, an explicit action the store writes
to the audit log. Roles that only look (police liaison, analyst, wall) get a read-only scope, so
the store refuses their events too.

============  ==============  ===========================  ======  =========
role          中文             sees                         unmask  read-only
============  ==============  ===========================  ======  =========
admin         管理员           whole town                   no      no
commander     指挥长           whole town                   yes     no
dispatcher    坐席             whole town                   yes     no
callback      回访员           whole town                   yes     no
team          处置队员         its teams' incidents         yes     no
grid          网格员           its grid cells               yes     no
beat          社区民警         its police beats             yes     no
station       消防站队员       its stations' coverage       no      no
department    部门             assigned to its departments  yes     no
police        派出所指挥室     110 transfers (status)       no      yes
analyst       分析员           whole town                   no      yes
wall          大屏             whole town (the wall only)   no      yes
============  ==============  ===========================  ======  =========
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store import Scope, User


class RoleError(ValueError):
    """An unknown role, or areas that do not fit the role; the message is bilingual."""


class Forbidden(PermissionError):
    """The role may not do this (e.g. unmask personal data); shown as 403."""


@dataclass(frozen=True)
class Role:
    """What one role sees and may do.

    Attributes
    ----------
    name, zh, en : str
        Code name and labels.
    area_field : str or None
        The :class:`~store.Scope` field the account's areas fill; ``None``: the whole town.
    sources : tuple of str or None
        Only incidents from these sources (the police liaison sees 110 transfers).
    may_unmask : bool
        Whether the role may ask to see personal data unmasked (audited).
    read_only : bool
        Whether the role only looks: the store refuses its events.
    status_only : bool
        Whether the role sees state and place only: the store leaves out parties and text.
    """

    name: str
    zh: str
    en: str
    area_field: str | None = None
    sources: tuple[str, ...] | None = None
    may_unmask: bool = False
    read_only: bool = False
    status_only: bool = False


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("admin", "管理员", "administrator"),
        Role("commander", "指挥长", "commander", may_unmask=True),
        Role("dispatcher", "坐席", "dispatcher", may_unmask=True),
        Role("callback", "回访员", "callback clerk", may_unmask=True),
        Role("team", "处置队员", "team member", "team_codes", may_unmask=True),
        Role("grid", "网格员", "grid officer", "grid_codes", may_unmask=True),
        Role("beat", "社区民警", "beat officer", "beat_codes", may_unmask=True),
        Role("station", "消防站队员", "fire-station crew", "station_codes"),
        Role("department", "部门", "department", "department_codes", may_unmask=True),
        Role(
            "police",
            "派出所指挥室",
            "police liaison",
            sources=("110",),
            read_only=True,
            status_only=True,
        ),
        Role("analyst", "分析员", "analyst", read_only=True),
        Role("wall", "大屏", "map wall", read_only=True),
    )
}

_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_USERNAME = re.compile(r"^[^\s|:/\\]{1,64}$")


def role(name: str) -> Role:
    """The role called ``name``. Raises :class:`RoleError` for an unknown one."""
    try:
        return ROLES[name]
    except KeyError:
        raise RoleError(
            f"未知角色 {name!r}，可选：{', '.join(ROLES)} / unknown role {name!r}; "
            f"choose one of {', '.join(ROLES)}"
        ) from None


def check_username(username: str) -> str:
    """``username`` if usable (1–64 characters, no blanks, ``|``, ``:`` or slashes)."""
    if not _USERNAME.match(username) or not username.isprintable():
        raise RoleError(
            f"用户名无效（1–64 个字符，不含空白、| : / \\）/ invalid username {username!r} "
            "(1-64 characters, no blanks, | : / or \\)"
        )
    return username


def check_areas(role_name: str, areas: Iterable[str]) -> tuple[str, ...]:
    """The area codes of an account of ``role_name``, checked and de-duplicated in order.

    Roles with an area (team, grid, beat, station, department) need at least one code; the
    others take none.

    Raises
    ------
    RoleError
        Unknown role, a missing, superfluous or malformed code.
    """
    spec = role(role_name)
    codes = tuple(dict.fromkeys(str(a).strip() for a in areas))
    bad = [c for c in codes if not _CODE.match(c)]
    if bad:
        raise RoleError(f"区域代码无效 / invalid area codes: {', '.join(map(repr, bad))}")
    if spec.area_field is None and codes:
        raise RoleError(
            f"角色 {spec.name}（{spec.zh}）不需要区域代码 / role {spec.name} takes no --area"
        )
    if spec.area_field is not None and not codes:
        raise RoleError(
            f"角色 {spec.name}（{spec.zh}）至少需要一个区域代码 (--area) / role {spec.name} "
            f"needs at least one --area ({spec.area_field.removesuffix('_codes')} code)"
        )
    return codes


def scope_for(role_name: str, areas: Sequence[str], actor: str, *, unmask: bool = False) -> Scope:
    """The store scope of an account of ``role_name`` responsible for ``areas``.

    Parameters
    ----------
    role_name : str
    areas : sequence of str
        The account's area codes (see :func:`check_areas`).
    actor : str
        The username, recorded by the store in the audit log.
    unmask : bool
        Ask for personal data unmasked (every such view is audited).

    Returns
    -------
    Scope

    Raises
    ------
    RoleError
        Unknown role.
    Forbidden
        ``unmask`` for a role that may not see personal data.
    """
    spec = role(role_name)
    if unmask and not spec.may_unmask:
        raise Forbidden(
            f"角色 {spec.zh} 无权查看个人信息 / role {spec.name} may not see personal data"
        )
    fields: dict[str, object] = {"all": spec.area_field is None}
    if spec.area_field is not None:
        fields[spec.area_field] = tuple(areas)  # no areas: the empty scope, which sees nothing
    return Scope(
        actor=actor,
        sources=spec.sources,
        personal_data=unmask,
        read_only=spec.read_only,
        status_only=spec.status_only,
        **fields,  # type: ignore[arg-type]
    )


def user_scope(user: User, *, unmask: bool = False) -> Scope:
    """:func:`scope_for` of a stored account (a disabled one sees nothing)."""
    if user.disabled:
        return Scope(actor=user.username, read_only=True)
    return scope_for(user.role, user.areas, user.username, unmask=unmask)
