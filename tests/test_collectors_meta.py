"""The Meta Graph API source (a Facebook Page and its Instagram account) against a fake Graph API on 127.0.0.1:
mapping, paging, the cursor, Graph's own errors, and one post for an item seen by the webhook and by polling."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from fixtures.collectors.fakes import Sleeps, engine, load
from werkzeug import Request, Response

from collectors.base import AuthFailed, CollectorError, RateLimited
from collectors.meta import MetaPageCollector, MetaPageSettings, parse, to_posts
from intake.spool import Spool
from intake.webhooks import meta_items

NOW = datetime(2025, 11, 20, 12, tzinfo=UTC)
OWN = ("1001", "17841000")


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.setenv("META_PAGE_TOKEN", "EAAPageToken123")


def collector(url: str, clock=lambda: NOW, **kw) -> MetaPageCollector:
    s = MetaPageSettings(base_url=url, page_id="1001", instagram_user_id="17841000", **kw)
    return MetaPageCollector("facebook", s, clock, Sleeps())


def test_page_posts_comments_messages_and_media_map_with_webhook_ids_and_directions():
    page = parse(load("meta", "published_posts.json"), OWN, "post")
    got = {p.post_id: (p.direction, p.reply_to_id, p.author_id) for p in page.posts}
    assert got == {"facebook-1001_2001": ("by_agency", None, None),
                   "facebook-2001_3003": ("by_agency", "facebook-2001_3002", "facebook:1001"),
                   "facebook-2001_3002": ("to_agency", "facebook-2001_3001", "facebook:5550002"),
                   "facebook-2001_3001": ("to_agency", "facebook-1001_2001", "facebook:5550001"),
                   "facebook-1001_2000": ("by_agency", None, None)}
    story = next(p for p in page.posts if p.post_id == "facebook-1001_2000")
    assert story.text.startswith("Harbor County Public Health updated") and "missing created_time" in \
        page.quarantined[0].reason
    first = next(p for p in page.posts if p.post_id == "facebook-1001_2001")
    assert first.reply_count == 3 and "comments" not in first.raw and first.created_at == datetime(
        2025, 11, 19, 15, tzinfo=UTC)
    messages = parse(load("meta", "conversations.json"), OWN)
    assert [(p.post_id, p.direction) for p in messages.posts] == [("facebook-msg-m_AbCdEf2", "by_agency"),
                                                                  ("facebook-msg-m_AbCdEf1", "to_agency")]
    media = parse(load("meta", "media.json"), OWN)
    assert [(p.post_id, p.direction, p.reply_to_id) for p in media.posts] == [
        ("instagram-17900000000000001", "by_agency", None),
        ("instagram-17850000000000001", "to_agency", "instagram-17900000000000001"),
        ("instagram-17850000000000002", "by_agency", "instagram-17850000000000001")]
    assert media.posts[1].author_handle == "harbor_dana" and media.posts[0].like_count == 12


@pytest.mark.parametrize("payload", [{"data": [None, 3, {"id": "x"}]}, {"error": {"code": 190}}, {"data": "x"},
                                     {"messages": {"data": [{}]}}, [{"comments": {"data": [1]}, "timestamp": 5}]])
def test_odd_payloads_map_to_nothing_without_raising(payload):
    assert to_posts(payload) == []


class FakeGraph:
    """Graph endpoints for page 1001 and IG account 17841000, with cursor paging (`after`) and a bearer token."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []
        self.posts = load("meta", "published_posts.json")
        self.posts["data"][0]["comments"]["paging"]["next"] = "https://graph.facebook.com/v21.0/2001/comments?after=C1"
        self.posts["paging"]["next"] = "https://graph.facebook.com/v21.0/1001/published_posts?after=P1&access_token=t"
        self.older_comments = [{"id": "2001_3000", "message": "Is it open to kids?", "from": {"id": "5550003"},
                                "created_time": "2025-11-19T15:30:00+0000"}]
        self.error: tuple[int, dict, dict] | None = None
        self.error_path = ""  # the error is answered for paths ending so ("": every path)

    def __call__(self, request: Request) -> Response:
        args = dict(request.args)
        self.seen.append((request.path, args))
        assert request.headers["Authorization"] == "Bearer EAAPageToken123"
        if self.error and request.path.endswith(self.error_path):
            status, body, headers = self.error
            return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")
        return Response(json.dumps(self.answer(request.path, args)), content_type="application/json")

    def answer(self, path: str, args: dict) -> dict:
        if path.endswith("/1001/published_posts"):
            if args.get("after") == "P1":
                older = {"id": "1001_1990", "message": "Older post", "created_time": "2025-11-15T10:00:00+0000"}
                return {"data": [older]}
            return self.posts
        if path.endswith("/1001_2001/comments"):
            assert args["after"] == "C1" and args["order"] == "reverse_chronological"
            return {"data": self.older_comments}
        if path.endswith("/1001/conversations"):
            return load("meta", "conversations.json")
        if path.endswith("/17841000/media"):
            return load("meta", "media.json")
        return {"error": {"code": 803, "message": f"unknown path {path}"}}


