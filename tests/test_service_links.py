"""311 requests linked to open incidents when topic or place, and time, agree (storage/service_links.py)."""

from __future__ import annotations

from datetime import UTC, timedelta

from incident_seed import T, finding, place

import settings
from collectors import open311
from collectors.base import Batch, Post
from storage import labels, service_links
from storage.db import Database


def request(ident: str, minutes: float, description: str) -> dict:
    return {"service_request_id": ident, "status": "open", "service_code": "TEST", "service_name": "Testing site",
            "description": description, "requested_datetime": (T + timedelta(minutes=minutes)).replace(
                tzinfo=UTC).isoformat(), "address": "12 Pier St"}


def label(post: Post, topic: str) -> dict:
    return {"platform": post.platform, "post_id": post.post_id, "created_at": post.created_at.replace(tzinfo=None),
            "lang": "en", "sentiment": "negative", "sentiment_score": 0.8, "topics": [{"name": topic, "score": 0.9}],
            "misinfo_score": 0.1, "matched_claim_id": None, "matched_claim_score": None, "misinfo_reason": None,
            "sentiment_model": "s@1", "topics_model": "t@1", "misinfo_model": "m@1"}


def test_requests_agreeing_on_topic_or_place_and_time_are_linked_with_the_reason():
    s = settings.Settings(watches=(settings.WatchSettings(name="covid-19", keywords=("covid",),
                                                          places=("Fairgrounds",)),))
    db = Database(":memory:")
    requests = open311.to_posts([
        request("topic", -30, "line too long"), request("place", 10, "no swabs at the fairgrounds site"),
        request("other", 20, "streetlight out"), request("early", -24 * 60, "line too long")])
    shown = [Post("x", f"x{i}", "testing line", (T - timedelta(minutes=5 * i)).replace(tzinfo=UTC),
                  watches=("covid-19",)) for i in range(3)]
    db.write_batch("city311", Batch(requests + shown, None))
    labels.write(db, [label(p, "testing access") for p in requests if p.post_id in ("topic", "early")]
                 + [label(p, "testing access") for p in shown]
                 + [label(requests[1], "roads"), label(requests[2], "roads")], [])
    place(db, s, finding("topic_spike", "testing access", shown, topic="testing access", watch="covid-19"))
    assert db.write(lambda con: service_links.after_pass(con, s, T)) == 2
    linked = dict(db.reader().execute("SELECT post_id, incident_id FROM inbox_items WHERE platform = 'open311' "
                                      "AND incident_id IS NOT NULL").fetchall())
    assert linked == {"topic": 1, "place": 1}  # "other": another topic; "early": a day before the window
    notes = dict(db.reader().execute("SELECT post_id, note FROM inbox_events WHERE event = 'linked'").fetchall())
    assert notes == {"topic": "incident #1: same topic 'testing access'",
                     "place": "incident #1: same place 'fairgrounds' (watch covid-19)"}
    events = db.reader().execute("SELECT note FROM incident_events WHERE event = 'requests_linked'").fetchall()
    assert len(events) == 1 and "2 311 request(s) linked" in events[0][0]
    assert db.write(lambda con: service_links.after_pass(con, s, T)) == 0  # linked once
    db.write(lambda con: con.execute("UPDATE inbox_items SET incident_id = NULL WHERE post_id = 'topic'"))
    db.write(lambda con: con.execute("INSERT INTO inbox_events VALUES ('open311', 'topic', ?, 'casey', 'unlinked', "
                                     "'new', NULL)", [T]))
    assert db.write(lambda con: service_links.after_pass(con, s, T)) == 0  # staff unlinked it: it stays unlinked
    db.write(lambda con: con.execute("UPDATE incidents SET status = 'resolved'"))
    db.write(lambda con: con.execute("UPDATE inbox_items SET incident_id = NULL WHERE post_id = 'place'"))
    assert db.write(lambda con: service_links.after_pass(con, s, T)) == 0  # only open incidents take requests
