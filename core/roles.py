"""Dashboard roles and what each may do: the one place both the dashboard (pages, `act`) and storage (each
named action's roles) read them, so the two checks cannot drift apart."""

from __future__ import annotations

ROLES = ("viewer", "comms", "lead", "analyst", "admin")
# What each role may do; a lead is comms staff who may also approve library responses.
_COMMS = frozenset({"read", "work_alerts", "edit_register", "label_feedback", "draft_responses"})
CAN: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "comms": _COMMS,
    "lead": _COMMS | {"approve_responses"},
    "analyst": frozenset({"read", "sql", "label_feedback"}),
    "admin": _COMMS | {"approve_responses", "sql", "admin"},
}


def roles_that(capability: str) -> frozenset[str]:
    """The roles that have `capability` (a name in CAN's sets)."""
    return frozenset(role for role, can in CAN.items() if capability in can)


# The actions' roles (storage's named actions), derived from CAN.
COMMS = roles_that("work_alerts")  # comms, lead, admin: work alerts, edit the rumour register, draft responses
APPROVERS = roles_that("approve_responses")  # lead, admin: approve responses in the library
STAFF = roles_that("label_feedback")  # COMMS and analyst: mark a label wrong
ANALYSTS = roles_that("sql")  # analyst, admin: run SQL, save and delete views, write snapshots
ADMINS = roles_that("admin")  # admin: users, a person's request to be forgotten
EVERYONE = roles_that("read")  # every role: sign in, record a download
