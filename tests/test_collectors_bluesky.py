"""Bluesky: Jetstream from a local `websockets` server, searchPosts through the real atproto SDK (fake PDS)."""

import base64
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
from fixtures.collectors.fakes import FakeJetstream, Sleeps, body, engine, lines, load, posts
from werkzeug import Request, Response

from collectors.base import AuthFailed, Watch
from collectors.bluesky import (
    BlueskySearchCollector,
    BlueskySearchSettings,
    JetstreamCollector,
    JetstreamSettings,
    parse,
    to_posts,
)

WATCHES = (Watch("vaccines", ("vaccine", "booster")), Watch("testing and care", ("test site", "clinic")))
ALICE = "did:plc:z72i7hdynmk6r22z27h6tvur"


@pytest.fixture
def jetstream():
    servers = []

    def start(events, extra=None):
        servers.append(FakeJetstream(events, extra))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def test_jetstream_mapping_quotes_replies_edits_deletes():
    mapped = parse(lines("bluesky", "jetstream_events.jsonl"))
    by_id = {p.post_id: p for p in mapped.posts}
    booster = by_id[f"at://{ALICE}/app.bsky.feed.post/3lbqa2booster1"]
    assert "AND Sunday" in booster.text and booster.url == f"https://bsky.app/profile/{ALICE}/post/3lbqa2booster1"
    reply = by_id["at://did:plc:4hqjfn7m6n5hno3doamuhgef/app.bsky.feed.post/3lbqa2reply001"]
    assert reply.reply_to_id == booster.post_id and "¿Hay" in reply.text and reply.lang == "en"
    quote = by_id["at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3lbqa2quote001"]
    assert quote.quote_of_id == "at://did:plc:4hqjfn7m6n5hno3doamuhgef/app.bsky.feed.post/3lbq9zzmyth01"
    media = by_id["at://did:plc:4hqjfn7m6n5hno3doamuhgef/app.bsky.feed.post/3lbqa2media001"]
    assert media.quote_of_id == booster.post_id
    assert mapped.deleted == [("bluesky", quote.post_id)]
    assert len(mapped.quarantined) == 1 and "not an object" in mapped.quarantined[0].reason  # create, no record
    assert to_posts(lines("bluesky", "jetstream_events.jsonl")[0]) == []  # an identity event is no post


def test_engine_keeps_watched_posts_and_resumes_from_time_cursor(jetstream, tmp_path):
    events = lines("bluesky", "jetstream_events.jsonl")
    fake = jetstream(events, extra="{not json")
    source = f'[sources.bsky]\nkind = "jetstream"\nbase_url = "{fake.url}"\nlisten_seconds = 0.3\n'
    e = engine(tmp_path, source)
    first = e.collect("bsky")
    assert first.status == "ok" and first.quarantined == 2  # the broken commit and the non-JSON frame
    stored = {r[1]: r for r in posts(e, "bsky")}
    assert len(stored) == 3  # booster (edited), reply, media quote; the cat post matches no watch; quote deleted
    assert list(stored[f"at://{ALICE}/app.bsky.feed.post/3lbqa2booster1"][3]) == ["vaccines", "testing and care"]
    e.db.close()
    fake.events = events + lines("bluesky", "jetstream_later.jsonl")
    fake.extra = None
    again = engine(tmp_path, source)  # restart: resumes from the cursor, rewound 5 s (repeats are upserts)
    assert again.collect("bsky").status == "ok"
    cursor = int(parse_qs(urlparse(fake.paths[-1]).query)["cursor"][0])
    assert cursor == events[-1]["time_us"] - 5_000_000
    stored = {r[1]: r for r in posts(again, "bsky")}
    assert len(stored) == 4 and f"at://{ALICE}/app.bsky.feed.post/3lbqa3test0001" in stored
    again.db.close()


def test_jetstream_pages_when_the_stream_has_more_than_max_events(jetstream):
    fake = jetstream(lines("bluesky", "jetstream_events.jsonl"))
    c = JetstreamCollector("bsky", JetstreamSettings(base_url=fake.url, max_events=4, listen_seconds=2), WATCHES)
    batch = c.fetch(None)
    assert batch.more and batch.stats["events"] == 4


