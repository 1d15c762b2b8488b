"""The agency's own Bluesky account through the real atproto SDK against a fake PDS on 127.0.0.1: notifications,
its own posts (engagement over time), reply threads, directions, the inbox, and resuming after a restart."""

import json
import time

import pytest
from fixtures.collectors.fakes import Sleeps, engine
from test_collectors_bluesky import jwt
from test_collectors_shapes import load
from werkzeug import Request, Response

from collectors.base import AuthFailed, CollectorError
from collectors.bluesky_account import BlueskyAccountCollector, BlueskyAccountSettings

AGENCY = "did:plc:agency123"
POST = "app.bsky.feed.post"


def fake_pds(httpserver, seen: list[tuple[str, dict]], password: str = "app-pass-1234") -> None:
    def session(request: Request) -> Response:
        if request.get_json()["password"] != password:
            refusal = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            return Response(json.dumps(refusal), status=401, content_type="application/json")
        return Response(json.dumps({"did": AGENCY, "handle": "harborhealth.bsky.social", "accessJwt": jwt(
            int(time.time()) + 7200), "refreshJwt": jwt(int(time.time()) + 86400), "active": True}),
            content_type="application/json")

    def serve(name: str):
        def handler(request: Request) -> Response:
            seen.append((request.path.rsplit(".", 1)[-1], dict(request.args)))
            assert request.headers["Authorization"].startswith("Bearer ")
            last_page = name.endswith("listNotifications.json") and request.args.get("cursor")
            return Response(json.dumps({"notifications": []} if last_page else load(name)),
                            content_type="application/json")

        return handler

    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_handler(session)
    for endpoint, name in (("app.bsky.notification.listNotifications", "bluesky_listNotifications.json"),
                           ("app.bsky.feed.getAuthorFeed", "bluesky_getAuthorFeed.json"),
                           ("app.bsky.feed.getPostThread", "bluesky_getPostThread.json")):
        httpserver.expect_request(f"/xrpc/{endpoint}").respond_with_handler(serve(name))


def source(httpserver) -> str:
    return f"""
        [accounts]
        bluesky = "harborhealth.bsky.social"
        [sources.bsky_account]
        kind = "bluesky_account"
        base_url = "{httpserver.url_for("/").rstrip("/")}"
    """


def test_mentions_own_posts_and_threads_with_their_directions_and_the_inbox(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
    seen: list[tuple[str, dict]] = []
    fake_pds(httpserver, seen)
    e = engine(tmp_path, source(httpserver))
    assert e.collect("bsky_account").status == "ok"
    stored = dict(e.db.reader().execute("SELECT regexp_extract(post_id, '[^/]+$'), direction FROM posts").fetchall())
    assert stored == {"3lmen": "to_agency", "3lrep": "to_agency",  # notifications: a mention and a reply
                      "3lroot": "by_agency", "3lrep2": "by_agency",  # its own posts (not the repost of another's)
                      "3lrep1": "to_agency"}  # the resident's reply in the thread of its post
    assert [p for p, _ in seen] == ["listNotifications", "listNotifications", "getAuthorFeed", "getPostThread"]
    assert seen[1][1]["cursor"] == "2026-12-01T10:00:01.000Z"
    assert seen[2][1]["actor"] == AGENCY and seen[3][1]["uri"] == f"at://{AGENCY}/{POST}/3lroot"
    inbox = dict(e.db.reader().execute("SELECT regexp_extract(post_id, '[^/]+$'), status FROM inbox_items").fetchall())
    assert inbox == {"3lmen": "new", "3lrep": "new", "3lrep1": "answered"}  # 3lrep2 is the agency's answer
    e.db.close()
    again = engine(tmp_path, source(httpserver))  # restart: nothing new, no thread read again, engagement kept
    summary = again.collect("bsky_account")
    assert summary.status == "ok" and summary.details["threads"] == 0
    assert [p for p, _ in seen[4:]] == ["listNotifications", "getAuthorFeed"]  # the first page was all seen
    engagement = again.db.reader().execute("SELECT count(*), max(like_count) FROM own_post_engagement "
                                           "WHERE post_id LIKE '%3lroot'").fetchall()
    assert engagement == [(2, 12)]
    assert again.db.reader().execute("SELECT count(*) FROM inbox_items").fetchall() == [(3,)]
    again.db.close()


def test_notifications_older_than_the_last_seen_are_not_mapped_again(httpserver, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
    fake_pds(httpserver, [])
    c = BlueskyAccountCollector("b", BlueskyAccountSettings(base_url=httpserver.url_for("/").rstrip("/")),
                                "harborhealth.bsky.social", Sleeps())
    first = c.fetch(None)
    state = json.loads(first.next_cursor)
    assert state["seen"] == "2026-12-01T10:00:01.000Z" and state["replies"] == {f"at://{AGENCY}/{POST}/3lroot": 3}
    later = c.fetch(first.next_cursor)
    assert {p.direction for p in later.posts} == {"by_agency"}  # only its own posts, read again for engagement


def test_a_wrong_app_password_and_a_missing_handle_say_what_to_do(httpserver, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong")
    fake_pds(httpserver, [])
    settings = BlueskyAccountSettings(base_url=httpserver.url_for("/").rstrip("/"))
    with pytest.raises(AuthFailed, match="App passwords"):
        BlueskyAccountCollector("b", settings, "harborhealth.bsky.social", Sleeps()).fetch(None)
    with pytest.raises(CollectorError, match=r"\[accounts\] bluesky is not set"):
        BlueskyAccountCollector("b", settings, "", Sleeps()).fetch(None)
