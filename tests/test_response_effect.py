"""Did the response work? The figure on seeded data: a burst of 37 posts an hour repeating a claim, a correction
at a known time, a known fall to 6 an hour three hours later, against a usual of 2 an hour."""

from datetime import timedelta

import pandas as pd
import pytest
from effect_seed import AT, record_response, seed, seed_incident, seed_posts

import settings
from responses import effect
from responses.effect import Clock, Effect, Follow
from storage.queries import QUERIES


def run_on(db):
    def run(name, params):
        return db.reader().sql(QUERIES[name].sql, params=QUERIES[name].bind(name, params)).df()

    return run


def first(db, incident_id):
    return effect.first_response(run_on(db)("incident_responses", {"incident_id": incident_id}))


def measured(db, incident_id, engine_now, **clock):
    return effect.measure(run_on(db), incident_id, first(db, incident_id),
                          Clock(engine_now, engine_now, **clock), settings.Settings())


def test_a_correction_followed_by_a_known_fall(fresh_db):
    incident_id = seed(fresh_db)
    found = measured(fresh_db, incident_id, AT + timedelta(hours=5))
    assert isinstance(found, Effect)
    assert found.follow == Follow("claim", ("REG-1",))
    assert (found.before, found.after, found.hours) == (37, 6, 3)
    assert found.usual_before == 2.0 and found.usual_after == 2.0
    assert found.excess_gone == pytest.approx(1 - 4 / 35)
    assert found.sentence() == ("Posts repeating the claim fell from 37/h to 6/h within 3 h of the correction "
                                "(usual for that hour: 2/h); the correction on Bluesky has 40 likes, 12 reposts and "
                                "5 replies.")
    hourly = found.hourly.set_index("hour")
    # the agency's own post (by_agency, at +2 min, matching the claim) is not counted: hour 0 stays 20
    assert list(hourly.loc[-3:5, "posts"]) == [37, 37, 37, 20, 10, 6, 3, 3, 3]
    assert hourly.loc[5, "complete"] == False and hourly.loc[4, "complete"] == True  # noqa: E712


def test_too_early_then_the_hours_that_have_passed(fresh_db):
    incident_id = seed(fresh_db)
    early = measured(fresh_db, incident_id, AT + timedelta(minutes=40))
    assert early.after is None and early.change == "early"
    assert early.sentence().startswith("Too early to tell: posts repeating the claim ran at 37/h in the hour before "
                                       "the correction (usual for that hour: 2/h)")
    two = measured(fresh_db, incident_id, AT + timedelta(hours=2, minutes=1))
    assert (two.after, two.hours) == (10, 2) and "fell from 37/h to 10/h within 2 h" in two.sentence()


def test_baseline_leaves_out_days_before_the_history(fresh_db):
    seed_posts(fresh_db)
    fresh_db.write(lambda con: con.execute("DELETE FROM post_keys WHERE created_at < ?", [AT - timedelta(days=3)]))
    fresh_db.write(lambda con: con.execute("DELETE FROM posts WHERE created_at < ?", [AT - timedelta(days=3)]))
    incident_id = seed_incident(fresh_db)
    record_response(fresh_db, incident_id)
    found = measured(fresh_db, incident_id, AT + timedelta(hours=4))
    assert found.usual_before == 2.0  # three days of 2/h, not (3 x 2) / 7


def test_an_incident_on_a_watch_follows_the_watch_and_a_link_not_collected(fresh_db):
    seed_posts(fresh_db)
    incident_id = seed_incident(fresh_db, claim_id=None, watch="covid-19")
    record_response(fresh_db, incident_id, url="https://x.com/hcph/status/1", channel="x")
    found = measured(fresh_db, incident_id, AT + timedelta(hours=4))
    assert found.follow.kind == "watch" and found.engagement is None
    assert (found.before, found.after) == (38, 7)  # the claim posts and the clinic post, all on covid-19
    assert found.sentence() == ("Posts on watch 'covid-19' fell from 38/h to 7/h within 3 h of the response "
                                "(usual for that hour: 3/h).")


def test_the_demo_clock_places_a_wall_clock_response():
    engine_now, wall_now = AT + timedelta(hours=10), AT
    clock = Clock(engine_now, wall_now, simulated=True, speed=60)
    assert clock.engine_time(wall_now - timedelta(minutes=3)) == engine_now - timedelta(hours=3)
    assert Clock(engine_now, wall_now).engine_time(AT) == AT


def test_sentences_for_rising_and_holding():
    def made(before, after):
        return Effect(Follow("topic", ("testing access",)), "x", AT, before, 1.0, after, 1.5, 3, pd.DataFrame())

    assert made(5, 20).sentence() == ("Posts on topic 'testing access' rose from 5/h to 20/h within 3 h of the "
                                      "response (usual for that hour: 1.5/h).")
    assert made(12, 11).sentence().startswith("Posts on topic 'testing access' held at 11/h within 3 h of the "
                                              "response, against 12/h in the hour before")
    assert made(2, 1).change == "held"  # a change of one post an hour is no change


def test_no_series_to_follow(fresh_db):
    from incident_seed import finding, place

    seed_posts(fresh_db)
    place(fresh_db, settings.Settings(), finding("narrative", "story", [], at=AT - timedelta(minutes=30)))
    record_response(fresh_db, 1)
    assert "names no claim, topic or watch" in measured(fresh_db, 1, AT + timedelta(hours=4))


def test_the_digest_says_whether_it_worked(fresh_db, tmp_path):
    from incident_seed import make_settings

    from alerts import digest, engine

    seed(fresh_db)
    end = AT + timedelta(hours=6)
    s = make_settings(tmp_path, timezone="UTC", digest={"time": end.time().isoformat()})
    built = digest.build(engine.database_queries(fresh_db), s, end.date())
    said = ("Did the response work? Posts repeating the claim fell from 37/h to 6/h within 3 h of the correction "
            "(usual for that hour: 2/h); the correction on Bluesky has 40 likes, 12 reposts and 5 replies.")
    assert said in built.text and said in built.html
