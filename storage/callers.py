"""Who is calling the storage service, and whether they may (defence in depth behind the dashboard's own checks).

Every client names itself (`x-civicradar-client`: the dashboard, the CLI, a bench script) and the service records
that name with each audit row. Actions, the analysts' SQL and snapshots, and the named queries that return personal
data (`Query.roles`) also name the person acting; the service looks up their role in the users file the dashboard
signs in against (`core.users`) and refuses, with an audit row, an unknown or disabled actor or a role the action,
query or SQL endpoint does not allow. Whoever holds the service token can still claim any actor: the token is the
boundary against other processes; this check catches a dashboard page, a CLI command or a script acting for someone
whose role does not allow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.roles import ROLES, roles_that
from core.users import UserFile

CLIENT_HEADER, ACTOR_HEADER = "x-civicradar-client", "x-civicradar-actor"
UNNAMED = "unnamed"
DASHBOARD_CLIENT = "dashboard"  # the only client that signs users in (single sign-on included)
# The CLI runs on the engine's host as someone who can read the token and the database file (it opens the file
# itself when the engine is stopped): its actors, `cli:NAME` sent by the `cli` client, act as admins.
OPERATOR_CLIENT, OPERATOR_PREFIX, OPERATOR_ROLE = "cli", "cli:", "admin"
SQL_ROLES = roles_that("sql")  # the analysts' SQL and snapshots read every table
_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,39}")


@dataclass(frozen=True)
class Caller:
    client: str  # the client's own name, recorded with the audit row
    actor: str  # the person acting ('' when the request did not say)
    role: str | None  # their role now; None: not a user (unknown, disabled) or not said


def client_name(given: str | None) -> str:
    """The client's name as sent, or 'unnamed' (never free text in the audit log)."""
    name = (given or "").strip().lower()
    return name if _NAME.fullmatch(name) else UNNAMED


class Directory:
    """Actors' roles, from the users file as it is now (a role change or a disabled user applies at once).

    Single-sign-on users that the file does not list get `sso_default_role` when the dashboard acts for them (as the
    dashboard signs them in); the CLI's operators act as admins (see OPERATOR_CLIENT).
    """

    def __init__(self, users: UserFile, sso_default_role: str = "") -> None:
        self.users = users
        self.sso_default_role = sso_default_role if sso_default_role in ROLES else ""

    def caller(self, client: str, actor: str) -> Caller:
        return Caller(client, actor, self.role(client, actor) if actor else None)

    def role(self, client: str, actor: str) -> str | None:
        if client == OPERATOR_CLIENT and actor.startswith(OPERATOR_PREFIX) and len(actor) > len(OPERATOR_PREFIX):
            return OPERATOR_ROLE
        user = self.users.get(actor)
        if user is not None:
            return None if user.disabled else user.role
        if client == DASHBOARD_CLIENT and "@" in actor and self.users.by_email(actor) is None:
            return self.sso_default_role or None
        return None


def refusal(caller: Caller, roles: frozenset[str], what: str) -> str | None:
    """Why `caller` may not do `what` (an action, a query, SQL), or None if they may."""
    if not caller.actor:
        return f"{what} needs the acting user ('actor')"
    if caller.role is None:
        return f"{caller.actor!r} is not an active CivicRadar user, so may not {what}; add them with `civicradar users`"
    if caller.role not in roles:
        allowed = ", ".join(sorted(roles)) or "no role"
        return f"role {caller.role!r} ({caller.actor}) may not {what}; it is for {allowed}"
    return None
