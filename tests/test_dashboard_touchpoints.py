"""The Touchpoints page (AppTest, the real storage service): channel x topic with volume, negative share, open
incidents and median time to first response; a cell opens its posts; one incident's path across channels (Reddit,
then X, then 311 requests); CSV and PNG downloads, each in the audit log."""

from __future__ import annotations

from datetime import UTC, timedelta

from dashboard_seed import audit, page, texts
from effect_seed import AT, serve_fixture  # noqa: F401

from collectors.base import Batch, Post
from storage import inbox_store, incident_actions, labels
from storage.actions import ACTIONS
from storage.db import utcnow

T0 = AT - timedelta(hours=3)  # the rumour starts on Reddit
CLAIM = "Salt water gargles cure the virus"


def post(platform, n, minutes, text=CLAIM, direction="public"):
    return Post(platform, f"{platform}{n}", f"{text} ({n})", (T0 + timedelta(minutes=minutes)).replace(tzinfo=UTC),
                author_handle=f"resident{n}", watches=("covid-19",), direction=direction)


def made():
    return ([post("reddit", i, 5 * i) for i in range(10)] + [post("x", i, 40 + 2 * i) for i in range(20)]
            + [post("open311", i, 120 + 10 * i, "Testing site line too long, swabs out", "to_agency") for i in range(3)]
            + [post("news", i, 30 * i, "County opens vaccination clinic") for i in range(2)]
            + [post("sms", 0, 90, "Is gargling salt water safe?", "to_agency")])


def label_of(p, i):
    claim = CLAIM in p.text or "gargling" in p.text
    topic = "testing access" if p.platform == "open311" else "vaccination" if p.platform == "news" else "misinformation"
    return {"platform": p.platform, "post_id": p.post_id, "created_at": p.created_at.replace(tzinfo=None),
            "lang": "en", "sentiment": "negative" if i % 2 else "neutral", "sentiment_score": 0.8,
            "topics": [{"name": topic, "score": 0.9}], "misinfo_score": 0.5,
            "matched_claim_id": "REG-1" if claim else None, "matched_claim_score": 0.9 if claim else None,
            "misinfo_reason": None, "sentiment_model": "s@1", "topics_model": "t@1", "misinfo_model": "m@1"}


def seed(db):
    from incident_seed import finding, place

    import settings

    posts = made()
    db.write_batch("test", Batch(posts, None))
    labels.write(db, [label_of(p, i) for i, p in enumerate(posts)], [])
    shown = [posts[0], posts[1], posts[10], posts[11], posts[30]]  # Reddit, X and a 311 request
    place(db, settings.Settings(), finding("claim_burst", "REG-1", shown, at=T0 + timedelta(hours=2), severity="high",
                                           claim_id="REG-1"), now=utcnow())
    posted = utcnow() - timedelta(minutes=1)
    bind = ACTIONS["incident_record_response"].bind
    db.run_action("incident_record_response", incident_actions.record_response, "comms",
                  bind("x", {"incident_id": 1, "channel": "x", "posted_at": posted.isoformat()}))
    db.write(lambda con: con.execute("UPDATE incidents SET opened_at = ?", [posted - timedelta(minutes=42)]))
    answered = ACTIONS["inbox_answer"].bind("x", {"platform": "sms", "post_id": "sms0", "text": "Please do not.",
                                                  "at": (T0 + timedelta(minutes=115)).isoformat()})
    db.run_action("inbox_answer", inbox_store.answer, "comms", answered)


def cell(frame, channel, topic):
    return frame.set_index(["channel", "topic"]).loc[(channel, topic)]


def test_channels_by_topic_a_cell_and_an_incident_across_channels(serve):
    db = serve(AT)
    seed(db)
    at = page("touchpoints", "viewer").run()
    assert not at.exception
    cells = at.dataframe[0].value
    reddit = cell(cells, "Reddit", "misinformation")
    assert reddit["posts"] == 10 and reddit["negative_share"] == 0.5 and reddit["open_incidents"] == 1
    assert cell(cells, "X", "misinformation")["median_minutes_to_first_response"] == 42.0
    assert cell(cells, "311 requests", "testing access")["open_incidents"] == 1
    assert cell(cells, "News / RSS", "vaccination")["open_incidents"] == 0
    sms = cell(cells, "SMS", "(all posts)")
    assert sms["inbox_items"] == 1 and sms["median_minutes_to_answer"] == 25.0
    assert list(dict.fromkeys(cells["channel"])) == ["X", "Reddit", "News / RSS", "311 requests", "SMS"]
    assert len(at.get("vega_lite_chart")) == 2  # the matrix and the incident's path
    shown = texts(at)
    assert "First seen on Reddit" in shown and "then X" in shown and "then 311 requests" in shown
    assert shown.index("First seen on Reddit") < shown.index("then X") < shown.index("then 311 requests")
    at.selectbox(key="tp-cell").set_value(list(cells["channel"]).index("Reddit")).run()
    posts = at.dataframe[1].value
    assert not at.exception and len(posts) == 10 and set(posts["channel"]) == {"reddit"}


def test_the_measure_switch_and_the_downloads_each_recorded(serve, monkeypatch):
    db = serve(AT)
    seed(db)
    at = page("touchpoints", "comms").run()
    at.segmented_control(key="tp-measure").set_value("negative_share").run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download PNG"] * 2
    import os

    from dashboard import touchpointing as tp
    from storage.client import TOKEN_ENV, URL_ENV, StorageClient

    frame = at.dataframe[0].value.assign(topic=lambda f: f["topic"].where(f["channel"] != "SMS", "=HYPERLINK(1)"))
    made = tp.files(frame, tp.heatmap(frame, "negative_share"), "touchpoints", "named query touchpoint_matrix()",
                    StorageClient(os.environ[URL_ENV], os.environ[TOKEN_ENV]), "comms")
    csv, png = made["CSV"][0](), made["PNG"][0]()
    assert csv.startswith(b"channel,topic,posts") and b"'=HYPERLINK(1)" in csv  # formula-safe
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    rows = [(actor, tp_details(d)) for actor, d in audit(db, "download")]
    assert [(a, d["format"], d["rows"], d["view"]) for a, d in rows] == [("comms", "CSV", len(frame), "touchpoints"),
                                                                          ("comms", "PNG", len(frame), "touchpoints")]
    monkeypatch.setitem(__import__("sys").modules, "vl_convert", None)  # not installed: matplotlib draws the table
    assert made["PNG"][0]().startswith(b"\x89PNG") and len(audit(db, "download")) == 3


def tp_details(raw):
    import json

    return json.loads(raw)
