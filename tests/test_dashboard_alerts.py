"""The Alerts page and the alert parts of other pages, on alerts stored through the alerts area's own store."""

import streamlit as st
from dashboard_seed import audit, dash_fixture, page, texts  # noqa: F401


def button(at, label):
    return next(b for b in at.button if b.label == label)


def status(db, alert_id):
    return db.reader().execute("SELECT status, assignee FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()


def test_queue_most_severe_first_and_an_opened_alert(dash):
    at = page("alerts", "viewer").run()
    assert not at.exception
    queue = at.dataframe[0].value
    assert list(queue["severity"]) == ["high", "medium"] and set(queue["status"]) == {"new"}
    assert "#1 Volume spike on vaccines" in texts(at) and "tripled in the last hour" in texts(at)
    assert len(at.get("vega_lite_chart")) == 1
    evidence, history = at.dataframe[1].value, at.dataframe[2].value
    assert list(evidence["post_id"]) == ["141", "143"] and list(history["event"]) == ["raised"]
    assert not [b for b in at.button if b.label in ("Acknowledge", "Dismiss as noise")]  # viewers only read


def test_filters(dash):
    at = page("alerts", "viewer").run()
    at.multiselect[1].set_value(["medium"]).run()
    assert list(at.dataframe[0].value["title"]) == ['Emerging narrative: "salt water" (12 posts)']
    at.multiselect[1].set_value([]).run()
    at.selectbox[0].set_value("vaccines").run()
    assert list(at.dataframe[0].value["alert_id"]) == [1]
    at.multiselect[0].set_value(["resolved"]).run()
    assert "No alerts match" in at.info[0].value


def test_acknowledge_assign_resolve_all_recorded(dash):
    _, db = dash
    at = page("alerts", "comms").run()
    button(at, "Acknowledge").click().run()
    assert not at.exception and "acknowledged" in at.success[0].value
    assert status(db, 1) == ("acknowledged", None)
    assert not [b for b in at.button if b.label == "Acknowledge"]
    next(s for s in at.selectbox if s.label == "Assign to").set_value("admin")
    at.button(key="assign-1").click().run()
    assert status(db, 1) == ("assigned", "admin")
    at.button(key="resolve-1").click().run()  # no note: refused with the reason, nothing changes
    assert "needs a resolution note" in at.error[0].value and status(db, 1)[0] == "assigned"
    at.text_area(key="note-1").input("Posted the vaccine clinic hours on all channels")
    at.button(key="resolve-1").click().run()
    assert status(db, 1)[0] == "resolved"
    history = db.reader().execute("SELECT actor, event FROM alert_events WHERE alert_id = 1 ORDER BY changed_at")
    assert history.fetchall() == [("detector", "raised"), ("comms", "acknowledged"), ("comms", "assigned"),
                                  ("comms", "resolved")]
    assert [a for a, _ in audit(db, "alert_resolve")] == ["comms"]
    at.multiselect[0].set_value(["resolved"]).run()
    button(at, "Reopen").click().run()
    assert status(db, 1)[0] == "acknowledged"


def test_dismiss_as_noise(dash):
    _, db = dash
    at = page("alerts", "admin").run()
    at.selectbox(key="open-alert").set_value(2).run()
    button(at, "Dismiss as noise").click().run()
    assert not at.exception and status(db, 2)[0] == "dismissed"


def test_analysts_read_but_do_not_work_alerts(dash):
    at = page("alerts", "analyst").run()
    assert not at.exception and not [b for b in at.button if b.label == "Acknowledge"]


def test_overview_counts_open_incidents_and_shows_narratives(dash):
    client, _ = dash
    at = page("overview", "viewer").run()
    metrics = {m.label: m for m in at.metric}
    assert metrics["Open incidents"].value == "1" and "1 high" in metrics["Open incidents"].delta  # both alerts
    assert metrics["Median time to acknowledge"].value == "—" and metrics["Within target"].value == "—"
    assert metrics["Median time to first response"].value == "—"
    client.action("incident_acknowledge", "comms", incident_id=1)
    client.action("incident_record_response", "comms", incident_id=1, channel="x", url="https://x.com/a/status/1")
    st.cache_data.clear()  # the page caches its queries for 30 s
    at = page("overview", "viewer").run()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    assert metrics["Median time to acknowledge"].value == "0 min" and metrics["Within target"].value == "100%"
    assert metrics["Median time to first response"].value == "0 min"
    assert 'Emerging narrative: "salt water" (12 posts)' in list(at.dataframe[0].value["title"])


def test_narratives_page_lists_emerging_narratives(dash):
    at = page("narratives", "viewer").run()
    assert not at.exception
    found = at.dataframe[0].value
    assert list(found["posts"]) == [12] and found["platforms"].iloc[0] == "x 8, bluesky 4"
