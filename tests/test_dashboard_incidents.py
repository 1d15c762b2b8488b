"""The Incidents page (AppTest, real storage service): since you were last here with one-click actions, the queue,
one incident opened (timeline, alerts and why, evidence, responses), the workflow, merge and split; and the Alerts
page linking each alert to its incident."""

from datetime import timedelta

from dashboard_seed import audit, dash_fixture, page, texts  # noqa: F401

from storage.db import utcnow


def button(at, label):
    return next(b for b in at.button if b.label == label)


def incident(db, incident_id=1):
    return db.reader().execute("SELECT status, assignee FROM incidents WHERE incident_id = ?",
                               [incident_id]).fetchall()[0]


def frame(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_a_viewer_sees_the_incident_its_signals_alerts_and_evidence(dash):
    _, db = dash
    at = page("incidents", "viewer").run()
    assert not at.exception
    shown = texts(at)
    assert "Since you were last here** (your first visit: everything open): 1 incident" in shown
    assert "#1 Volume spike on vaccines (3.1× usual)" in shown
    queue = frame(at, "headline")
    assert list(queue["incident_id"]) == [1] and list(queue["alerts"]) == [2]
    alerts = frame(at, "reason")
    assert list(alerts["reason"]) == ["opened", "same_watch"]
    assert alerts["detail"].iloc[1] == "is on the same watch 'vaccines' as alert #1, in overlapping windows"
    timeline = frame(at, "numbers")
    assert {"raised", "opened", "joined"} <= set(timeline["event"]) and "posts 31" in set(timeline["numbers"])
    assert sorted(frame(at, "alert_ids")["post_id"]) == ["140", "141", "143"]
    assert "No response recorded yet." in shown and len(at.get("vega_lite_chart")) == 1
    assert not [b for b in at.button if b.label in ("Acknowledge", "Assign to me", "Merge")]  # viewers read
    assert [a for a, _ in audit(db, "incident_visit")] == ["viewer"]


def test_acknowledge_and_assign_in_one_click_since_the_last_visit(dash):
    _, db = dash
    at = page("incidents", "comms").run()
    at.button(key="since-ack-1").click().run()
    assert not at.exception and "Incident #1 acknowledged." in at.success[0].value
    assert incident(db) == ("acknowledged", None)
    at.button(key="since-mine-1").click().run()
    assert incident(db) == ("assigned", "comms")
    alerts = db.reader().execute("SELECT status, assignee FROM alerts ORDER BY alert_id").fetchall()
    assert alerts == [("assigned", "comms"), ("assigned", "comms")]  # the incident's alerts follow it


def test_resolve_needs_a_note_and_record_a_response(dash):
    _, db = dash
    at = page("incidents", "admin").run()
    at.button(key="resolve-1").click().run()
    assert "needs a resolution note" in at.error[0].value and incident(db)[0] == "new"
    at.text_input(key="url-1").input("https://x.example/hcph/9")
    at.button(key="record-1").click().run()
    assert not at.exception and "Response on x recorded for incident #1." in at.success[0].value
    row = db.reader().execute("SELECT channel, url, actor FROM incident_responses").fetchall()
    assert row == [("x", "https://x.example/hcph/9", "admin")] and incident(db)[0] == "acknowledged"
    at.text_area(key="note-1").input("Clinic hours posted on every channel")
    at.button(key="resolve-1").click().run()
    assert incident(db)[0] == "resolved"
    at.multiselect[0].set_value(["resolved"]).run()
    button(at, "Reopen").click().run()
    assert incident(db)[0] == "acknowledged"


def test_split_then_merge_back(dash):
    _, db = dash
    at = page("incidents", "comms").run()
    at.multiselect(key="split-1").set_value([2])
    at.text_input(key="split-why-1").input("the narrative is not about the clinic").run()
    at.button(key="split-go-1").click().run()
    assert not at.exception and "split off into incident #2" in at.success[0].value
    assert len(frame(at, "headline")) == 2
    at.selectbox(key="open-incident").set_value(1).run()
    at.selectbox(key="merge-1").set_value(2)
    at.button(key="merge-go-1").click().run()
    assert "Incident #2 merged into #1." in at.success[0].value
    members = db.reader().execute("SELECT alert_id, incident_id, reason, actor FROM incident_alerts ORDER BY 1")
    assert members.fetchall() == [(1, 1, "opened", "detector"), (2, 1, "merged", "comms")]
    assert [a for a, _ in audit(db, "incident_split")] == ["comms"] == [a for a, _ in audit(db, "incident_merge")]


def test_overdue_and_what_changed_since_the_last_visit(dash):
    _, db = dash
    page("incidents", "comms").run()  # the first visit, an hour ago
    now = utcnow()
    db.write(lambda con: con.execute("UPDATE incident_visits SET visited_at = ? WHERE username = 'comms'",
                                     [now - timedelta(hours=1)]))
    db.write(lambda con: con.execute("UPDATE incidents SET opened_at = ? WHERE incident_id = 1",
                                     [now - timedelta(minutes=20)]))  # high: acknowledge within 15 min
    at = page("incidents", "comms").run()  # a new session: since the first visit
    assert not at.exception
    shown = texts(at)
    assert "**Since you were last here** (" in shown and "): 1 incident\n" in shown
    assert "*opened, overdue* · overdue: acknowledge" in shown
    assert list(frame(at, "headline")["overdue"]) == ["acknowledge"]
    db.write(lambda con: con.execute("UPDATE incident_visits SET visited_at = ? WHERE username = 'comms'", [now]))
    assert "): 0 incidents" in texts(page("incidents", "comms").run())


def test_the_alerts_page_links_each_alert_to_its_incident(dash):
    at = page("alerts", "viewer").run()
    assert not at.exception
    assert list(at.dataframe[0].value["incident"]) == ["incidents?incident=1"] * 2
    assert "Part of [incident #1: Volume spike on vaccines (3.1× usual)](incidents?incident=1) (new). Why here: " \
           "the first alert of this situation." in at.info[0].value