@pytest.fixture
def graph(httpserver):
    fake = FakeGraph()
    httpserver.expect_request("").respond_with_handler(fake)  # every path
    return fake, httpserver.url_for("/v21.0")


def test_pages_follow_paging_next_against_base_url_and_posts_older_comments(graph):
    fake, url = graph
    batch = collector(url).fetch(None)
    ids = {p.post_id for p in batch.posts}
    assert {"facebook-1001_1990", "facebook-2001_3000", "facebook-msg-m_AbCdEf1", "instagram-17850000000000002"} <= ids
    assert len(ids) == len(batch.posts) == 12 and not batch.warnings and len(batch.quarantined) == 1
    second = [a for p, a in fake.seen if p.endswith("/published_posts")][1]
    assert second["after"] == "P1" and "access_token" not in second  # the token travels only in the header
    assert int(second["since"]) == int((NOW - timedelta(days=7)).timestamp())
    state = json.loads(batch.next_cursor)
    assert state["comments"] == "2025-11-19T17:05:00Z" and state["messages"] == "2025-11-19T18:30:00Z"
    assert state["instagram"] == "2025-11-19T16:45:00Z"


def test_the_cursor_resumes_after_the_newest_item_seen_per_feed(graph):
    fake, url = graph
    c = collector(url)
    first = c.fetch(None)
    fake.posts["data"][0]["comments"]["data"].insert(0, {
        "id": "2001_3004", "message": "Will there be boosters?", "from": {"id": "5550004"},
        "created_time": "2025-11-19T19:00:00+0000"})
    again = collector(url).fetch(first.next_cursor)
    residents = {p.post_id for p in again.posts if p.reply_to_id or p.post_id.startswith("facebook-msg-")}
    # the new comment; the newest already seen per feed (at the mark, stored again harmlessly); nothing older
    assert residents == {"facebook-2001_3004", "facebook-2001_3003", "facebook-msg-m_AbCdEf2",
                         "instagram-17850000000000002"}
    assert not any(p.endswith("/1001_2001/comments") for p, _ in fake.seen[len(fake.seen) - 4:])
    assert json.loads(again.next_cursor)["comments"] == "2025-11-19T19:00:00Z"


def test_an_expired_token_says_how_to_get_a_long_lived_page_token(graph):
    fake, url = graph
    fake.error = (400, {"error": {"message": "Error validating access token: Session has expired",
                                  "type": "OAuthException", "code": 190, "error_subcode": 463}}, {})
    with pytest.raises(AuthFailed, match=r"expired or invalid.*190/463.*long-lived.*me/accounts") as e:
        collector(url).fetch(None)
    assert "EAAPageToken123" not in str(e.value)


