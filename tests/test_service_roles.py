"""The storage service checks the actor's role itself (defence in depth behind the dashboard) and records which
client acted: a viewer or an analyst calling the service directly, not through the dashboard, is refused and the
refusal is in the audit log; personal-data queries need a role that uses them."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import TOKEN, users_directory
from core.users import UserFile
from storage.callers import Directory, client_name
from storage.client import ServiceError, StorageClient


@pytest.fixture
def direct(service):
    """A client of the real service that is not the dashboard: it names itself 'pytest'."""
    client, db = service
    direct = StorageClient(str(client._http.base_url), TOKEN, client="pytest")
    yield direct, db
    direct.close()


def audit(db, action: str) -> list[tuple[str, dict]]:
    rows = db.reader().execute("SELECT actor, details FROM audit WHERE action = ? ORDER BY logged_at", [action])
    return [(actor, json.loads(details)) for actor, details in rows.fetchall()]


@pytest.mark.parametrize("actor", ["viewer", "analyst"])
def test_a_role_without_the_capability_cannot_act_through_the_service(direct, actor):
    client, db = direct
    with pytest.raises(ServiceError, match=f"role '{actor}'.*may not register save") as refused:
        client.action("register_save", actor, claim_id="FC-1", text="made up")
    assert refused.value.status == 403
    assert db.reader().execute("SELECT count(*) FROM claims WHERE claim_id = 'FC-1'").fetchone() == (0,)
    [(who, details)] = audit(db, "refused")
    assert who == actor and details["refused"] == "register_save" and details["role"] == actor
    assert details["service_client"] == "pytest" and details["text"] == "made up"
    assert audit(db, "register_save") == []


def test_an_allowed_role_acts_and_the_client_is_recorded(direct):
    client, db = direct
    client.action("register_save", "comms", claim_id="FC-2", text="The clinic is open on Saturdays")
    [(who, details)] = audit(db, "register_save")
    assert who == "comms" and details["service_client"] == "pytest"
    assert audit(db, "refused") == []


def test_unknown_and_missing_actors_are_refused(direct):
    client, db = direct
    with pytest.raises(ServiceError, match="'mallory' is not an active CivicRadar user") as refused:
        client.action("download", "mallory", sql="SELECT 1", format="CSV", rows=1)
    assert refused.value.status == 403 and audit(db, "refused")[0][0] == "mallory"
    missing = client._http.post("/v1/actions/download", json={"params": {"sql": "SELECT 1", "format": "CSV",
                                                                          "rows": 1}})
    assert missing.status_code == 400 and "actor" in missing.json()["error"]


def test_a_failed_sign_in_is_recorded_for_a_name_that_is_no_user(direct):
    client, db = direct
    client.action("sign_in_failed", "no-such-user", client="10.0.0.9")
    [(who, details)] = audit(db, "sign_in_failed")
    assert who == "no-such-user" and details == {"client": "10.0.0.9", "service_client": "pytest"}


def test_sql_and_snapshots_need_the_sql_capability(direct):
    client, db = direct
    with pytest.raises(ServiceError, match=r"role 'comms'.*may not sql"):
        client.sql("SELECT count(*) FROM posts", "comms")
    frame, _ = client.sql("SELECT count(*) AS n FROM posts", "analyst")
    assert int(frame["n"][0]) > 0
    [(who, details)] = audit(db, "sql")
    assert who == "analyst" and details["service_client"] == "pytest"
    assert [d["refused"] for _, d in audit(db, "refused")] == ["sql"]


def test_the_reply_target_query_is_only_for_those_who_send_replies(direct):
    client, db = direct
    key = {"platform": "sms", "post_id": "m1"}
    for actor in ("comms", "viewer", "analyst"):
        with pytest.raises(ServiceError, match=f"role '{actor}'.*may not inbox reply target") as refused:
            client.query_as("inbox_reply_target", actor, **key)
        assert refused.value.status == 403
    with pytest.raises(ServiceError, match="needs the acting user"):
        client.query("inbox_reply_target", **key)
    assert client.query_as("inbox_reply_target", "lead", **key).empty  # allowed (no such item)
    refusals = audit(db, "refused")
    assert [who for who, _ in refusals] == ["comms", "viewer", "analyst", "(nobody)"]
    assert refusals[0][1]["post_id"] == "m1"
    assert not client.query("post_counts").empty  # aggregate queries need no actor


def test_a_role_change_or_a_disabled_user_applies_at_once(tmp_path):
    path = tmp_path / "users.yaml"
    directory = users_directory(path, {"dee": "comms"})
    assert directory.role("dashboard", "dee") == "comms"
    path.write_text(yaml.safe_dump({"users": {"dee": {"role": "comms", "disabled": True}}}), encoding="utf-8")
    assert directory.role("dashboard", "dee") is None


def test_single_sign_on_and_cli_operators(tmp_path):
    directory = Directory(UserFile(tmp_path / "none.yaml"), sso_default_role="viewer")
    assert directory.role("dashboard", "sam@county.example") == "viewer"  # as the dashboard signs them in
    assert directory.role("pytest", "sam@county.example") is None  # only the dashboard signs in with SSO
    assert directory.role("cli", "cli:root") == "admin"  # the CLI on the engine's host
    assert directory.role("dashboard", "cli:root") is None and directory.role("cli", "root") is None
    assert Directory(UserFile(tmp_path / "none.yaml")).role("dashboard", "sam@county.example") is None
    assert client_name("Dashboard") == "dashboard" and client_name("x; DROP") == "unnamed"
