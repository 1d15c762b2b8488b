"""Every named action, attempted by every role that may not take it, through the dashboard server's own path
(`dashboard.data.act`, which every page uses): refused with a message, and nothing reaches the database."""

import time

import pytest
from dashboard_seed import audit, dash_fixture  # noqa: F401
from streamlit.testing.v1 import AppTest

from dashboard.auth import CAN, Session
from dashboard.data import SESSION_KEY
from storage.actions import ACTIONS

FORBIDDEN = [(name, role) for name, action in sorted(ACTIONS.items()) for role in sorted(CAN)
             if role not in action.roles]


def attempt(name: str) -> None:
    from dashboard.data import act

    act(name)  # parameters do not matter: the role check comes first


@pytest.mark.parametrize("name, role", FORBIDDEN, ids=[f"{r}-{n}" for n, r in FORBIDDEN])
def test_forbidden_action_is_refused(dash, name, role):
    _, db = dash
    before = db.reader().execute("SELECT count(*) FROM audit").fetchall()
    at = AppTest.from_function(attempt, args=(name,), default_timeout=30)
    at.session_state[SESSION_KEY] = Session(role, role, role, time.time() + 600)
    at.run()
    assert not at.exception and f"Your role ({role}) may not" in at.error[0].value
    assert db.reader().execute("SELECT count(*) FROM audit").fetchall() == before


def test_the_issue_s_examples_are_among_them():
    # a viewer cannot acknowledge; only analysts (and admins) save SQL views; only admins forget authors
    assert {("alert_acknowledge", "viewer"), ("view_save", "comms"), ("forget_author", "analyst"),
            ("user_change", "comms")} <= set(FORBIDDEN)