def test_a_missing_permission_names_the_one_the_call_needs(graph):
    fake, url = graph
    fake.error = (403, {"error": {"message": "(#200) Requires pages_messaging permission", "type": "OAuthException",
                                  "code": 200}}, {})
    fake.error_path = "/conversations"
    with pytest.raises(AuthFailed, match=r"conversations.*needs pages_messaging"):
        collector(url).fetch(None)
    fake.error_path = ""
    fake.error = (400, {"error": {"message": "(#10) no permission", "code": 10}}, {})
    with pytest.raises(AuthFailed, match=r"needs pages_read_engagement and pages_read_user_content"):
        collector(url).fetch(None)


def test_rate_limits_wait_as_the_usage_header_says(graph):
    fake, url = graph
    usage = {"1001": [{"type": "pages", "call_count": 100, "total_cputime": 20, "total_time": 30,
                       "estimated_time_to_regain_access": 10}]}
    fake.error = (400, {"error": {"message": "(#32) Page request limit reached", "code": 32}},
                  {"X-Business-Use-Case-Usage": json.dumps(usage)})
    c = collector(url)
    with pytest.raises(RateLimited, match="rate limit") as e:
        c.fetch(None)
    assert e.value.retry_after == 600.0 and c._sleep.calls == [600.0] * 3  # waited, retried, then gave up
    fake.error = (400, {"error": {"message": "(#4) Application request limit reached", "code": 4}},
                  {"X-App-Usage": json.dumps({"call_count": 100, "total_time": 5, "total_cputime": 5}),
                   "Retry-After": "120"})
    with pytest.raises(RateLimited) as e:
        collector(url).fetch(None)
    assert e.value.retry_after == 120.0


def test_a_bad_parameter_names_the_ids_to_check(graph):
    fake, url = graph
    fake.error = (400, {"error": {"message": "(#100) Tried accessing nonexisting field", "code": 100,
                                  "error_subcode": 33, "type": "GraphMethodException"}}, {})
    with pytest.raises(CollectorError, match=r"refused a parameter.*page_id"):
        collector(url).fetch(None)


def test_a_webhook_item_and_the_polled_one_are_one_post(graph, tmp_path):
    _, url = graph
    hook = {"object": "page", "entry": [{"id": "1001", "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "comment_id": "2001_3001", "post_id": "1001_2001", "message": "Do I need an "
        "appointment for the vaccine?", "from": {"id": "5550001"}}}], "messaging": [{"sender": {"id": "5550002"},
        "message": {"mid": "m_AbCdEf1", "text": "Is the Saturday clinic 9-1 or 10-2?"}}]}]}
    ig = {"object": "instagram", "entry": [{"id": "17841000", "changes": [{"field": "comments", "value": {
        "id": "17850000000000001", "text": "Is parking free?", "from": {"id": "1784000002"},
        "media": {"id": "17900000000000001"}}}]}]}
    items = [*meta_items(hook), *meta_items(ig)]
    for item in items:
        Spool(tmp_path / "spool").append(item)
    e = engine(tmp_path, f"""
        [sources.inbox]
        kind = "intake"
        path = "{tmp_path / 'spool'}"
        [sources.facebook]
        kind = "meta_page"
        base_url = "{url}"
        page_id = "1001"
        instagram_user_id = "17841000"
        lookback_days = 100000.0
    """)
    assert e.collect("inbox").posts == 3
    assert e.collect("facebook").posts == 12
    assert e.db.reader().execute("SELECT count(*) FROM posts").fetchone()[0] == 12  # the webhook's 3 among them
    rows = e.db.reader().execute("SELECT platform, post_id, direction, reply_to_id FROM posts WHERE post_id IN "
                                 f"({', '.join('?' * len(items))})", [i["id"] for i in items]).fetchall()
    assert sorted(rows) == [("facebook", "facebook-2001_3001", "to_agency", "facebook-1001_2001"),
                            ("facebook", "facebook-msg-m_AbCdEf1", "to_agency", None),
                            ("instagram", "instagram-17850000000000001", "to_agency", "instagram-17900000000000001")]
    e.db.close()
