"""Each detector on small synthetic data written through storage: what fires, what does not, what it says."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

import settings
from alerts.context import Context
from alerts.detect import run_pass
from alerts.detectors import claims, coordination, narratives, volume
from alerts.model import Finding
from alerts.windows import shift_local, steps_between
from collectors.base import Batch, Claim, Post
from storage import alert_store, alert_stores
from storage.db import Database

CHICAGO = ZoneInfo("America/Chicago")
END = datetime(2026, 10, 27, 15, 0)  # Tuesday 27 October, 10:00 am in Chicago


def config(**alerts: object) -> settings.Settings:
    return settings.parse({"timezone": "America/Chicago", "alerts": alerts}, settings.DEFAULT_PATH)


def write(db: Database, posts: list[Post]) -> None:
    db.write_batch("test", Batch(posts, None))


def spread(prefix: str, start: datetime, count: int, minutes: float, text: str = "update {i} from the county",
           **fields: object) -> list[Post]:
    """`count` posts evenly over `minutes`, each by its own account."""
    step = minutes / count
    return [Post("x", f"{prefix}{i}", text.format(i=i), start + timedelta(minutes=step * i),
                 author_id=f"{prefix}-author{i}", **fields) for i in range(count)]


def detect(db: Database, detector, s: settings.Settings, *steps: datetime) -> list[Finding]:
    with alert_stores.reading(db) as reader:
        return detector(Context(reader, steps or (END,), s.alerts, s.zone, reader.first_post_at()))


def label(db: Database, posts: list[Post], negative: set[int] = frozenset(), topic: str | None = None,
          claim: str | None = None) -> None:
    rows = pa.table({
        "platform": [p.platform for p in posts], "post_id": [p.post_id for p in posts],
        "created_at": pa.array([p.created_at for p in posts], pa.timestamp("us")),
        "sentiment": ["negative" if i in negative else "neutral" for i in range(len(posts))],
        "topics": [[{"name": topic, "score": 0.9}] if topic else [] for _ in posts],
        "matched_claim_id": [claim] * len(posts), "matched_claim_score": [0.9 if claim else None] * len(posts),
        "misinfo_model": ["test@1"] * len(posts), "labelled_at": pa.array([END] * len(posts), pa.timestamp("us"))})

    def insert(con) -> None:
        con.register("new_labels", rows)
        con.execute("INSERT INTO labels BY NAME SELECT * FROM new_labels")
        con.unregister("new_labels")

    db.write(insert)


def test_steps_follow_the_grid_catch_up_and_skip_only_what_a_long_pause_left_behind():
    assert steps_between(None, datetime(2026, 1, 1, 9, 7), 5, 36) == ([datetime(2026, 1, 1, 9, 5)], 0)
    steps, skipped = steps_between(datetime(2026, 1, 1, 9, 5), datetime(2026, 1, 1, 9, 21), 5, 36)
    assert steps == [datetime(2026, 1, 1, 9, m) for m in (10, 15, 20)] and skipped == 0
    steps, skipped = steps_between(datetime(2026, 1, 1, 0, 0), datetime(2026, 1, 1, 9, 0), 5, 36)
    assert steps[0] == datetime(2026, 1, 1, 0, 5) and len(steps) == 36 and skipped == 0  # the rest: next passes
    steps, skipped = steps_between(datetime(2026, 1, 1, 0, 0), datetime(2026, 1, 3, 0, 0), 5, 36)
    assert steps[0] == datetime(2026, 1, 2, 0, 0) and skipped == 287  # only the last 24 h are caught up
    assert steps_between(datetime(2026, 1, 1, 9, 5), datetime(2026, 1, 1, 9, 9), 5, 36) == ([], 0)
    back = steps_between(datetime(2026, 1, 3, 9, 5), datetime(2026, 1, 1, 9, 9), 5, 36)  # the clock went back
    assert back == ([datetime(2026, 1, 1, 9, 5)], 0)


def test_same_local_hour_across_a_daylight_saving_change():
    after = datetime(2026, 11, 2, 15, 0)  # Mon 9:00 CST; DST ended on Sunday 1 November
    assert shift_local(after, CHICAGO, 1) == datetime(2026, 11, 1, 15, 0)  # Sun 9:00 CST
    assert shift_local(after, CHICAGO, 7) == datetime(2026, 10, 26, 14, 0)  # Mon 9:00 CDT


def test_volume_spike_against_the_same_hour_on_past_weeks(fresh_db):
    for day in range(29):
        hour = END - timedelta(days=28 - day, hours=1)
        write(fresh_db, spread(f"d{day}-", hour, 10, 59, watches=("water",)))
    write(fresh_db, spread("spike", END - timedelta(minutes=59), 60, 58, "boil water notice in Port Harbor {i}",
                           watches=("water",)))
    found = detect(fresh_db, volume.detect, config())
    assert [f.fingerprint for f in found] == ["volume_spike:watch:water"]
    f = found[0]
    assert f.severity == "high" and f.metrics["baseline"] == "weekly" and f.metrics["posts"] == 70
    assert "70 posts on watch 'water' in the hour to Tue 27 Oct, 10:00 am, 7.0x the usual 10 for a Tuesday 10 am " \
           "(median of the last 4 Tuesdays)" in f.explanation
    assert "Sentiment: not labelled yet." in f.explanation and 'Top phrase: "boil water notice"' in f.explanation
    assert len(f.evidence) == 5 and f.watch == "water"


def test_quiet_series_need_the_minimum_count_and_use_the_floor(fresh_db):
    write(fresh_db, spread("old", END - timedelta(days=3), 1, 1))  # history starts three days back, all quiet
    write(fresh_db, spread("few", END - timedelta(minutes=50), 12, 40, watches=("parks",)))
    assert detect(fresh_db, volume.detect, config()) == []  # 12 posts against nothing: below min_posts
    write(fresh_db, spread("more", END - timedelta(minutes=50), 13, 40, watches=("parks",)))
    found = detect(fresh_db, volume.detect, config())
    assert [f.watch for f in found] == ["parks"] and found[0].metrics["expected"] == 0
    assert "a quiet series, counted as at least 5" in found[0].explanation and "5.0x" in found[0].explanation


def test_sentiment_shift_on_a_topic_needs_labels(fresh_db):
    s = config(volume={"enabled": False})
    week = []
    for day in range(1, 8):
        week += spread(f"w{day}-", END - timedelta(days=day, hours=2), 30, 120, "the site opens at nine {i}")
    write(fresh_db, week)
    now = spread("now", END - timedelta(minutes=55), 30, 50, "waited three hours at the site again {i}")
    write(fresh_db, now)
    assert detect(fresh_db, volume.detect, s) == []  # unlabelled: no sentiment to compare
    label(fresh_db, week, negative=set(range(0, len(week), 5)), topic="testing access")  # 20 % negative
    label(fresh_db, now, negative=set(range(24)), topic="testing access")  # 80 % negative
    found = detect(fresh_db, volume.detect, s)
    assert [f.fingerprint for f in found] == ["sentiment_shift:topic:testing access"]
    assert found[0].severity == "high" and found[0].topic == "testing access"
    assert found[0].explanation.startswith(
        "80 % of the 30 labelled posts on topic 'testing access' in the hour to Tue 27 Oct, 10:00 am are negative, "
        "against 20 % over the previous 168 hours")
    assert "+60 points" in found[0].explanation and all(e.note == "negative" for e in found[0].evidence)


def add_claims(db: Database) -> None:
    db.write_batch("checks", Batch([], None, claims=[
        Claim("C-1", "Gargling salt water with vinegar kills the virus. Official fact: it does not.", "False",
              "https://factcheck.example/1", "County register"),
        Claim("C-2", "Masks reduce the spread of respiratory viruses.", "True")]))


def test_claim_burst_uses_the_labellers_match_when_posts_are_labelled(fresh_db):
    add_claims(fresh_db)
    write(fresh_db, spread("old", END - timedelta(days=2), 1, 1))
    posts = spread("m", END - timedelta(minutes=50), 14, 48, "my aunt swears by this remedy, share it {i}")
    write(fresh_db, posts)
    label(fresh_db, posts, claim="C-1")
    (f,) = detect(fresh_db, claims.detect, config())
    assert (f.claim_id, f.severity, f.metrics["labeller"], f.metrics["lexical"]) == ("C-1", "medium", 14, 0)
    assert "All 14 were matched by the claim-matching model." in f.explanation
    assert '"Gargling salt water with vinegar kills the virus." (rated False; official fact: "it does not.")' \
        in f.explanation
    assert f.links[0].url == "https://factcheck.example/1"


def test_claim_burst_falls_back_to_shared_words_and_ignores_true_claims(fresh_db):
    add_claims(fresh_db)
    write(fresh_db, spread("old", END - timedelta(days=2), 1, 1))
    write(fresh_db, spread("g", END - timedelta(minutes=50), 12, 48, "gargle salt water and vinegar, kills virus {i}"))
    write(fresh_db, spread("k", END - timedelta(minutes=50), 30, 48, "masks reduce the spread of viruses {i}"))
    (f,) = detect(fresh_db, claims.detect, config())
    assert f.claim_id == "C-1" and f.metrics["lexical"] == 12 and "lexical fallback" in f.explanation
    write(fresh_db, spread("fading", END - timedelta(minutes=59), 20, 20, "gargling salt water kills the virus {i}"))
    assert detect(fresh_db, claims.detect, config()) == []  # more matches early in the hour than late: fading


def test_coordination_needs_many_accounts_within_the_window(fresh_db):
    text = "Tell the county to reopen the fairgrounds site today, everyone call now"
    write(fresh_db, spread("slow", END - timedelta(hours=3), 12, 170, text))
    write(fresh_db, spread("rp", END - timedelta(minutes=9), 12, 8, text, repost_of_id="orig"))
    assert detect(fresh_db, coordination.detect, config()) == []  # spread over hours, or plain reposts
    write(fresh_db, spread("fast", END - timedelta(minutes=9), 9, 8, text + "!!"))
    write(fresh_db, spread("link", END - timedelta(minutes=12), 10, 10, "look at this {i} https://t.example/abc",
                           url="https://t.example/abc"))
    found = {f.metrics["signal"]: f for f in detect(fresh_db, coordination.detect, config())}
    assert found["text"].metrics["accounts"] == 9 and "9 different accounts posted the same text" in \
        found["text"].explanation
    assert found["link"].metrics["accounts"] == 10 and "the link https://t.example/abc" in found["link"].explanation
    assert all(f.severity == "medium" and "not as a finding about any account" in f.explanation
               for f in found.values())


def embed(db: Database, posts: list[Post], vectors: np.ndarray) -> None:
    rows = pa.table({"platform": [p.platform for p in posts], "post_id": [p.post_id for p in posts],
                     "created_at": pa.array([p.created_at for p in posts], pa.timestamp("us")),
                     "model": ["test-encoder"] * len(posts), "vector": [list(map(float, v)) for v in vectors]})

    def insert(con) -> None:
        con.register("new_vectors", rows)
        con.execute("INSERT INTO embeddings BY NAME SELECT * FROM new_vectors")
        con.unregister("new_vectors")

    db.write(insert)


def test_narratives_group_paraphrases_by_embedding_and_copies_by_wording(fresh_db):
    rng = np.random.default_rng(7)
    background = spread("bg", END - timedelta(minutes=119), 40, 118, "{i} residents asked about opening hours")
    openers = ["honestly", "apparently", "my neighbour says", "breaking", "just heard", "wow", "so", "ok so"]
    nouns = ["the bridge", "route 9", "the ferry", "harbor road", "the tunnel"]
    paraphrases = [Post("x", f"p{i}", f"{openers[i % 8]} {nouns[i % 5]} closes {i} for good", END
                        - timedelta(minutes=40 - 2 * i), author_id=f"pp{i}") for i in range(18)]
    write(fresh_db, background + paraphrases)
    assert detect(fresh_db, narratives.detect, config()) == []  # different wording, no embeddings: no group
    base = rng.normal(size=32)
    embed(fresh_db, paraphrases, base + 0.1 * rng.normal(size=(18, 32)))
    embed(fresh_db, background, rng.normal(size=(40, 32)))
    (f,) = detect(fresh_db, narratives.detect, config())
    assert f.kind == "narrative" and f.metrics["posts"] == 18 and f.metrics["accounts"] == 18
    assert "near-duplicate wording and sentence embeddings" in f.explanation and "first seen 9:20 am" in f.explanation
    copies = spread("cp", END - timedelta(minutes=30), 16, 25, "the bridge closes tonight, avoid harbor road")
    write(fresh_db, copies)
    found = detect(fresh_db, narratives.detect, config())
    assert sorted(f.metrics["posts"] for f in found) == [16, 18]


def stored(db: Database, finding: Finding, cooldown_minutes: float = 120) -> str:
    return db.write(lambda con: alert_store.record(con, finding, timedelta(minutes=cooldown_minutes),
                                                   finding.seen_at)).event


def test_one_alert_per_situation_with_escalation_cooldown_and_history(fresh_db):
    def f(minutes: int, severity: str = "medium", posts: int = 30) -> Finding:
        return Finding("volume_spike", "volume_spike:watch:water", severity, END + timedelta(minutes=minutes),
                       "t", f"{posts} posts", watch="water", metrics={"posts": posts})

    assert [stored(fresh_db, f(m, s, p)) for m, s, p in ((0, "medium", 30), (5, "medium", 35), (10, "high", 90),
                                                         (15, "medium", 40), (60, "medium", 30))] == \
        ["raised", "updated", "escalated", "updated", "recurred"]
    (alert,) = fresh_db.reader().execute("SELECT alert_id, severity, explanation, occurrences FROM alerts").fetchall()
    assert alert[1:] == ("high", "90 posts", 5)  # the peak is kept, the fading tail does not overwrite it
    fresh_db.write(lambda con: con.execute("UPDATE alerts SET status = 'dismissed'"))
    assert stored(fresh_db, f(100)) == "suppressed" and stored(fresh_db, f(215)) == "suppressed"
    assert stored(fresh_db, f(400)) == "raised"  # quiet for longer than the cool-down: a new situation
    events = fresh_db.reader().execute("SELECT event FROM alert_events ORDER BY changed_at, alert_id").fetchall()
    assert [e for (e,) in events] == ["raised", "escalated", "recurred", "raised"]


@pytest.mark.parametrize("pass_minutes", [5, 60])
def test_a_pass_evaluates_every_step_since_the_last_one(fresh_db, pass_minutes):
    text = "Tell the county to reopen the fairgrounds site today, everyone call now"
    write(fresh_db, spread("c", END + timedelta(minutes=21), 12, 6, text))
    s, now = config(), END
    while now <= END + timedelta(hours=2):
        run_pass(fresh_db, s, now)
        now += timedelta(minutes=pass_minutes)
    (first_seen,) = fresh_db.reader().execute("SELECT first_seen_at FROM alerts").fetchall()[0]
    assert first_seen == END + timedelta(minutes=25)  # the 8th account posts at 24.5 min: the next step, always
