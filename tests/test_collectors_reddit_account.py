"""The agency's own Reddit account through the real praw / prawcore client (password grant) against a fake Reddit
on 127.0.0.1: inbox replies, username mentions and private messages, its own posts and comments, directions, the
inbox, and resuming without repeats."""

import json

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine
from werkzeug import Request, Response

from collectors.base import AuthFailed, CollectorError
from collectors.reddit_account import RedditAccountCollector, RedditAccountSettings


def thing(kind: str, name: str, author: str, created: float, **data) -> dict:
    return {"kind": kind, "data": {"name": name, "id": name[3:], "author": author, "author_fullname": f"t2_{author}",
                                   "created_utc": created, **data}}


def listing(*children: dict) -> bytes:
    return json.dumps({"kind": "Listing", "data": {"after": None, "children": list(children)}}).encode()


FEEDS = {
    "/message/inbox": listing(
        thing("t1", "t1_rep1", "resident_r", 1764583200.0, body="Is the fairgrounds site open today?",
              parent_id="t3_own1", context="/r/HarborCounty/comments/own1/testing/rep1/?context=3", was_comment=True),
        thing("t4", "t4_msg1", "resident_s", 1764583300.0, subject="Boil notice", body="Is our water safe?")),
    "/message/mentions": listing(
        thing("t1", "t1_men1", "resident_t", 1764583400.0, body="u/HarborCountyPH the line is 3 hours",
              parent_id="t3_other", context="/r/HarborCounty/comments/other/line/men1/?context=3")),
    "/user/HarborCountyPH/submitted": listing(
        thing("t3", "t3_own1", "HarborCountyPH", 1764579600.0, title="Testing at the fairgrounds", selftext="9-5",
              score=12, num_comments=1, permalink="/r/HarborCounty/comments/own1/testing/")),
    "/user/HarborCountyPH/comments": listing(
        thing("t1", "t1_ans1", "HarborCountyPH", 1764586800.0, body="Yes, open 9-5 today.", parent_id="t1_rep1",
              score=2, permalink="/r/HarborCounty/comments/own1/testing/ans1/")),
}


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", "fake-client-id")
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", "fake-secret")
    monkeypatch.setenv("REDDIT_PASSWORD", "account-password")


def fake_reddit(httpserver, seen: list[tuple[str, dict]]) -> None:
    def token(request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "password" or form.get("password") != "account-password":
            return Response('{"error": "invalid_grant"}', content_type="application/json")  # as Reddit answers
        assert form.get("username") == "HarborCountyPH"
        return Response(body("reddit", "token.json"), content_type="application/json")

    def feed(request: Request) -> Response:
        seen.append((request.path, dict(request.args)))
        assert request.headers["Authorization"].startswith("bearer ")
        return Response(FEEDS[request.path], content_type="application/json",
                        headers={"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "400"})

    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_handler(token)
    for path in FEEDS:
        httpserver.expect_request(path, method="GET").respond_with_handler(feed)


def test_inbox_mentions_and_own_posts_with_directions_and_the_inbox(httpserver, tmp_path):
    seen: list[tuple[str, dict]] = []
    fake_reddit(httpserver, seen)
    source = f"""
        [accounts]
        reddit = "u/HarborCountyPH"
        [sources.reddit_account]
        kind = "reddit_account"
        base_url = "{httpserver.url_for("/").rstrip("/")}"
    """
    e = engine(tmp_path, source)
    assert e.collect("reddit_account").posts == 5
    stored = dict(e.db.reader().execute("SELECT post_id, direction FROM posts").fetchall())
    assert stored == {"t1_rep1": "to_agency", "t4_msg1": "to_agency", "t1_men1": "to_agency",
                      "t3_own1": "by_agency", "t1_ans1": "by_agency"}
    inbox = dict(e.db.reader().execute("SELECT post_id, status FROM inbox_items").fetchall())
    assert inbox == {"t1_rep1": "answered", "t4_msg1": "new", "t1_men1": "new"}
    message = e.db.reader().execute("SELECT text, url FROM posts WHERE post_id = 't4_msg1'").fetchone()
    assert message == ("Boil notice\n\nIs our water safe?", None)
    assert e.db.reader().execute("SELECT url FROM posts WHERE post_id = 't1_men1'").fetchone() == (
        "https://www.reddit.com/r/HarborCounty/comments/other/line/men1/?context=3",)
    e.db.close()
    again = engine(tmp_path, source)
    assert again.collect("reddit_account").posts == 0  # every feed resumes after what it read
    assert {path for path, _ in seen} == set(FEEDS)
    again.db.close()


def test_a_rejected_password_and_a_missing_username_say_what_to_do(httpserver, monkeypatch):
    fake_reddit(httpserver, [])
    monkeypatch.setenv("REDDIT_PASSWORD", "wrong")
    settings = RedditAccountSettings(base_url=httpserver.url_for("/").rstrip("/"))
    with pytest.raises(AuthFailed, match=r"approved by Reddit.*the password REDDIT_PASSWORD holds"):
        RedditAccountCollector("r", settings, "HarborCountyPH", Sleeps()).fetch(None)
    with pytest.raises(CollectorError, match=r"\[accounts\] reddit is not set"):
        RedditAccountCollector("r", settings, "", Sleeps())
