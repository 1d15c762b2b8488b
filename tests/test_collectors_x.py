"""X: recent search and the filtered stream through the real tweepy client against a fake API on 127.0.0.1."""

import json
import time
from datetime import UTC, datetime

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine, last_run, load, posts
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from collectors.base import AuthFailed, CollectorError, Watch
from collectors.x import XCollector, XSettings, build_queries, parse, reads, to_posts

WATCHES = (Watch("vaccines", ("vaccine", "booster"), ("vaccine",)),
           Watch("testing and care", ("test site", "clinic"), places=("Harbor County",)))
NOW = datetime(2026, 11, 20, 16, tzinfo=UTC)


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", "test-bearer")


def search_api(httpserver: HTTPServer, seen: list[dict]) -> None:
    def handler(request: Request) -> Response:
        seen.append(dict(request.args))
        assert request.headers["Authorization"] == "Bearer test-bearer"
        name = ("search_page2.json" if "next_token" in request.args else
                "search_empty.json" if "since_id" in request.args else "search_page1.json")
        return Response(body("x", name), content_type="application/json")

    httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(handler)


def collector(httpserver, sleep=None, **overrides) -> XCollector:
    s = XSettings(base_url=httpserver.url_for("/").rstrip("/"), **overrides)
    return XCollector("x", s, WATCHES, wall=lambda: NOW, sleep=sleep or Sleeps())


def test_mapping_keeps_edits_quotes_replies_and_authors():
    mapped = parse(load("x", "search_page1.json"))
    by_id = {p.post_id: p for p in mapped.posts}
    assert len(by_id) == 3
    edited = by_id["1861234567890123450"]  # stored under the first id of its edit history
    assert edited.url == "https://x.com/HarborHealth/status/1861234567890123459"
    assert edited.reply_to_id == "1861234567890123400" and edited.author_handle == "HarborHealth"
    quote = by_id["1861234567890123460"]
    assert quote.quote_of_id == "1861234567890120000" and quote.lang == "es" and "🤔" in quote.text
    first = by_id["1861234567890123461"]
    assert first.like_count == 31 and first.repost_count == 4 and first.raw["id"] == "1861234567890123461"
    assert mapped.warnings == ["x: Not Found Error: Could not find tweet with referenced_tweets.id: "
                               "[1861234567890123400]."]
    assert reads(load("x", "search_page1.json")) == (4, 2)


def test_stream_messages_carry_their_watch_and_deletes_are_reported():
    message = json.loads(body("x", "stream_messages.jsonl").splitlines()[0])
    [post] = to_posts(message)
    assert post.watches == ("testing and care",) and post.author_handle == "dev_in_harbor"
    assert parse(load("x", "compliance_delete.json")).deleted == [("x", "1861234567890123461")]


def test_queries_respect_the_length_limit_and_quote_phrases():
    terms = ["vaccine", "test site", "#vaccine", "from:HarborHealth"] + [f"word{i}" for i in range(40)]
    queries = build_queries(terms, "-is:retweet lang:en", 120)
    assert len(queries) > 1 and all(len(q) <= 120 for q in queries)
    assert queries[0].startswith('(vaccine OR "test site" OR #vaccine OR from:HarborHealth')
    assert all(q.endswith("-is:retweet lang:en") for q in queries)
    assert build_queries(["x" * 200, "ok"], "", 64) == ["ok"]


def test_engine_pages_resumes_and_never_duplicates(httpserver, tmp_path):
    seen: list[dict] = []
    search_api(httpserver, seen)
    source = f'[sources.x]\nkind = "x"\nbase_url = "{httpserver.url_for("/").rstrip("/")}"\n'
    e = engine(tmp_path, source)
    first = e.collect("x")
    assert first.status == "ok" and first.posts == 5  # page 1 (3) + page 2 (2, one of them again, edited)
    stored = posts(e, "x")
    assert len(stored) == 4 and len({row[1] for row in stored}) == 4
    assert {row[1]: row[5] for row in stored}["1861234567890123401"] == "1861234567890123300"
    assert "next_token" in seen[1] and seen[0]["max_results"] == "100"
    assert "expansions" in seen[0] and "referenced_tweets.id" in seen[0]["expansions"]
    status, _, _, details = last_run(e, "x")
    assert status == "ok" and json.loads(details)["post_reads"] == 6 and json.loads(details)["cap_usd"] == 50.0
    e.db.close()
    again = engine(tmp_path, source)  # a restart: the cursor resumes from the newest id
    assert again.collect("x").posts == 0
    assert seen[-1]["since_id"] == "1861234567890123461" and "next_token" not in seen[-1]
    assert len(posts(again, "x")) == 4
    again.db.close()


