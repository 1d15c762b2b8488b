"""The dashboard's named queries and actions (storage/dashboard_queries.py) and the snapshot endpoint."""

import json
from datetime import datetime, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest
from dashboard_seed import NOW, dash_fixture  # noqa: F401

from collectors.base import Batch
from helpers import make_post
from storage.actions import ACTIONS
from storage.client import ServiceError
from storage.queries import QUERIES


def run(db, name, **params):
    given = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
    return db.reader().sql(QUERIES[name].sql, params=QUERIES[name].bind(name, given)).df()


def test_every_dashboard_query_runs_on_an_empty_database(fresh_db):
    window = {"since": NOW - timedelta(days=1), "until": NOW}
    params = {"now": NOW, **window, "platform": "x", "post_id": "1"}
    from storage import dashboard_queries

    for name, query in dashboard_queries.QUERIES.items():
        given = {k: v for k, v in params.items() if k in query.params}
        run(fresh_db, name, **given)  # no error, whatever the (empty) result


def test_usual_hour_is_the_mean_of_earlier_days(fresh_db):
    """3 days of history: 2, 4 and 6 posts in the same hour of day; 10 now; one post just outside."""
    posts = []
    for day, count in ((1, 2), (2, 4), (3, 6), (0, 10)):
        posts += [make_post(len(posts) + i, when=NOW - timedelta(days=day, minutes=5 + i)) for i in range(count)]
    posts.append(make_post(999, when=NOW - timedelta(hours=1, seconds=1)))
    posts.append(make_post(998, when=NOW - timedelta(days=3, hours=2)))  # history reaches back past day 3's hour
    fresh_db.write_batch("t", Batch(posts, None))
    tiles = run(fresh_db, "overview_tiles", now=NOW).iloc[0]
    assert tiles["posts_last_hour"] == 10
    assert tiles["usual_days"] == 3 and tiles["usual_last_hour"] == pytest.approx(4.0)


def test_search_filters_combine(dash):
    _, db = dash
    everything = run(db, "search_posts", since=NOW - timedelta(days=1), until=NOW)
    assert len(everything) == 144
    some = run(db, "search_posts", since=NOW - timedelta(days=1), until=NOW, platforms=["x"],
               sentiments=["negative", "unscored"], topics=["vaccination"], watches=["covid-19"], min_misinfo=0.5)
    assert len(some) > 0
    assert (some["platform"] == "x").all() and (some["sentiment"] == "negative").all()
    assert all("covid-19" in w for w in some["watches"]) and (some["misinfo_score"] >= 0.5).all()


def test_rising_topics_and_claims(dash):
    _, db = dash
    topics = run(db, "rising_topics", now=NOW, hours=3, baseline_hours=21)
    assert topics.iloc[0]["topic"] == "vaccination" and topics.iloc[0]["growth"] > 1
    claims = run(db, "claim_activity", now=NOW, hours=6)
    row = claims.iloc[0]
    assert row["claim_id"] == "REG-1" and list(row["platforms"]) == ["bluesky", "x"] and row["rating"] == "False"
    assert run(db, "claim_activity", now=NOW, hours=6, min_score=0.95).empty  # seeded matches score 0.9


def test_actions_declare_roles():
    assert ACTIONS["register_save"].roles == {"comms", "lead", "admin"}
    assert ACTIONS["view_save"].roles == {"analyst", "admin"}
    assert "viewer" not in ACTIONS["label_feedback"].roles
    assert ACTIONS["user_change"].roles == {"admin"}


def test_actions_refuse_bad_input(dash):
    client, db = dash
    with pytest.raises(ServiceError, match="only read queries"):
        client.action("view_save", "analyst", name="bad", sql="DROP TABLE posts")
    with pytest.raises(ServiceError, match="view name"):
        client.action("view_save", "analyst", name="../etc", sql="SELECT 1")
    with pytest.raises(ServiceError, match="factcheck claim"):
        client.action("register_save", "comms", claim_id="FC-9", text="edited")
    with pytest.raises(ServiceError, match="no labels"):
        client.action("label_feedback", "comms", platform="x", post_id="nope", label="sentiment")
    unchanged = db.reader().execute("SELECT text FROM claims WHERE claim_id = 'FC-9'").fetchone()
    assert unchanged == ("5G spreads the virus",)


def test_sql_limits_can_only_be_lowered(dash):
    client, _ = dash
    frame, truncated = client.sql("SELECT * FROM range(5000)", "analyst", row_limit=10)
    assert len(frame) == 10 and truncated
    frame, truncated = client.sql("SELECT * FROM range(5000)", "analyst", row_limit=10**9)
    assert len(frame) == 1000 and truncated  # the service's own limit in these tests
    with pytest.raises(ServiceError, match=r"longer than the 0\.2 s limit"):
        client.sql("SELECT count(*) FROM range(10000000000)", "analyst", timeout_seconds=0.2)


def test_snapshot_is_a_complete_duckdb_loadable_copy(dash, tmp_path):
    client, db = dash
    result = client.snapshot("analyst")
    folder = tmp_path / "snapshots" / result["path"].rsplit("/", 1)[1]
    assert result["tables"]["posts"] == 144 and result["tables"]["labels"] == 144
    assert pq.read_table(folder / "posts.parquet").num_rows == 144
    assert json.loads((folder / "manifest.json").read_text())["tables"] == result["tables"]
    assert not list((tmp_path / "snapshots").glob(".*partial"))
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{folder}'")
    con.execute((folder / "load.sql").read_text())
    assert con.execute("SELECT count(*) FROM labels WHERE matched_claim_id = 'REG-1'").fetchone() == (29,)
    assert db.reader().execute("SELECT actor FROM audit WHERE action = 'snapshot'").fetchall() == [("analyst",)]
    second = client.snapshot("analyst")
    assert second["path"] != result["path"]


def test_rate_limit_waits_reach_the_run_record(tmp_path, write_settings):
    """What the Sources page shows: the engine writes a run's rate-limit waits into runs.details."""
    import jobs
    import settings as settings_module
    from collectors.base import BaseCollector, RateLimited
    from helpers import write_scenario

    write_scenario(tmp_path / "s.jsonl.gz", 3)
    s = settings_module.load(write_settings('[classify]\nenabled = false\n[alerts]\nenabled = false\n'
                                            '[storage]\npath = "db.duckdb"\n[sources.demo]\nkind = "replay"\n'
                                            'path = "s.jsonl.gz"\nspeed = 0.0\n'))

    class Limited(BaseCollector):
        calls = 0

        def fetch(self, cursor):
            def once():
                Limited.calls += 1
                if Limited.calls == 1:
                    raise RateLimited("slow down", retry_after=0.01)
                return Batch([], None)

            return self.call(once)

    engine = jobs.Engine(s)
    try:
        engine.collectors["demo"] = Limited("demo", sleep=lambda _: None)
        assert engine.collect("demo").status == "ok"
        details = json.loads(engine.db.reader().execute("SELECT details FROM runs").fetchone()[0])
        assert details == {"rate_limit_waits": 1, "rate_limit_seconds": 0.0}
    finally:
        engine.db.close()
