"""The alert lifecycle and feedback, through the real storage service: every change recorded with who and when,
response times per alert and for the team, and a running precision figure per detector."""

from datetime import datetime, timedelta

import pandas as pd
import pytest

from alerts.model import Evidence, Finding
from collectors.base import Batch
from storage import alert_actions, alert_store
from storage.actions import ACTIONS
from storage.client import ServiceError
from storage.db import Database
from storage.queries import QUERIES

T = datetime(2026, 11, 2, 9, 0)


def raise_alert(db: Database, kind: str = "volume_spike", key: str = "vaccines", at: datetime = T) -> int:
    finding = Finding(kind, f"{kind}:watch:{key}", "high", at, f"{kind} on {key}", f"Something about {key}.",
                      watch=key, evidence=(Evidence("x", "1", at, "a post"),), metrics={"posts": 40})
    return db.write(lambda con: alert_store.record(con, finding, timedelta(hours=2), at)).alert_id


def query(db: Database, name: str, **params: object):
    return db.reader().sql(QUERIES[name].sql, params=QUERIES[name].bind(name, params)).df()


def test_lifecycle_through_the_service_records_who_and_when(service):
    client, db = service
    alert_id = raise_alert(db)
    assert client.action("alert_acknowledge", "ann", alert_id=alert_id)["status"] == "acknowledged"
    client.action("alert_assign", "ann", alert_id=alert_id, assignee="bo", note="bo knows the clinic")
    with pytest.raises(ServiceError, match="needs a resolution note"):
        client.action("alert_resolve", "bo", alert_id=alert_id, note="  ")
    client.action("alert_resolve", "bo", alert_id=alert_id, note="Posted the clinic's hours",
                  response_url="https://county.example/news/1")
    with pytest.raises(ServiceError, match="is resolved; it cannot be acknowledged"):
        client.action("alert_acknowledge", "ann", alert_id=alert_id)
    alert = client.query("alert", alert_id=alert_id).iloc[0]
    assert (alert["status"], alert["assignee"]) == ("resolved", "bo")
    assert alert["resolution_note"] == "Posted the clinic's hours"
    assert alert["response_url"] == "https://county.example/news/1" and alert["minutes_to_resolve"] >= 0
    history = client.query("alert_history", alert_id=alert_id)
    assert list(history["event"]) == ["raised", "acknowledged", "assigned", "resolved"]
    assert list(history["actor"]) == ["detector", "ann", "ann", "bo"]
    assert history["note"].iloc[2] == "to bo: bo knows the clinic"
    audit = db.reader().execute("SELECT actor, action FROM audit ORDER BY logged_at").fetchall()
    assert audit == [("ann", "alert_acknowledge"), ("ann", "alert_assign"), ("bo", "alert_resolve")]
    with pytest.raises(ServiceError, match="no alert #999"):
        client.action("alert_dismiss", "ann", alert_id=999)


def test_dismiss_as_noise_then_reopen(service):
    client, db = service
    alert_id = raise_alert(db)
    client.action("alert_dismiss", "cy", alert_id=alert_id, note="a TV quiz, not residents")
    assert client.query("alert", alert_id=alert_id).iloc[0]["status"] == "dismissed"
    client.action("alert_reopen", "cy", alert_id=alert_id, note="it is residents after all")
    alert = client.query("alert", alert_id=alert_id).iloc[0]
    assert alert["status"] == "acknowledged" and pd.isna(alert["dismissed_at"])
    assert list(client.query("alert_history", alert_id=alert_id)["event"]) == ["raised", "dismissed", "reopened"]


def test_actions_declare_who_may_take_them():
    assert ACTIONS["alert_resolve"].roles == frozenset({"comms", "lead", "admin"})
    assert "analyst" in ACTIONS["alert_feedback"].roles and "viewer" not in ACTIONS["alert_feedback"].roles


def test_response_times_per_alert_and_for_the_team(fresh_db):
    first, second = raise_alert(fresh_db, key="vaccines"), raise_alert(fresh_db, key="testing")
    third = raise_alert(fresh_db, key="masks")
    for alert_id, event, minutes in ((first, "acknowledged", 10), (first, "resolved", 70), (second, "assigned", 30)):
        fresh_db.write(lambda con, a=alert_id, e=event, m=minutes: alert_actions.transition(
            con, "ann", a, e, T + timedelta(minutes=m), note="done", assignee="bo"))
    per_alert = query(fresh_db, "alert_response_times").set_index("alert_id")
    assert per_alert.at[first, "minutes_to_acknowledge"] == 10 and per_alert.at[first, "minutes_to_resolve"] == 70
    assert per_alert.at[second, "minutes_to_acknowledge"] == 30 and per_alert.at[third, "minutes_to_acknowledge"] != 30
    team = query(fresh_db, "alert_team_response").set_index("severity")
    assert team.at["all", "alerts"] == 3 and team.at["all", "open"] == 2 and team.at["all", "resolved"] == 1
    assert team.at["all", "median_minutes_to_acknowledge"] == 20 and team.at["high", "acknowledged"] == 2
    assert team.at["all", "p90_minutes_to_acknowledge"] == pytest.approx(28)
    window = query(fresh_db, "alert_team_response", since="2026-11-03T00:00", until="2026-11-04T00:00")
    assert window.set_index("severity").at["all", "alerts"] == 0


def test_feedback_gives_a_running_precision_per_detector(fresh_db):
    volume = [raise_alert(fresh_db, key=k) for k in ("a", "b", "c", "d")]
    claim = raise_alert(fresh_db, kind="claim_burst", key="c1")
    act = ACTIONS["alert_feedback"]

    def feedback(alert_id: int, verdict: str, **more: str) -> None:
        params = act.bind("alert_feedback", {"alert_id": alert_id, "verdict": verdict, **more})
        fresh_db.run_action("alert_feedback", act.fn, "ann", params)

    feedback(volume[0], "useful")
    feedback(volume[1], "not_relevant")
    fresh_db.write(lambda con: alert_actions.transition(con, "ann", volume[2], "dismissed", T))
    fresh_db.write(lambda con: alert_actions.transition(con, "ann", volume[3], "resolved", T, note="ok"))
    feedback(claim, "not_misinformation", platform="x", post_id="1", note="it quotes the claim to rebut it")
    precision = query(fresh_db, "detector_precision").set_index("detector")
    assert precision.at["volume_spike", "judged"] == 4 and precision.at["volume_spike", "precision"] == 0.5
    assert precision.at["claim_burst", "judged"] == 0  # feedback on one evidence post does not judge the alert
    feedback(volume[1], "useful")  # the latest judgement counts
    assert query(fresh_db, "detector_precision").set_index("detector").at["volume_spike", "precision"] == 0.75
    posts = query(fresh_db, "alert_feedback_list", alert_id=claim)
    assert (posts.iloc[0]["verdict"], posts.iloc[0]["post_id"]) == ("not_misinformation", "1")
    with pytest.raises(ValueError, match="verdict must be one of"):
        feedback(claim, "meh")
    with pytest.raises(ValueError, match="both its platform and its post_id"):
        feedback(claim, "wrong_sentiment", platform="x")


def test_evidence_is_read_from_posts_so_deleted_posts_leave_it(service):
    client, db = service
    alert_id = raise_alert(db)
    assert client.query("alert_evidence", alert_id=alert_id).iloc[0]["text"] == "post number 1 about vaccines"
    db.write_batch("demo", Batch([], None, deleted=[("x", "1")]))
    assert client.query("alert_evidence", alert_id=alert_id).iloc[0]["text"] == "(post deleted)"
