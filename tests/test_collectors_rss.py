"""News and agency feeds: RSS and Atom through feedparser, with ETag / Last-Modified against a fake server."""

from datetime import UTC, datetime

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine, posts
from werkzeug import Request, Response

from collectors.base import SourceUnavailable
from collectors.rss import RssCollector, RssSettings, parse, to_posts

FETCHED = datetime(2025, 11, 20, 19, tzinfo=UTC)


def test_rss_and_atom_map_to_posts_with_plain_text():
    rss = parse(body("rss", "agency.rss"))
    first, second = rss.posts
    assert first.post_id == "hchp-news-2025-1120-01" and first.created_at == datetime(2025, 11, 20, 21, 30, tzinfo=UTC)
    assert first.text == ("Free booster clinics this weekend — Walk-in vaccine boosters at the fairgrounds, "
                          "Sat & Sun 9–4. Bring ID 🪪.") and first.author_handle == "Communications Office"
    assert second.url == "https://health.harbor.example/news/2025/11/test-site"
    atom = parse(body("rss", "news.atom"))
    assert [p.post_id for p in atom.posts] == ["tag:noticias.example,2025-11-20:/filas-clinica"]
    assert "dos horas" in atom.posts[0].text and atom.posts[0].lang == "es"
    assert "missing date" in atom.quarantined[0].reason  # pure mapping has no clock to fall back on
    assert to_posts(None) == [] and to_posts(b"") == []


def test_a_page_that_is_not_a_feed_is_quarantined():
    mapped = parse(body("rss", "not_a_feed.html"))
    assert mapped.posts == [] and len(mapped.quarantined) == 1
    [bad] = mapped.quarantined
    assert bad.reason.startswith("not an RSS/Atom feed") and "Bad Gateway" in bad.raw


def feed_server(httpserver, hits: list[dict]) -> None:
    def rss(request: Request) -> Response:
        hits.append({"path": request.path, "etag": request.headers.get("If-None-Match"),
                     "since": request.headers.get("If-Modified-Since")})
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(body("rss", "agency.rss"), content_type="application/rss+xml",
                        headers={"ETag": '"v1"', "Last-Modified": "Thu, 20 Nov 2025 22:00:00 GMT"})

    atoms = [body("rss", "news.atom"), body("rss", "news_edited.atom")]

    def atom(request: Request) -> Response:
        hits.append({"path": request.path, "since": request.headers.get("If-Modified-Since")})
        return Response(atoms.pop(0), content_type="application/atom+xml",
                        headers={"Last-Modified": "Thu, 20 Nov 2025 19:00:00 GMT"})

    httpserver.expect_request("/news/rss.xml").respond_with_handler(rss)
    httpserver.expect_request("/atom.xml").respond_with_handler(atom)


def test_engine_unchanged_feeds_cost_nothing_and_edits_replace(httpserver, tmp_path):
    hits: list[dict] = []
    feed_server(httpserver, hits)
    source = f"""
        [sources.news]
        kind = "rss"
        base_url = "{httpserver.url_for("/")}"
        feeds = ["news/rss.xml", "{httpserver.url_for("/atom.xml")}"]
    """
    e = engine(tmp_path, source)
    first = e.collect("news")
    assert first.posts == 4 and first.warnings == 1  # the undated Atom entry gets the fetch time, with a warning
    e.db.close()
    again = engine(tmp_path, source)
    second = again.collect("news")
    assert second.posts == 1  # the RSS feed answered 304; only the edited Atom entry is new
    assert hits[2] == {"path": "/news/rss.xml", "etag": '"v1"', "since": "Thu, 20 Nov 2025 22:00:00 GMT"}
    assert hits[3]["since"] == "Thu, 20 Nov 2025 19:00:00 GMT"
    stored = {r[1]: r[2] for r in posts(again, "news")}
    assert len(stored) == 4 and "actualizado" in stored["tag:noticias.example,2025-11-20:/filas-clinica"]
    again.db.close()


def test_one_dead_feed_does_not_stop_the_others(httpserver):
    httpserver.expect_request("/ok.rss").respond_with_data(body("rss", "agency.rss"))
    httpserver.expect_request("/gone.rss").respond_with_data("not here", status=404)
    s = RssSettings(base_url=httpserver.url_for("/"), feeds=("ok.rss", "gone.rss"))
    batch = RssCollector("news", s, lambda: FETCHED, Sleeps()).fetch(None)
    assert len(batch.posts) == 2 and "HTTP 404" in batch.warnings[0] and batch.stats["failed"] == 1


def test_every_feed_down_is_source_unavailable_after_backoff(httpserver):
    httpserver.expect_request("/down.rss").respond_with_data("busy", status=503)
    sleeps = Sleeps()
    with pytest.raises(SourceUnavailable, match="server error 503"):
        RssCollector("news", RssSettings(base_url=httpserver.url_for("/"), feeds=("down.rss",)), lambda: FETCHED,
                     sleeps).fetch(None)
    assert len(sleeps.calls) == 3