def test_jetstream_unreachable_is_source_unavailable():
    sleeps = Sleeps()
    c = JetstreamCollector("bsky", JetstreamSettings(base_url="ws://127.0.0.1:9", open_timeout_seconds=1), (),
                           sleep=sleeps)
    with pytest.raises(Exception, match="cannot connect"):
        c.fetch(None)
    assert len(sleeps.calls) == 3


def jwt(exp: int) -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    claims = {"scope": "com.atproto.appPass", "sub": ALICE, "exp": exp, "iat": exp - 7200}
    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part(claims)}.c2ln"


def fake_pds(httpserver, seen: list[dict], password: str = "app-pass-1234") -> None:
    def session(request: Request) -> Response:
        if request.get_json()["password"] != password:
            refusal = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            return Response(json.dumps(refusal), status=401, content_type="application/json")
        return Response(json.dumps({"did": ALICE, "handle": "harborhealth.bsky.social", "accessJwt": jwt(
            int(time.time()) + 7200), "refreshJwt": jwt(int(time.time()) + 86400), "active": True}),
            content_type="application/json")

    def search(request: Request) -> Response:
        seen.append(dict(request.args))
        assert request.headers["Authorization"].startswith("Bearer ")
        name = ("search_page2.json" if request.args.get("cursor") else
                "search_empty.json" if request.args.get("since") else "search_page1.json")
        return Response(body("bluesky", name), content_type="application/json")

    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_handler(session)
    httpserver.expect_request("/xrpc/app.bsky.feed.searchPosts").respond_with_handler(search)


def test_search_logs_in_pages_and_resumes(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
    seen: list[dict] = []
    fake_pds(httpserver, seen)
    source = f"""
        [sources.bsky_search]
        kind = "bluesky_search"
        base_url = "{httpserver.url_for("/").rstrip("/")}"
        handle = "harborhealth.bsky.social"
        queries = ["vaccine OR booster"]
    """
    e = engine(tmp_path, source)
    assert e.collect("bsky_search").posts == 3
    assert seen[0]["q"] == "vaccine OR booster" and seen[0]["sort"] == "latest" and seen[1]["cursor"] == "25"
    stored = {r[1]: r for r in posts(e, "bsky_search")}
    assert len(stored) == 3
    e.db.close()
    again = engine(tmp_path, source)
    assert again.collect("bsky_search").posts == 0
    assert seen[-1]["since"] == "2025-11-20T15:00:01+00:00" and "cursor" not in seen[-1]
    again.db.close()


def test_search_with_a_wrong_app_password_says_how_to_make_one(httpserver, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "wrong")
    fake_pds(httpserver, [])
    s = BlueskySearchSettings(base_url=httpserver.url_for("/").rstrip("/"), handle="harborhealth.bsky.social")
    with pytest.raises(AuthFailed, match="App passwords"):
        BlueskySearchCollector("bsky", s, WATCHES, Sleeps()).fetch(None)


def test_search_mapping_counts_and_handles():
    [first, second] = parse(load("bluesky", "search_page1.json")).posts
    assert first.author_handle == "harborhealth.bsky.social" and first.like_count == 17 and first.quote_count == 2
    assert second.text.startswith("the vaccine has microchips") and second.quote_of_id is None


def test_search_stops_after_max_pages_and_moves_its_marker(httpserver, monkeypatch):
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
    seen: list[dict] = []
    fake_pds(httpserver, seen)
    s = BlueskySearchSettings(base_url=httpserver.url_for("/").rstrip("/"), handle="harborhealth.bsky.social",
                              queries=("booster",), max_pages=1)
    batch = BlueskySearchCollector("bsky", s, (), Sleeps()).fetch(None)
    state = json.loads(batch.next_cursor)["queries"]["booster"]
    assert not batch.more and state["token"] is None and state["since"] == "2025-11-20T15:00:01+00:00"
    assert len(seen) == 1
