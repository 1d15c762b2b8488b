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
