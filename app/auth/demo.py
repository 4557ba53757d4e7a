"""Accounts of the demo town: one per role a newcomer wants to try, with random passwords.

``ember demo`` makes them, so that ``make run`` shows the wall (which needs a signed-in user)
without any fixed default password: each build draws new passwords, stores only their argon2
hashes, and writes the plain passwords once to a file readable only by its owner, beside the
store (``var/demo-accounts.txt`` by default), and in the command's output.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.auth.passwords import hash_password
from app.auth.roles import ROLES
from store import DuplicateUser, IncidentStore
from store.backup import redact_url

ACCOUNTS_FILE = "demo-accounts.txt"


@dataclass(frozen=True)
class DemoAccount:
    """One demo account and its plain password (shown once)."""

    username: str
    role: str
    areas: tuple[str, ...]
    password: str

    def doc(self) -> dict[str, Any]:
        return {**asdict(self), "areas": list(self.areas), "role_zh": ROLES[self.role].zh}


def accounts_path(out: str) -> Path:
    """Where the demo accounts are written for the store at ``out`` (``var/`` for PostGIS)."""
    if out.startswith(("postgresql://", "postgres://")):
        return Path("var") / ACCOUNTS_FILE
    return Path(out).parent / ACCOUNTS_FILE


def demo_plan(frames: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(username, role, areas)`` of the demo accounts: the whole-town roles, and a grid
    officer and a team member of the first grid cell and team of the demo town."""
    plan: list[tuple[str, str, tuple[str, ...]]] = [
        (name, name, ()) for name in ("wall", "admin", "commander", "dispatcher", "callback")
    ]
    plan.append(("analyst", "analyst", ()))
    grid = sorted(frames["grid_cells"]["code"].astype(str))[0]
    plan.append(("grid", "grid", (grid,)))
    if "teams" in frames and len(frames["teams"]):
        team = sorted(frames["teams"]["code"].astype(str))[0]
        plan.append(("team", "team", (team,)))
    return plan


def make_demo_accounts(
    store: IncidentStore, frames: dict[str, Any], *, actor: str = "ember demo"
) -> list[DemoAccount]:
    """Create the demo accounts in ``store`` (a freshly built demo: none exist yet), each with a
    new random password (``secrets``, 16 characters); an account of that name left in a PostGIS
    store by an earlier build gets a new password."""
    made = []
    for username, role, areas in demo_plan(frames):
        password = secrets.token_urlsafe(12)
        try:
            store.user_add(username, role, areas, hash_password(password), actor=actor)
        except DuplicateUser:  # a PostGIS store keeps its accounts across demo builds
            store.user_set_password(username, hash_password(password), actor=actor)
            user = store.user_get(username)
            role, areas = user.role, tuple(user.areas)
        made.append(DemoAccount(username, role, areas, password))
    return made


def write_accounts_file(path: Path, accounts: list[DemoAccount], url: str) -> Path:
    """Write ``accounts`` to ``path`` with mode 0600 (replacing an older demo's file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Ember 演示账号 / demo accounts (演示数据专用，勿用于生产 / for the demo only)",
        f"# 数据库 / store: {redact_url(url)}",
        "# 登录 / sign in: http://127.0.0.1:8050/login",
        "# username\trole\tareas\tpassword",
    ]
    lines += [f"{a.username}\t{a.role}\t{','.join(a.areas) or '-'}\t{a.password}" for a in accounts]
    path.unlink(missing_ok=True)  # a new file, so the mode below holds
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
