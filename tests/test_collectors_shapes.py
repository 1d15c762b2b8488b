"""Every response shape of the endpoints the collectors call, and their close relatives, maps to posts.

Fixtures in tests/fixtures/shapes follow the platforms' documented response shapes (Bluesky lexicons
app.bsky.feed.getAuthorFeed / getPostThread / app.bsky.notification.listNotifications; Mastodon API v2 search,
statuses/:id/context, notifications; X API v2 single-post lookups).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from collectors import bluesky, mastodon, rss, x

SHAPES = Path(__file__).parent / "fixtures" / "shapes"


def load(name: str) -> object:
    return json.loads((SHAPES / name).read_text())


def ids(posts: list) -> list[str]:
    return [p.post_id.rsplit("/", 1)[-1] for p in posts]


def test_bluesky_feed_views_map_every_post_with_reply_links():
    body = load("bluesky_getAuthorFeed.json")
    posts = bluesky.to_posts(body)
    assert ids(posts) == ["3lroot", "3lrep2", "3lrepost"]
    assert posts[0].like_count == 12 and posts[0].author_handle == "harborhealth.bsky.social"
    assert posts[1].reply_to_id and posts[1].reply_to_id.endswith("/3lrep1")
    for relative in ("getTimeline", "getFeed", "getListFeed"):  # the same `feed[].post` shape
        assert ids(bluesky.to_posts(dict(body))) == ids(posts), relative


def test_bluesky_thread_maps_parents_post_and_replies_and_skips_missing_posts():
    out = bluesky.parse(load("bluesky_getPostThread.json"))
    assert sorted(ids(out.posts)) == ["3lrep1", "3lrep2", "3lroot"]
    assert not out.quarantined


def test_bluesky_notifications_keep_mentions_and_replies_only():
    posts = bluesky.to_posts(load("bluesky_listNotifications.json"))
    assert ids(posts) == ["3lmen", "3lrep"]
    assert posts[0].author_id == "did:plc:res456"


def test_mastodon_search_v2_and_context_map_their_statuses():
    assert [p.post_id for p in mastodon.to_posts(load("mastodon_search_v2.json"))] == ["1101"]
    context = mastodon.to_posts(load("mastodon_context.json"))
    assert [p.post_id for p in context] == ["1200", "1202", "1203"]
    assert context[2].reply_to_id == "1202" and context[1].text == "thanks!"


def test_mastodon_notifications_keep_mentions():
    posts = mastodon.to_posts(load("mastodon_notifications.json"))
    assert [p.post_id for p in posts] == ["1300"]
    assert posts[0].text == "@harborhealth where is testing?"


def test_x_single_object_with_only_id_and_text_takes_its_time_from_the_snowflake():
    posts = x.to_posts(load("x_single_id_text.json"))
    assert [p.post_id for p in posts] == ["1460323737035677698"]
    assert posts[0].created_at == datetime(2021, 11, 15, 19, 8, 5, 69000, tzinfo=UTC)
    assert x.snowflake_time("12") is None and x.snowflake_time("not-a-number") is None


FEED_WITHOUT_IDS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>County &nbsp; news</title>
<item><title>Water main &mdash; break on 5th</title><description>Boil notice</description>
<pubDate>Mon, 01 Dec 2026 10:00:00 GMT</pubDate></item>
<item><title>Second item</title><description>Other</description><pubDate>Mon, 01 Dec 2026 11:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_rss_entries_without_link_or_id_get_a_stable_id_and_bozo_feeds_are_mapped():
    out = rss.parse(FEED_WITHOUT_IDS)
    assert len(out.posts) == 2 and not out.quarantined
    assert any("not well-formed" in w for w in out.warnings)  # the undefined entity makes it bozo
    first = out.posts[0].post_id
    assert first.startswith("content:") and len({p.post_id for p in out.posts}) == 2
    assert rss.parse(FEED_WITHOUT_IDS).posts[0].post_id == first  # the same entry, the same id, every time
