"""Did the response work, on the Incidents page (AppTest, the real storage service): the sentence, the figures and
the chart for the seeded correction; a page before any response says what to do."""

from __future__ import annotations

from datetime import timedelta

from dashboard_seed import page, texts
from effect_seed import AT, seed, seed_incident, seed_posts, serve_fixture  # noqa: F401


def test_the_incident_page_says_whether_the_correction_worked(serve):
    incident_id = seed(serve(AT + timedelta(hours=5)))
    at = page("incidents", "viewer")
    at.query_params["incident"] = str(incident_id)
    at.run()
    assert not at.exception
    shown = texts(at)
    assert ("Posts repeating the claim fell from 37/h to 6/h within 3 h of the correction (usual for that hour: "
            "2/h); the correction on Bluesky has 40 likes, 12 reposts and 5 replies.") in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Hour before"] == "37/h" and metrics["Hour 3 after"] == "6/h"
    assert metrics["Excess gone"] == "89%" and metrics["Its own post"] == "57 interactions"
    assert len(at.get("vega_lite_chart")) == 2  # the signals timeline and the effect


def test_before_any_response_the_page_says_what_to_do(serve):
    db = serve(AT + timedelta(hours=5))
    seed_posts(db)
    seed_incident(db)
    at = page("incidents", "viewer").run()
    assert not at.exception
    assert "Record a response to see how the incident's posts changed after it." in texts(at)

