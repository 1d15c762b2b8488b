"""The incident workflow through the real storage service: lifecycle passed on to the alerts, merge and split
(audited, recorded in both incidents), responses, visits, and response-time figures with their targets."""

from datetime import datetime, timedelta

import pandas as pd
import pytest
from incident_seed import TEXTS, finding, make_settings, membership, place, posts, query

from alerts.incident_targets import overdue, share_of
from storage.actions import ACTIONS
from storage.client import ServiceError


def two_incidents(db, tmp_path):
    s = make_settings(tmp_path)
    rumour = posts(db, "r", 10, TEXTS["salt"], "covid-19")
    bus = posts(db, "b", 10, TEXTS["bus"], "transport")
    place(db, s, finding("volume_spike", "watch:covid-19", rumour, watch="covid-19", severity="high"),
          finding("narrative", "n1", rumour[3:]),
          finding("volume_spike", "watch:transport", bus, watch="transport"))
    assert membership(db) == [(1, 1, "opened"), (2, 1, "shared_evidence"), (3, 2, "opened")]
    return s


def audit(db, action):
    return db.reader().execute("SELECT actor, details FROM audit WHERE action = ? ORDER BY logged_at",
                               [action]).fetchall()


def test_lifecycle_is_recorded_and_passed_on_to_the_alerts(service, tmp_path):
    client, db = service
    two_incidents(db, tmp_path)
    assert client.action("incident_acknowledge", "ann", incident_id=1)["status"] == "acknowledged"
    client.action("incident_assign", "ann", incident_id=1, assignee="bo", assignee_email="bo@county.example")
    with pytest.raises(ServiceError, match="needs a resolution note"):
        client.action("incident_resolve", "bo", incident_id=1, note=" ")
    client.action("incident_resolve", "bo", incident_id=1, note="Posted the fact on every channel")
    with pytest.raises(ServiceError, match="is resolved; it cannot be acknowledged"):
        client.action("incident_acknowledge", "ann", incident_id=1)
    one = client.query("incident_detail", incident_id=1).iloc[0]
    assert (one["status"], one["assignee"], one["resolution_note"]) == ("resolved", "bo",
                                                                        "Posted the fact on every channel")
    timeline = client.query("incident_timeline", incident_id=1)
    staff = timeline[timeline["actor"] != "detector"]
    assert list(staff["event"]) == ["acknowledged", "assigned", "resolved"]
    assert list(staff["actor"]) == ["ann", "ann", "bo"] and staff["note"].iloc[1] == "to bo"
    assert {"raised", "opened", "joined"} <= set(timeline["event"])  # the signals are in the timeline too
    alerts = db.reader().execute("SELECT alert_id, status, assignee FROM alerts ORDER BY 1").fetchall()
    assert alerts == [(1, "resolved", "bo"), (2, "resolved", "bo"), (3, "new", None)]
    history = client.query("alert_history", alert_id=2)
    assert list(history["event"]) == ["raised", "acknowledged", "assigned", "resolved"]
    assert history["note"].iloc[-1] == "with incident #1: Posted the fact on every channel"
    assert [a for a, _ in audit(db, "incident_resolve")] == ["bo"]
    with pytest.raises(ServiceError, match="no incident #9"):
        client.action("incident_dismiss", "ann", incident_id=9)


def test_merge_and_split_are_audited_and_recorded_in_both_incidents(service, tmp_path):
    client, db = service
    two_incidents(db, tmp_path)
    client.action("incident_merge", "ann", incident_id=1, other_id=2, note="the detour rumour is part of it")
    assert membership(db) == [(1, 1, "opened"), (2, 1, "shared_evidence"), (3, 1, "merged")]
    merged = client.query("incidents", status=["merged"]).iloc[0]
    assert (merged["incident_id"], merged["merged_into"]) == (2, 1)
    with pytest.raises(ServiceError, match="was merged into incident #1"):
        client.action("incident_acknowledge", "ann", incident_id=2)
    done = client.action("incident_split", "bo", incident_id=1, alert_ids=["3"], note="not the same after all")
    assert done["new_incident_id"] == 3 and membership(db)[-1] == (3, 3, "split")
    with pytest.raises(ServiceError, match="leaves an empty incident"):
        client.action("incident_split", "bo", incident_id=3, alert_ids=["3"])
    with pytest.raises(ServiceError, match="holds alerts \\[1, 2\\]"):
        client.action("incident_split", "bo", incident_id=1, alert_ids=["7"])
    notes = db.reader().execute("SELECT incident_id, actor, event, note FROM incident_events "
                                "WHERE event IN ('merged', 'split') ORDER BY changed_at, incident_id").fetchall()
    assert notes == [(1, "ann", "merged", "incident #2 merged in (alerts #3): the detour rumour is part of it"),
                     (2, "ann", "merged", "merged into incident #1: the detour rumour is part of it"),
                     (1, "bo", "split", "alerts #3 split off into incident #3: not the same after all"),
                     (3, "bo", "split", "split from incident #1 (alerts #3): not the same after all")]
    split_off = client.query("incident_detail", incident_id=3).iloc[0]
    assert split_off["severity"] == "medium" and split_off["headline"] == "volume spike on watch:transport (30 posts)"
    assert client.query("incident_detail", incident_id=1).iloc[0]["alerts"] == 2
    assert [a for a, _ in audit(db, "incident_merge")] == ["ann"] and [a for a, _ in audit(db, "incident_split")] \
        == ["bo"]


