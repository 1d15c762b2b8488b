"""Reddit through the real praw / prawcore client (app-only OAuth) against a fake Reddit on 127.0.0.1."""

import json

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine, last_run, load, posts
from werkzeug import Request, Response

from collectors.base import AuthFailed
from collectors.reddit import RedditCollector, RedditSettings, parse


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "fake-client-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "fake-secret")


def fake_reddit(httpserver, listings: dict[str, list[str]], seen: list[tuple[str, dict]]) -> None:
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_data(
        body("reddit", "token.json"), content_type="application/json")
    calls: dict[str, int] = {}

    def listing(request: Request) -> Response:
        seen.append((request.path, dict(request.args)))
        assert request.headers["Authorization"].startswith("bearer ")
        names = listings[request.path]
        n = calls[request.path] = calls.get(request.path, -1) + 1
        headers = {"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "400"}
        return Response(body("reddit", names[min(n, len(names) - 1)]), content_type="application/json",
                        headers=headers)

    for path in listings:
        httpserver.expect_request(path, method="GET").respond_with_handler(listing)


def test_mapping_submissions_comments_deletions_and_crossposts():
    mapped = parse([load("reddit", name) for name in ("new_page1.json", "comments.json", "new_page2.json")])
    by_id = {p.post_id: p for p in mapped.posts}
    assert set(by_id) == {"t3_1gv9m2d", "t3_1gv9m2c", "t1_lxy0001", "t3_1gv9m2a"}  # "more" stubs are not posts
    assert mapped.deleted == [("reddit", "t3_1gv9m2b")]
    assert by_id["t1_lxy0001"].reply_to_id == "t3_1gv9m2c" and "¡Gracias" in by_id["t1_lxy0001"].text
    assert by_id["t3_1gv9m2d"].text.startswith("Booster clinic experience\n\nGot my booster") and "👍" in \
        by_id["t3_1gv9m2d"].text
    assert by_id["t3_1gv9m2a"].repost_of_id == "t3_1gu0000" and by_id["t3_1gv9m2d"].like_count == 42
    assert by_id["t3_1gv9m2d"].url == "https://www.reddit.com/r/HarborCounty/comments/1gv9m2d/booster_clinic_experience/"


def test_engine_collects_resumes_and_never_duplicates(httpserver, tmp_path):
    seen: list = []
    fake_reddit(httpserver, {"/r/HarborCounty/new": ["new_page1.json", "newer.json"],
                             "/r/HarborCounty/comments": ["comments.json"]}, seen)
    source = f"""
        [sources.reddit]
        kind = "reddit"
        base_url = "{httpserver.url_for("/").rstrip("/")}"
        subreddits = ["HarborCounty"]
    """
    e = engine(tmp_path, source)
    assert e.collect("reddit").posts == 3
    assert [r[1] for r in posts(e, "reddit")] == ["t1_lxy0001", "t3_1gv9m2c", "t3_1gv9m2d"]
    assert seen[0][1]["limit"] == "100" and seen[0][1]["raw_json"] == "1"
    e.db.close()
    again = engine(tmp_path, source)  # restart: each feed resumes from its newest created_utc
    summary = again.collect("reddit")
    assert summary.status == "ok" and summary.posts == 1
    assert [r[1] for r in posts(again, "reddit")] == ["t1_lxy0001", "t3_1gv9m2c", "t3_1gv9m2d", "t3_1gva000"]
    assert json.loads(last_run(again, "reddit")[3]) == {"feeds": 2}
    again.db.close()


def test_pages_until_it_reaches_what_it_has(httpserver):
    seen: list = []
    fake_reddit(httpserver, {"/r/HarborCounty/new": ["new_page1.json", "new_page2.json"]}, seen)
    s = RedditSettings(base_url=httpserver.url_for("/").rstrip("/"), subreddits=("HarborCounty",), comments=False)
    c = RedditCollector("reddit", s, sleep=Sleeps())
    cursor = json.dumps({"/r/HarborCounty/new": {"created": 1732112000.0, "ids": ["t3_1gv9m2a"]}})
    batch = c.fetch(cursor)
    assert [p.post_id for p in batch.posts] == ["t3_1gv9m2d", "t3_1gv9m2c"]
    assert batch.deleted == [("reddit", "t3_1gv9m2b")] and seen[1][1]["after"] == "t3_1gv9m2b"
    assert json.loads(batch.next_cursor)["/r/HarborCounty/new"] == {"created": 1732115045.0, "ids": ["t3_1gv9m2d"]}


def test_rejected_credentials_say_reddit_must_approve_the_app(httpserver):
    httpserver.expect_request("/api/v1/access_token").respond_with_data('{"message": "Unauthorized", "error": 401}',
                                                                        status=401, content_type="application/json")
    s = RedditSettings(base_url=httpserver.url_for("/").rstrip("/"), subreddits=("HarborCounty",))
    with pytest.raises(AuthFailed, match="must be approved by Reddit"):
        RedditCollector("reddit", s, sleep=Sleeps()).fetch(None)


def test_rate_limit_waits_for_reddits_reset(httpserver):
    httpserver.expect_request("/api/v1/access_token").respond_with_data(body("reddit", "token.json"),
                                                                        content_type="application/json")
    answers = [Response("Too Many Requests", status=429, headers={
        "x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": "1"}),
        Response(body("reddit", "new_page2.json"), content_type="application/json")]
    httpserver.expect_request("/r/HarborCounty/new").respond_with_handler(lambda request: answers.pop(0))
    s = RedditSettings(base_url=httpserver.url_for("/").rstrip("/"), subreddits=("HarborCounty",), comments=False)
    sleeps = Sleeps()
    batch = RedditCollector("reddit", s, sleep=sleeps).fetch(None)
    assert [p.post_id for p in batch.posts] == ["t3_1gv9m2a"] and sleeps.calls == [1.0]


def test_malformed_body_is_quarantined_and_other_feeds_kept(httpserver):
    seen: list = []
    fake_reddit(httpserver, {"/r/HarborCounty/comments": ["comments.json"]}, seen)
    httpserver.expect_request("/r/HarborCounty/new").respond_with_data("<html>we are down</html>",
                                                                     content_type="application/json")
    s = RedditSettings(base_url=httpserver.url_for("/").rstrip("/"), subreddits=("HarborCounty",))
    batch = RedditCollector("reddit", s, sleep=Sleeps()).fetch(None)
    assert [p.post_id for p in batch.posts] == ["t1_lxy0001"]
    assert "not JSON" in batch.quarantined[0].reason and "we are down" in batch.quarantined[0].raw
