"""Dashboard users, roles and sign-in: bcrypt-hashed passwords in a YAML file, a sign-in rate limit, sessions.

Users live in a YAML credentials file (`dashboard.users_file`), not in the database, so analysts' read-only SQL
can never read password hashes. The file is written atomically with mode 0600; `civicradar users` edits it
from a shell, the Admin page from the dashboard. No password is ever stored or printed in clear except the one
generated for a new user, shown once to whoever created it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace

import bcrypt
import yaml

from core.errors import CivicRadarError
from core.roles import CAN as CAN  # re-exported: pages and tests read roles here
from core.roles import ROLES as ROLES
from core.users import User as User  # re-exported: the read side lives in core
from core.users import UserFile

HEADER = "# CivicRadar dashboard users: bcrypt password hashes. Edit with `civicradar users` or the Admin page.\n"


class AuthError(CivicRadarError):
    """A user operation is not possible; the message says why."""


def hash_password(password: str, rounds: int = 12) -> str:
    if len(password.encode()) > 72:
        raise AuthError("passwords are at most 72 bytes (a bcrypt limit)")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def new_password() -> str:
    return secrets.token_urlsafe(12)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-user", rounds=12)


def check_password(user: User | None, password: str) -> bool:
    """bcrypt check; an unknown user costs the same time as a known one, so names cannot be probed."""
    stored = user.password if user is not None and user.password else _dummy_hash()
    try:
        ok = bcrypt.checkpw(password.encode()[:72], stored.encode())
    except ValueError:
        return False
    return ok and user is not None and not user.disabled


class UserStore(UserFile):
    """The YAML credentials file: reads from `core.users.UserFile` (cached by modification time); writes hold a
    lock file."""

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, User]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._cache = None
            users = self.users()
            yield users
            self._write(users)

    def _write(self, users: dict[str, User]) -> None:
        body = {"users": {name: {k: v for k, v in asdict(u).items() if k != "username"}
                          for name, u in sorted(users.items())}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True))
        os.replace(tmp, self.path)
        self._cache = None

    def add(self, username: str, role: str, name: str = "", email: str = "", password: str | None = None,
            rounds: int = 12) -> str:
        """Create a user; returns the password (generated unless given) so the caller can hand it over once."""
        _check_role(role)
        if not username or not username.replace(".", "").replace("-", "").replace("_", "").replace("@", "").isalnum():
            raise AuthError("a username is letters, digits, '.', '-', '_' or '@'")
        password = password or new_password()
        with self._locked() as users:
            if username in users:
                raise AuthError(f"user {username!r} already exists")
            users[username] = User(username, role, hash_password(password, rounds), name or username, email)
        return password

    def update(self, username: str, *, role: str | None = None, disabled: bool | None = None) -> User:
        if role is not None:
            _check_role(role)
        with self._locked() as users:
            if username not in users:
                raise AuthError(f"no user {username!r}")
            changes = {k: v for k, v in (("role", role), ("disabled", disabled)) if v is not None}
            users[username] = replace(users[username], **changes)  # type: ignore[arg-type]
            _keep_an_admin(users)
            return users[username]

    def reset_password(self, username: str, password: str | None = None, rounds: int = 12) -> str:
        password = password or new_password()
        with self._locked() as users:
            if username not in users:
                raise AuthError(f"no user {username!r}")
            users[username] = replace(users[username], password=hash_password(password, rounds))
        return password

    def remove(self, username: str) -> None:
        with self._locked() as users:
            if users.pop(username, None) is None:
                raise AuthError(f"no user {username!r}")
            _keep_an_admin(users)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")


def _keep_an_admin(users: dict[str, User]) -> None:
    if not any(u.role == "admin" and not u.disabled for u in users.values()):
        raise AuthError("this would leave no active admin; make someone else admin first")


def ensure_admin(store: UserStore) -> str | None:
    """First start: with no users at all, create `admin` with a generated password and return it (else None)."""
    if store.users():
        return None
    try:
        return store.add("admin", "admin", name="Administrator")
    except AuthError:  # another process created it between the check and the lock
        return None


class SignInLimiter:
    """At most `attempts` failed sign-ins per key (user name, client address) in a sliding window."""

    def __init__(self, attempts: int, window_seconds: float) -> None:
        self.attempts, self.window = attempts, window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, *keys: str) -> float:
        """0 if every key may try now, else how long until the oldest failure leaves the window."""
        now = time.monotonic()
        with self._lock:
            waits = [0.0]
            for key in keys:
                failures = self._prune(key, now)
                if len(failures) >= self.attempts:
                    waits.append(failures[0] + self.window - now)
            return max(waits)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._prune(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures


@dataclass(frozen=True)
class Session:
    username: str
    name: str
    role: str
    expires_at: float  # time.time()
    via: str = "password"  # password | sso

    def can(self, capability: str) -> bool:
        return capability in CAN.get(self.role, frozenset())

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


def start_session(user: User, minutes: float, via: str = "password") -> Session:
    return Session(user.username, user.name or user.username, user.role, time.time() + minutes * 60, via)


def refresh(session: Session, store: UserStore, sso_default_role: str = "") -> Session | None:
    """The session as the users file now says (a role change applies at once); None if expired or revoked."""
    if session.expired:
        return None
    user = store.get(session.username)
    if user is None and session.via == "sso" and sso_default_role:
        return replace(session, role=sso_default_role)
    if user is None or user.disabled:
        return None
    return replace(session, role=user.role, name=user.name or user.username)
