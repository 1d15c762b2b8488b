"""Mastodon through the real Mastodon.py client against a fake server on 127.0.0.1 (timelines and streaming)."""

import json
import time

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine, load, posts
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from collectors.base import AuthFailed, Watch
from collectors.mastodon import MastodonCollector, MastodonSettings, parse, to_posts

WATCHES = (Watch("vaccines", ("vaccine",), ("vaccine",)),)


def timeline_api(httpserver, seen: list[dict]) -> None:
    def tag(request: Request) -> Response:
        seen.append(dict(request.args))
        name = "tag_page2.json" if request.args.get("min_id") else "tag_page1.json"
        return Response(body("mastodon", name), content_type="application/json",
                        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                                 "X-RateLimit-Reset": "2026-11-20T15:35:00.000Z"})

    httpserver.expect_request("/api/v1/timelines/tag/vaccine").respond_with_handler(tag)


def test_mapping_reblogs_quotes_replies_and_html():
    mapped = parse(load("mastodon", "tag_page1.json"))
    reply, boost, quote = mapped.posts
    assert reply.text == "Replying: is the clinic open late on Thursday?\nAsking for my mum 🙏"
    assert reply.reply_to_id == "113500000000000100" and reply.author_handle == "bo"
    assert boost.repost_of_id == "113500000000000100" and boost.text.startswith("Boosters now at every county")
    assert boost.like_count == 20 and boost.author_handle == "nursekim@health.example"
    assert quote.quote_of_id == "113500000000000100" and "that's actually right & clear 👇" in quote.text
    assert quote.raw["id"] == "113500000000000101" and mapped.warnings == []


def test_stream_messages_updates_edits_and_deletes():
    message = {"stream": ["hashtag", "vaccine"], "event": "status.update",
               "payload": json.dumps(load("mastodon", "tag_page2.json")[0])}
    [post] = to_posts(message)
    assert post.lang == "es" and "🇲🇽" in post.text
    assert parse({"event": "delete", "payload": "113500000000000102"}).deleted == [("mastodon", "113500000000000102")]
    broken = parse({"event": "update", "payload": "{not json"})
    assert broken.posts == [] and "not JSON" in broken.quarantined[0].reason
    assert parse({"event": "notification", "payload": "{}"}).posts == []


def test_engine_follows_the_hashtag_and_resumes_after_restart(httpserver, tmp_path):
    seen: list[dict] = []
    timeline_api(httpserver, seen)
    source = f'[sources.mastodon]\nkind = "mastodon"\nbase_url = "{httpserver.url_for("/").rstrip("/")}"\n'
    e = engine(tmp_path, source)
    assert e.collect("mastodon").posts == 3
    host = f"localhost:{httpserver.port}"
    rows = {r[1]: r for r in posts(e, "mastodon")}
    assert rows[f"{host}:113500000000000103"][4] == f"{host}:113500000000000100"
    e.db.close()
    again = engine(tmp_path, source)
    assert again.collect("mastodon").posts == 2  # one new status and one edit of a stored one
    assert seen[-1]["min_id"] == "113500000000000103" and seen[-1]["limit"] == "40"
    rows = {r[1]: r for r in posts(again, "mastodon")}
    assert len(rows) == 4 and "Thursday and Friday" in rows[f"{host}:113500000000000103"][2]
    again.db.close()


def test_unauthorized_says_a_token_is_needed(httpserver):
    httpserver.expect_request("/api/v1/timelines/tag/vaccine").respond_with_data(
        '{"error":"This method requires an authenticated user"}', status=401, content_type="application/json")
    c = MastodonCollector("m", MastodonSettings(base_url=httpserver.url_for("/").rstrip("/")), WATCHES, Sleeps())
    with pytest.raises(AuthFailed, match="needs an access token"):
        c.fetch(None)


def test_rate_limit_waits_until_the_reset_the_server_gave(httpserver):
    reset = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 20))
    answers = [Response('{"error":"Too many requests"}', status=429, content_type="application/json",
                        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
               Response(body("mastodon", "tag_page2.json"), content_type="application/json")]
    httpserver.expect_request("/api/v1/timelines/tag/vaccine").respond_with_handler(lambda r: answers.pop(0))
    sleeps = Sleeps()
    c = MastodonCollector("m", MastodonSettings(base_url=httpserver.url_for("/").rstrip("/")), WATCHES, sleeps)
    assert len(c.fetch(None).posts) == 2
    assert len(sleeps.calls) == 1 and 15 < sleeps.calls[0] <= 21


def test_streaming_takes_over_after_catch_up_and_brings_edits_and_deletes():
    server = HTTPServer(threaded=True)
    server.start()
    try:
        base, polls = server.url_for("/").rstrip("/"), []

        def tag(request: Request) -> Response:
            polls.append(request.args.get("min_id"))
            return Response("[]" if request.args.get("min_id") else body("mastodon", "tag_page1.json"),
                            content_type="application/json")

        server.expect_request("/api/v1/timelines/tag/vaccine").respond_with_handler(tag)
        server.expect_request("/api/v1/timelines/public").respond_with_data("[]", content_type="application/json")
        server.expect_request("/api/v2/instance/").respond_with_data(
            body("mastodon", "instance_v2.json").replace(b"STREAMING_URL", base.replace("http", "ws").encode()),
            content_type="application/json")
        server.expect_request("/api/v1/streaming/health").respond_with_data("OK")

        def sse(request: Request) -> Response:
            def chunks():
                yield body("mastodon", "stream.sse")
                time.sleep(0.5)  # then the server closes the stream

            return Response(chunks(), content_type="text/event-stream")

        server.expect_request("/api/v1/streaming/hashtag").respond_with_handler(sse)
        c = MastodonCollector("m", MastodonSettings(base_url=base, stream=True), WATCHES, Sleeps())
        first = c.fetch(None)
        assert len(first.posts) == 3 and list(c.streams) == ["tag:vaccine"]
        deadline, later = time.monotonic() + 5, first
        seen_posts, deleted = [], []
        while (len(seen_posts) < 2 or not deleted) and time.monotonic() < deadline:
            later = c.fetch(later.next_cursor)
            seen_posts += later.posts
            deleted += later.deleted
            time.sleep(0.05)
        host = f"localhost:{server.port}"
        assert {p.post_id for p in seen_posts} == {f"{host}:113500000000000105", f"{host}:113500000000000104"}
        assert deleted == [("mastodon", f"{host}:113500000000000102")]
        assert json.loads(later.next_cursor)["tag:vaccine"] == "113500000000000105"
        assert polls[0] is None and polls[1] in ("113500000000000103", "113500000000000105")  # covers the connecting
        c.streams["tag:vaccine"][1].join(3)
        after = c.fetch(later.next_cursor)  # the server closed the stream: back to polling, then streaming again
        assert "stream stopped (closed by the server)" in after.warnings[0] and polls[-1] == "113500000000000105"
        for _, handle in c.streams.values():
            handle.close()
    finally:
        server.clear()
        server.stop()