def test_a_recorded_response_with_or_without_a_library_entry(service, tmp_path):
    client, db = service
    two_incidents(db, tmp_path)
    posted = datetime(2026, 11, 3, 16, 30)
    client.action("incident_record_response", "ann", incident_id=1, response_id="R-7", channel="x",
                  url="https://x.example/hcph/1", posted_at=posted.isoformat(), note="library answer")
    client.action("incident_record_response", "bo", incident_id=1, channel="web", url="https://county.example/f")
    with pytest.raises(ServiceError, match="needs its channel"):
        client.action("incident_record_response", "bo", incident_id=1, channel="")
    with pytest.raises(ServiceError, match="is in the future"):
        client.action("incident_record_response", "bo", incident_id=1, channel="x", posted_at="2999-01-01T00:00")
    detail = client.query("incident_detail", incident_id=1).iloc[0]
    responses = list(detail["responses"])
    assert [(r["response_id"], r["channel"], r["actor"]) for r in responses] == [("R-7", "x", "ann"),
                                                                                 (None, "web", "bo")]
    assert detail["first_response_at"] == pd.Timestamp(posted) and detail["status"] == "acknowledged"
    assert list(client.query("incident_responses", incident_id=1)["channel"]) == ["x", "web"]


def test_each_user_gets_their_previous_visit(service):
    client, _ = service
    assert client.action("incident_visit", "ann")["previous"] is None
    second = client.action("incident_visit", "ann")
    assert second["previous"] is not None and client.action("incident_visit", "bo")["previous"] is None


def test_who_may_act():
    for name in ("incident_acknowledge", "incident_merge", "incident_split", "incident_record_response"):
        assert "comms" in ACTIONS[name].roles and not {"viewer", "analyst"} & ACTIONS[name].roles
    assert "viewer" in ACTIONS["incident_visit"].roles


def test_targets_overdue_and_share_within_target(fresh_db, tmp_path):
    s = two_incidents(fresh_db, tmp_path)
    opened = fresh_db.reader().execute("SELECT opened_at FROM incidents WHERE incident_id = 1").fetchall()[0][0]
    fresh_db.write(lambda con: con.execute(
        "UPDATE incidents SET acknowledged_at = opened_at + INTERVAL 10 MINUTE, "
        "first_response_at = opened_at + INTERVAL 90 MINUTE, status = 'acknowledged' WHERE incident_id = 1"))
    frame = query(fresh_db, "incident_response_times")
    rows = {int(r["incident_id"]): r for _, r in frame.iterrows()}
    later = opened + timedelta(minutes=70)
    assert [d.target for d in overdue(rows[2], s.incidents.targets, later)] == ["acknowledge"]  # medium: 60 min
    assert overdue(rows[1], s.incidents.targets, later) == []
    share = share_of(frame, s.incidents.targets, later)
    assert share.acknowledged == (1, 2) and share.responded == (1, 1)  # high: 2 h; incident 2's 8 h not yet due
    assert share.text() == ("acknowledged within target: 50% (1 of 2); first response within target: 100% (1 of 1)")
    team = query(fresh_db, "incident_team_response").set_index("severity")
    assert team.at["all", "incidents"] == 2 and team.at["high", "median_minutes_to_acknowledge"] == 10
    assert team.at["high", "median_minutes_to_first_response"] == 90


def test_the_engine_job_records_a_run_only_when_a_target_is_passed(fresh_db, tmp_path):
    from alerts import engine

    s = two_incidents(fresh_db, tmp_path)
    from runner import Runner
    from storage.runs import RunLog

    assert "alerts:incidents" in [job.name for job in engine.jobs(fresh_db, s, lambda: datetime.now())]
    fresh_db.write(lambda con: con.execute("UPDATE incidents SET opened_at = opened_at - INTERVAL 1 DAY"))
    fresh_db.write(lambda con: con.execute("UPDATE incidents SET opened_at = now()::TIMESTAMP WHERE incident_id = 2"))
    run = Runner(RunLog(fresh_db)).run
    done = run(engine.incidents_job(fresh_db, s))
    assert done is not None and (done.details["reminded"], done.details["escalated"]) == (2, 0)  # both targets passed
    assert run(engine.incidents_job(fresh_db, s)) is None  # reminded already; escalation after 30 min
    runs = fresh_db.reader().execute("SELECT source, job, status FROM runs WHERE job = 'incidents'").fetchall()
    assert runs == [("alerts", "incidents", "ok")]
