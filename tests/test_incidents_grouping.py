"""Grouping alerts into incidents: each rule joins what belongs together, unrelated situations stay apart, and every
decision is recorded with its reason. An incident has one headline, the highest severity of its alerts, its
evidence once, its platforms and the time of its first post."""

from datetime import timedelta

from incident_seed import TEXTS, T, finding, make_settings, membership, place, posts, query


def test_a_shared_claim_joins_one_incident_even_after_the_alert_cooled_down(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    early = posts(fresh_db, "a", 12, TEXTS["salt"], None)
    late = posts(fresh_db, "b", 12, TEXTS["fair"], None, T + timedelta(hours=3))
    place(fresh_db, s, finding("claim_burst", "RR-14", early, claim_id="RR-14"))
    place(fresh_db, s, finding("claim_burst", "RR-14", late, T + timedelta(hours=3), claim_id="RR-14"))
    assert membership(fresh_db) == [(1, 1, "opened"), (2, 1, "same_claim")]
    detail = query(fresh_db, "incident_alerts", incident_id=1).set_index("alert_id")
    assert detail.at[2, "detail"] == "names the same claim RR-14 as alert #1"


def test_a_shared_evidence_post_joins_one_incident(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    shown = posts(fresh_db, "a", 8, TEXTS["salt"], "covid-19")
    other = posts(fresh_db, "c", 8, TEXTS["bus"], None)
    spike = finding("volume_spike", "watch:covid-19", shown[:5], watch="covid-19")
    copies = finding("coordination", "text:1", [shown[4], *other[:4]], T + timedelta(minutes=5))
    notices = place(fresh_db, s, spike, copies)
    assert membership(fresh_db) == [(1, 1, "opened"), (2, 1, "shared_evidence")]
    assert [n.event for n in notices] == ["opened"]  # the second alert notifies nobody
    joined = fresh_db.reader().execute("SELECT alert_id, note FROM incident_events WHERE event = 'joined'")
    (alert_id, note), = joined.fetchall()
    assert alert_id == 2 and note.endswith("shows 1 of the same evidence post as alert #1")


def test_near_duplicate_posts_are_the_same_narrative(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    first = posts(fresh_db, "a", 6, TEXTS["salt"], None)
    again = posts(fresh_db, "b", 6, TEXTS["salt"], None)  # other posts, the same words
    place(fresh_db, s, finding("narrative", "n1", first), finding("coordination", "t1", again))
    assert membership(fresh_db) == [(1, 1, "opened"), (2, 1, "same_narrative")]


def test_the_same_watch_in_overlapping_windows_joins_and_a_later_one_does_not(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    complaints = posts(fresh_db, "a", 10, TEXTS["fair"], "testing and care")
    more = posts(fresh_db, "b", 10, TEXTS["bus"] + " and the testing site", "testing and care",
                 T + timedelta(minutes=40))
    spike = finding("volume_spike", "watch:testing and care", complaints, watch="testing and care")
    story = finding("narrative", "n2", more, T + timedelta(minutes=40))  # no watch of its own: its posts' watch
    place(fresh_db, s, spike)
    place(fresh_db, s, story, now=T + timedelta(minutes=40))
    assert membership(fresh_db) == [(1, 1, "opened"), (2, 1, "same_watch")]
    evening = posts(fresh_db, "c", 10, "Nurses at the clinic were kind but the results portal shows nothing yet",
                    "testing and care", T + timedelta(hours=5))
    place(fresh_db, s, finding("sentiment_shift", "watch:testing and care", evening, T + timedelta(hours=5),
                               watch="testing and care"), now=T + timedelta(hours=5))
    assert membership(fresh_db)[-1] == (3, 2, "opened")  # incident 1 is still open, but long quiet


def test_unrelated_situations_stay_apart(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    rumour = posts(fresh_db, "a", 10, TEXTS["salt"], "covid-19")
    bus = posts(fresh_db, "b", 10, TEXTS["bus"], "transport")
    claims = posts(fresh_db, "c", 10, TEXTS["fair"], None)
    notices = place(fresh_db, s, finding("volume_spike", "watch:covid-19", rumour, watch="covid-19"),
                    finding("volume_spike", "watch:transport", bus, watch="transport"),
                    finding("claim_burst", "RR-2", claims, claim_id="RR-2"),
                    finding("volume_spike", "topic:schools", claims, topic="schools"))
    assert [r[1] for r in membership(fresh_db)] == [1, 2, 3, 3]  # the last shares the claim burst's posts
    assert [n.event for n in notices] == ["opened"] * 3


def test_severity_headline_evidence_platforms_and_first_post(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    shown = posts(fresh_db, "a", 8, TEXTS["salt"], "covid-19")
    place(fresh_db, s, finding("narrative", "n1", shown[:5]))
    notices = place(fresh_db, s, finding("claim_burst", "RR-14", shown[3:8], T + timedelta(minutes=5), "high",
                                         claim_id="RR-14"), now=T + timedelta(minutes=5))
    assert [(n.event, n.reasons[0][:33]) for n in notices] == [("escalated", "severity rose from medium to high")]
    detail = query(fresh_db, "incident_detail", incident_id=1).iloc[0]
    assert (detail["severity"], detail["alerts"], list(detail["claim_ids"])) == ("high", 2, ["RR-14"])
    assert detail["headline"] == "claim burst on RR-14 (30 posts)"
    assert detail["first_post_at"] == shown[0].created_at.replace(tzinfo=None)
    assert list(detail["platforms"]) == ["x"] and len(detail["evidence_texts"]) == 8
    evidence = query(fresh_db, "incident_evidence", incident_id=1)
    assert len(evidence) == 8 and list(evidence[evidence["post_id"] == "a3"]["alert_ids"].iloc[0]) == [1, 2]
    assert list(detail["watches"]) == ["covid-19"]  # the watch all its posts are in


def test_a_signal_that_doubles_escalates_once_and_a_steady_one_never(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    shown = posts(fresh_db, "a", 8, TEXTS["salt"], "covid-19")
    spike = finding("volume_spike", "watch:covid-19", shown, watch="covid-19", posts=30)
    place(fresh_db, s, spike)
    steps = [(5, 35), (10, 59), (15, 60), (20, 118), (25, 120)]
    events = [[n.event for n in place(fresh_db, s, finding("volume_spike", "watch:covid-19", shown,
                                                            T + timedelta(minutes=m), watch="covid-19", posts=p),
                                      now=T + timedelta(minutes=m))] for m, p in steps]
    assert events == [[], [], ["escalated"], [], ["escalated"]]
    notes = fresh_db.reader().execute("SELECT note FROM incident_events WHERE event = 'escalated' ORDER BY 1")
    assert [n for (n,) in notes.fetchall()] == ["posts rose from 30 to 60 (volume spike, alert #1)",
                                                "posts rose from 60 to 120 (volume spike, alert #1)"]


def label_topic(db, shown, topic: str) -> None:
    db.write(lambda con: con.executemany(
        "INSERT INTO labels (platform, post_id, created_at, topics, labelled_at) VALUES (?, ?, ?, ?, ?)",
        [(p.platform, p.post_id, p.created_at.replace(tzinfo=None), [{"name": topic, "score": 0.9}], T)
         for p in shown]))


def test_a_topic_alert_is_on_the_watch_most_of_the_topic_posts_are_on(fresh_db, tmp_path):
    """The labelled demo's complaint spike: a spike on a topic whose top posts are replies on no watch."""
    s = make_settings(tmp_path)
    complaints = posts(fresh_db, "a", 10, TEXTS["fair"], "testing and care", T + timedelta(minutes=10))
    replies = posts(fresh_db, "r", 5, "So done with this county", None, T + timedelta(minutes=10))
    label_topic(fresh_db, complaints[:6] + replies, "vaccination")
    place(fresh_db, s, finding("volume_spike", "watch:testing and care", complaints, watch="testing and care"))
    place(fresh_db, s, finding("volume_spike", "topic:vaccination", replies, T + timedelta(minutes=10),
                               topic="vaccination"), now=T + timedelta(minutes=10))
    assert membership(fresh_db) == [(1, 1, "opened"), (2, 1, "same_watch")]


def test_a_bigger_signal_joining_notifies_nobody_but_is_the_size_to_double(fresh_db, tmp_path):
    s = make_settings(tmp_path)
    shown = posts(fresh_db, "a", 8, TEXTS["salt"], "covid-19")

    def spike(minutes, count):
        return finding("volume_spike", "watch:covid-19", shown[:5], T + timedelta(minutes=minutes), watch="covid-19",
                       posts=count)

    place(fresh_db, s, spike(0, 30))
    joined = place(fresh_db, s, finding("narrative", "n1", shown[3:], T + timedelta(minutes=5), posts=100),
                   now=T + timedelta(minutes=5))
    later = [[n.event for n in place(fresh_db, s, spike(m, c), now=T + timedelta(minutes=m))]
             for m, c in ((10, 70), (15, 200))]
    assert joined == [] and later == [[], ["escalated"]]  # 70 is not twice the incident's 100; 200 is