def test_rate_limit_waits_for_the_reset_then_continues(httpserver):
    reset = int(time.time()) + 30
    httpserver.expect_ordered_request("/2/tweets/search/recent").respond_with_data(
        body("x", "error_429.json"), status=429, content_type="application/json",
        headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    httpserver.expect_ordered_request("/2/tweets/search/recent").respond_with_data(
        body("x", "search_page2.json"), content_type="application/json")
    sleeps = Sleeps()
    batch = collector(httpserver, sleeps).fetch(None)
    assert len(batch.posts) == 2 and len(sleeps.calls) == 1 and 25 <= sleeps.calls[0] <= 31


@pytest.mark.parametrize("status, fixture, expected", [
    (401, None, "rejected the bearer token"),
    (403, "error_403.json", "not attached to a project"),
])
def test_auth_errors_say_what_to_do(httpserver, status, fixture, expected):
    httpserver.expect_request("/2/tweets/search/recent").respond_with_data(
        body("x", fixture) if fixture else b'{"title":"Unauthorized","status":401}', status=status,
        content_type="application/json")
    with pytest.raises(AuthFailed, match=expected):
        collector(httpserver).fetch(None)


def test_server_errors_back_off_then_give_up(httpserver):
    httpserver.expect_request("/2/tweets/search/recent").respond_with_data("upstream timeout", status=503)
    sleeps = Sleeps()
    with pytest.raises(CollectorError, match="server error 503"):
        collector(httpserver, sleeps).fetch(None)
    assert len(sleeps.calls) == 3  # four attempts, bounded backoff between them


def test_monthly_cap_stops_collection_and_says_so(httpserver, tmp_path):
    search_api(httpserver, [])
    source = (f'[sources.x]\nkind = "x"\nbase_url = "{httpserver.url_for("/").rstrip("/")}"\n'
              "monthly_cap_usd = 0.17\nmax_results = 10\n")
    e = engine(tmp_path, source)
    first = e.collect("x")  # a page of 10 costs up to 0.15 (post + author): after page 1 (0.04) less than that is left
    assert first.status == "error" and "X monthly cap reached" in first.error
    assert "$0.04 of the $0.17 cap" in first.error and "monthly_cap_usd" in first.error
    assert len(posts(e, "x")) == 3  # the page read before the cap is kept
    e.db.close()


def test_month_rollover_resets_the_meter(httpserver):
    search_api(httpserver, [])
    c = collector(httpserver)
    state = {"month": "2026-10", "post_reads": 99999, "user_reads": 0}
    batch = c.fetch(json.dumps(state))
    assert batch.stats["month"] == "2026-11" and batch.stats["post_reads"] == 4


def stream_api(server: HTTPServer, rules: list) -> None:
    server.expect_request("/2/tweets/search/stream/rules", method="GET").respond_with_data(
        body("x", "rules.json"), content_type="application/json")

    def change(request: Request) -> Response:
        rules.append(request.get_json())
        return Response(json.dumps({"meta": {"sent": "2026-11-20T16:00:00.000Z"}}), content_type="application/json")

    server.expect_request("/2/tweets/search/stream/rules", method="POST").respond_with_handler(change)

    def stream(request: Request) -> Response:
        def lines():
            for line in body("x", "stream_messages.jsonl").splitlines():
                yield line + b"\r\n"
            for _ in range(10):
                time.sleep(0.1)
                yield b"\r\n"  # keep-alive, as X sends every 20 s

        return Response(lines(), content_type="application/json")

    server.expect_request("/2/tweets/search/stream").respond_with_handler(stream)


def test_filtered_stream_syncs_rules_and_buffers_posts():
    server = HTTPServer(threaded=True)
    server.start()
    rules: list = []
    try:
        stream_api(server, rules)
        c = collector(server, mode="stream", stream_wait_seconds=3.0)
        batch = c.fetch(None)
        deadline = time.monotonic() + 3
        while len(batch.posts) < 2 and time.monotonic() < deadline:
            batch.posts += c.fetch(batch.next_cursor).posts
        assert {p.watches for p in batch.posts} == {("testing and care",), ("vaccines",)}
        assert rules[0] == {"delete": {"ids": ["1861000000000000009"]}}
        added = {r["tag"]: r["value"] for r in rules[1]["add"]}
        assert added == {"testing and care": '("test site" OR clinic OR "Harbor County")'}
        c.stream.disconnect()
    finally:
        server.clear()
        server.stop()


def test_a_since_id_older_than_seven_days_restarts_from_the_oldest_available(httpserver):
    def handler(request: Request) -> Response:
        if "since_id" in request.args:
            problem = {"errors": [{"parameters": {"since_id": ["1"]}, "message": "Invalid 'since_id':'1'. 'since_id' "
                                   "must be a tweet id created after 2026-11-13T16:00:00Z."}],
                       "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                       "type": "https://api.twitter.com/2/problems/invalid-request"}
            return Response(json.dumps(problem), status=400, content_type="application/json")
        return Response(body("x", "search_page2.json"), content_type="application/json")

    httpserver.expect_request("/2/tweets/search/recent").respond_with_handler(handler)
    c = collector(httpserver)
    cursor = json.dumps({"month": "2026-11", "queries": {q: {"since": "1"} for q in c.queries}})
    batch = c.fetch(cursor)
    assert len(batch.posts) == 2 and "older than recent search's 7 days" in batch.warnings[0]
    assert json.loads(batch.next_cursor)["queries"][c.queries[0]]["since"] == "1861234567890123459"
