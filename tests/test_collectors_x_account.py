"""The agency's own X account through the real tweepy client against a fake X API on 127.0.0.1: the mention
timeline (pages, since_id), its own posts every own_every_seconds, directions, the inbox, and the cost meter."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from fixtures.collectors.fakes import Sleeps, engine
from werkzeug import Request, Response

from collectors.base import CollectorError
from collectors.x_account import XAccountCollector, XAccountSettings

AGENCY, RESIDENT = "42", "783214"
USERS = [{"id": AGENCY, "name": "Harbor County PH", "username": "HarborCountyPH"},
         {"id": RESIDENT, "name": "R", "username": "resident_r"}]
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def tweet(ident: str, author: str, text: str, reply_to: str | None = None, likes: int = 0) -> dict:
    refs = {"referenced_tweets": [{"type": "replied_to", "id": reply_to}]} if reply_to else {}
    return {"id": ident, "text": text, "author_id": author, "created_at": "2026-12-01T10:00:00.000Z", "lang": "en",
            "edit_history_tweet_ids": [ident], **refs,
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": likes, "quote_count": 0}}


PAGES = {
    "first": {"data": [tweet("1002", RESIDENT, "@HarborCountyPH is the fairgrounds site open?")],
              "includes": {"users": USERS}, "meta": {"result_count": 1, "newest_id": "1002", "next_token": "p2"}},
    "second": {"data": [tweet("1001", AGENCY, "Reminder from @HarborCountyPH: boosters on Saturday")],
               "includes": {"users": USERS[:1]}, "meta": {"result_count": 1}},
    "none": {"meta": {"result_count": 0}},
    "own": {"data": [tweet("1003", AGENCY, "@resident_r Yes, 9-5 today.", reply_to="1002", likes=7),
                     tweet("1001", AGENCY, "Reminder from @HarborCountyPH: boosters on Saturday", likes=3)],
            "includes": {"users": USERS[:1]}, "meta": {"result_count": 2}},
}


def fake_x(httpserver, seen: list[tuple[str, dict]]) -> None:
    def handler(request: Request) -> Response:
        seen.append((request.path, dict(request.args)))
        assert request.headers["Authorization"] == "Bearer test-bearer"
        if request.path.endswith("/by/username/HarborCountyPH"):
            page = {"data": USERS[0]}
        elif request.path.endswith("/tweets"):
            page = PAGES["own"]
        else:
            args = request.args
            page = PAGES["second" if "pagination_token" in args else "none" if "since_id" in args else "first"]
        return Response(json.dumps(page), content_type="application/json")

    for path in ("/2/users/by/username/HarborCountyPH", f"/2/users/{AGENCY}/mentions", f"/2/users/{AGENCY}/tweets"):
        httpserver.expect_request(path).respond_with_handler(handler)


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", "test-bearer")


def test_mentions_and_own_posts_with_directions_and_the_inbox(httpserver, tmp_path):
    seen: list[tuple[str, dict]] = []
    fake_x(httpserver, seen)
    source = f"""
        [accounts]
        x = "HarborCountyPH"
        [sources.x_account]
        kind = "x_account"
        base_url = "{httpserver.url_for("/").rstrip("/")}"
    """
    e = engine(tmp_path, source)
    summary = e.collect("x_account")
    assert summary.status == "ok"
    stored = dict(e.db.reader().execute("SELECT post_id, direction FROM posts").fetchall())
    assert stored == {"1002": "to_agency", "1001": "by_agency", "1003": "by_agency"}
    assert e.db.reader().execute("SELECT post_id, status, answered_by FROM inbox_items").fetchall() == [
        ("1002", "answered", "@HarborCountyPH")]
    mentions = [args for path, args in seen if path.endswith("/mentions")]
    assert mentions[0]["max_results"] == "100" and mentions[1]["pagination_token"] == "p2"
    # 1 user lookup; 1 + 1 + 2 posts and 2 + 1 + 1 included users
    assert (summary.details["post_reads"], summary.details["user_reads"]) == (4, 5)
    e.db.close()
    again = engine(tmp_path, source)
    assert again.collect("x_account").posts == 0  # since_id: nothing new; own posts not due for 6 hours
    assert seen[-1][0].endswith("/mentions") and seen[-1][1]["since_id"] == "1002"
    assert not any(path.endswith("/by/username/HarborCountyPH") for path, _ in seen[4:])  # the id is in the cursor
    again.db.close()


def test_own_posts_are_read_again_when_due_and_the_cap_stops_the_source(httpserver):
    seen: list[tuple[str, dict]] = []
    fake_x(httpserver, seen)
    clock = [NOW]
    settings = XAccountSettings(base_url=httpserver.url_for("/").rstrip("/"))
    c = XAccountCollector("xa", settings, "@HarborCountyPH", wall=lambda: clock[0], sleep=Sleeps())
    first = c.fetch(None)
    second = c.fetch(first.next_cursor)
    clock[0] = NOW + timedelta(hours=7)
    third = c.fetch(second.next_cursor)
    assert [p.post_id for p in third.posts if p.direction == "by_agency"] == ["1003", "1001"]
    capped = XAccountCollector("xa", settings.model_copy(update={"monthly_cap_usd": 0.05}), "HarborCountyPH",
                               wall=lambda: NOW, sleep=Sleeps())
    with pytest.raises(CollectorError, match="X monthly cap reached"):
        capped.fetch(None)


def test_a_missing_username_says_what_to_set(httpserver):
    c = XAccountCollector("xa", XAccountSettings(base_url=httpserver.url_for("/").rstrip("/")), "", sleep=Sleeps())
    with pytest.raises(CollectorError, match=r"\[accounts\] x is not set"):
        c.fetch(None)
