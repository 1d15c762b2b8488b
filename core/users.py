"""The users file as read by everyone who needs to know who someone is: the dashboard signs in against it, and the
storage service looks up an actor's role in it before it runs an action. Writing it (passwords, roles) stays with the
dashboard (`dashboard.auth.UserStore`); this is the read side only, so storage never imports the dashboard.

Users live in a YAML file (`dashboard.users_file`), not in the database, so analysts' read-only SQL can never read
password hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from core.roles import CAN


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password: str = ""  # bcrypt hash; empty for single-sign-on-only users
    name: str = ""
    email: str = ""
    disabled: bool = False

    def can(self, capability: str) -> bool:
        return not self.disabled and capability in CAN.get(self.role, frozenset())


class UserFile:
    """The YAML users file, read again only when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[float, dict[str, User]] | None = None

    def users(self) -> dict[str, User]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache is None or self._cache[0] != mtime:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
            users = {name: User(username=name, **fields) for name, fields in (data.get("users") or {}).items()}
            self._cache = (mtime, users)
        return dict(self._cache[1])

    def get(self, username: str) -> User | None:
        return self.users().get(username)

    def by_email(self, email: str) -> User | None:
        return next((u for u in self.users().values() if u.email and u.email.lower() == email.lower()), None)
