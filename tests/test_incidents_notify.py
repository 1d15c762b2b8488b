"""Notifications per incident, counted at a real webhook receiver and a real SMTP sink (STARTTLS, login): one when
an incident opens, one per escalation (severity rises, a signal's post count doubles), none for extra alerts;
past a target, a reminder to the assignee (or the usual channels), then the rule's escalation contacts."""

import email
import email.policy
from datetime import timedelta

from incident_seed import TEXTS, T, finding, make_settings, place, posts
from test_alerts_notify import Receiver, receiver, smtp_sink  # noqa: F401  (fixtures)

from alerts import incident_escalate, notify
from storage.actions import ACTIONS

LATER = T + timedelta(days=1)  # wall clock for sending: every delivery is due


def storm(db, s):
    """One situation seen by five detector passes, and one unrelated situation."""
    shown = posts(db, "a", 10, TEXTS["salt"], "covid-19")
    bus = posts(db, "b", 10, TEXTS["bus"], "transport")

    def spike(minutes, count, severity="medium"):
        return finding("volume_spike", "watch:covid-19", shown[:5], T + timedelta(minutes=minutes), severity,
                       count, watch="covid-19")

    passes = [(0, [spike(0, 30)]),
              (5, [spike(5, 32), finding("narrative", "n1", shown[3:8], T + timedelta(minutes=5))]),
              (10, [finding("claim_burst", "RR-14", shown[4:9], T + timedelta(minutes=10), "high", 25,
                            claim_id="RR-14")]),
              (15, [spike(15, 35), finding("coordination", "t1", shown[2:7], T + timedelta(minutes=15))]),
              (20, [spike(20, 64)]),
              (25, [finding("volume_spike", "watch:transport", bus, T + timedelta(minutes=25), watch="transport")])]
    return [[n.event for n in place(db, s, *found, now=T + timedelta(minutes=m))] for m, found in passes]


def test_one_webhook_message_per_incident_and_escalation(fresh_db, receiver, tmp_path):  # noqa: F811
    receiver.start()
    hooks = [{"name": "comms", "url": receiver.url, "format": "json", "min_severity": "medium"},
             {"name": "slack", "url": receiver.url, "format": "slack", "min_severity": "high"}]
    s = make_settings(tmp_path, alerts={"webhooks": hooks, "dashboard_url": "https://radar.example"})
    assert storm(fresh_db, s) == [["opened"], [], ["escalated"], [], ["escalated"], ["opened"]]
    assert notify.send_due(fresh_db, s, lambda: LATER).sent == 6  # 4 to comms; 2 high ones to slack
    plain = [r["body"] for r in receiver.requests if "incident_id" in r["body"]]
    assert [(b["incident_id"], b["event"], b["alerts"]) for b in plain] == [
        (1, "opened", 1), (1, "escalated", 3), (1, "escalated", 4), (2, "opened", 1)]
    assert plain[1]["explanation"].startswith("Severity rose from medium to high: claim burst on RR-14")
    assert plain[2]["explanation"].startswith("Posts rose from 30 to 64 (volume spike, alert #1).")
    assert plain[2]["kinds"] == ["claim_burst", "coordination", "narrative", "volume_spike"]
    slack = [r["body"]["text"] for r in receiver.requests if "blocks" in r["body"]]
    assert slack == ["[HIGH] Incident escalated: claim burst on RR-14 (25 posts)"] * 2
    links = [b["links"][0]["url"] for b in plain]
    assert links[0] == "https://radar.example/incidents?incident=1"


def smtp_settings(tmp_path, port, cert, monkeypatch, **incidents):
    monkeypatch.setenv("CR_SMTP_USER", "radar")
    monkeypatch.setenv("CR_SMTP_PASS", "s3cret-pass")
    rule = {"name": "duty", "to": ["duty@county.example"], "min_severity": "medium",
            "escalate_to": ["manager@county.example"]}
    return make_settings(tmp_path, alerts={"emails": [rule]}, incidents=incidents,
                         smtp={"host": "127.0.0.1", "port": port, "sender": "radar@county.example",
                               "ca_file": str(cert), "username": {"env": "CR_SMTP_USER"},
                               "password": {"env": "CR_SMTP_PASS"}})


def received(sink):
    return [(to, str(parse(content)["Subject"]).strip()) for _, to, content in sink.messages]


def parse(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[return-value]


def test_emails_per_incident_then_reminders_and_escalation_past_targets(fresh_db, smtp_sink, tmp_path,  # noqa: F811
                                                                        monkeypatch):
    sink, port, cert = smtp_sink
    s = smtp_settings(tmp_path, port, cert, monkeypatch, escalate_after_minutes=30)
    storm(fresh_db, s)
    assert notify.send_due(fresh_db, s, lambda: LATER).sent == 4
    assert [subject.split(": ")[0] for _, subject in received(sink)] == [
        "CivicRadar [MEDIUM] New incident", "CivicRadar [HIGH] Incident escalated",
        "CivicRadar [HIGH] Incident escalated", "CivicRadar [MEDIUM] New incident"]
    assign = ACTIONS["incident_assign"]
    fresh_db.run_action("incident_assign", assign.fn, "ann", assign.bind(
        "incident_assign", {"incident_id": 1, "assignee": "bo", "assignee_email": "bo@county.example"}))
    opened = fresh_db.reader().execute("SELECT opened_at FROM incidents WHERE incident_id = 1").fetchall()[0][0]
    sink.messages.clear()
    for minutes, expected in ((50, {}), (90, {"reminded": 1}), (110, {}), (122, {"reminded": 1, "escalated": 1}),
                              (140, {}), (155, {"escalated": 1}), (300, {})):  # incident 2 opened 25 min later
        done = incident_escalate.check(fresh_db, s, lambda m=minutes: opened + timedelta(minutes=m))
        assert {k: v for k, v in done.items() if v and k != "queued"} == expected, minutes
    assert notify.send_due(fresh_db, s, lambda: LATER).sent == 4
    assert received(sink) == [
        (["duty@county.example"], "CivicRadar [MEDIUM] Reminder: volume spike on watch:transport (30 posts)"),
        (["bo@county.example"], "CivicRadar [HIGH] Reminder: claim burst on RR-14 (25 posts)"),
        (["manager@county.example"],
         "CivicRadar [MEDIUM] Overdue incident: volume spike on watch:transport (30 posts)"),
        (["manager@county.example"], "CivicRadar [HIGH] Overdue incident: claim burst on RR-14 (25 posts)")]
    body = parse(sink.messages[1][2]).get_body(("plain",)).get_content()
    assert "opened 2.0 h ago, was not responded to within 120 min (the target for a high incident)." in body
    events = fresh_db.reader().execute("SELECT incident_id, actor, event, note FROM incident_events "
                                       "WHERE actor = 'engine' ORDER BY changed_at, incident_id").fetchall()
    assert [e[:3] for e in events] == [(2, "engine", "reminded"), (1, "engine", "reminded"), (2, "engine", "overdue"),
                                       (1, "engine", "overdue")]
    assert events[0][3] == ("not acknowledged within 60 min (the target for a medium incident): reminder to the "
                            "usual channels")
    assert events[3][3].endswith("escalation to manager@county.example")
