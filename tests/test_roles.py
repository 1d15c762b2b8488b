"""Roles live in core.roles alone: the dashboard's capabilities and storage's action roles are the same table."""

from core import roles
from dashboard import auth
from storage import dashboard_queries


def test_the_action_roles_are_the_ones_before_the_move():
    assert {"comms", "lead", "admin"} == roles.COMMS
    assert {"lead", "admin"} == roles.APPROVERS
    assert {"comms", "lead", "admin", "analyst"} == roles.STAFF
    assert roles.roles_that("sql") == {"analyst", "admin"} and roles.roles_that("nothing") == frozenset()


def test_dashboard_and_storage_read_the_same_table():
    assert auth.CAN is roles.CAN and auth.ROLES is roles.ROLES and set(roles.CAN) == set(roles.ROLES)
    assert dashboard_queries.COMMS is roles.COMMS and dashboard_queries.STAFF is roles.STAFF


def test_every_action_and_query_takes_its_roles_from_core_roles():
    from storage.actions import ACTIONS
    from storage.queries import QUERIES

    named = {roles.COMMS, roles.APPROVERS, roles.STAFF, roles.ANALYSTS, roles.ADMINS, roles.EVERYONE}
    assert {"analyst", "admin"} == roles.ANALYSTS and {"admin"} == roles.ADMINS and set(roles.ROLES) == roles.EVERYONE
    assert {name: a.roles for name, a in ACTIONS.items() if a.roles not in named} == {}
    assert {name: q.roles for name, q in QUERIES.items() if q.roles is not None and q.roles not in named} == {}
    assert QUERIES["inbox_reply_target"].roles == roles.APPROVERS == ACTIONS["inbox_reply_sent"].roles
