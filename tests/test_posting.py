"""Posting from CivicRadar through the real client libraries (atproto, Mastodon.py, tweepy) against fake platform
APIs on 127.0.0.1: what each platform is sent, the link it returned, errors that say what to do, X's cost meter,
and the switch that keeps it all off by default."""

import pytest
from posting_fakes import AGENCY_DID, fake_bluesky, fake_mastodon, fake_x, posting_settings, secrets

import settings
from responses import posting
from responses.posting import Posted, PostingError

TEXT = ("Salt water does not cure the virus. Free testing at the fairgrounds: https://harborhealth.example/testing "
        "#HarborCounty")


@pytest.fixture(name="config")
def config_fixture(httpserver, tmp_path, monkeypatch):
    secrets(monkeypatch)
    return posting_settings(tmp_path, httpserver.url_for("/").rstrip("/"))


def test_bluesky_creates_a_record_with_a_link_facet(httpserver, config):
    sent: list[dict] = []
    fake_bluesky(httpserver, sent)
    made = posting.post("bluesky", TEXT, config, "en")
    assert made == Posted("bluesky", f"at://{AGENCY_DID}/app.bsky.feed.post/3kposted1",
                          f"https://bsky.app/profile/{AGENCY_DID}/post/3kposted1", "@harborhealth.bsky.social")
    (body,) = sent
    assert body["repo"] == "harborhealth.bsky.social" and body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["text"] == TEXT and record["langs"] == ["en"]
    (facet,) = record["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert TEXT.encode()[start:end] == b"https://harborhealth.example/testing"
    assert facet["features"][0]["uri"] == "https://harborhealth.example/testing"


def test_bluesky_wrong_app_password(httpserver, config, monkeypatch):
    fake_bluesky(httpserver, [])
    monkeypatch.setenv("BLUESKY_POSTING_APP_PASSWORD", "stale-password")
    with pytest.raises(PostingError, match=r"refused the login of @harborhealth\.bsky\.social: check that "
                                           r"BLUESKY_POSTING_APP_PASSWORD"):
        posting.post("bluesky", TEXT, config)


def test_mastodon_posts_a_status(httpserver, config):
    sent: list[dict] = []
    fake_mastodon(httpserver, sent)
    made = posting.post("mastodon", TEXT, config, "en")
    assert made.url == "https://gov.example/@harborhealth/110000000000000001" and made.account == "@harborhealth"
    assert sent[0]["status"] == TEXT and sent[0]["visibility"] == "public" and sent[0]["language"] == "en"


def test_mastodon_wrong_token(httpserver, config, monkeypatch):
    fake_mastodon(httpserver, [])
    monkeypatch.setenv("MASTODON_POSTING_TOKEN", "read-only-token")
    with pytest.raises(PostingError, match=r"refused the access token: .* write:statuses scope"):
        posting.post("mastodon", TEXT, config)


def test_x_posts_with_the_account_token_under_the_meter(httpserver, config):
    sent: list[dict] = []
    fake_x(httpserver, sent)
    made = posting.post("x", TEXT, config, posted_this_month=19)  # $9.50 of $10 spent: one more fits
    assert made == Posted("x", "1865000000000000001", "https://x.com/HarborHealth/status/1865000000000000001",
                          "@HarborHealth")
    assert sent == [{"text": TEXT}]
    with pytest.raises(PostingError, match=r"X posting cap reached: 20 posts .* \$10.00 of the \$10.00 cap"):
        posting.post("x", TEXT, config, posted_this_month=20)
    assert len(sent) == 1  # refused before anything was sent


def test_x_refusal_says_why(httpserver, config):
    fake_x(httpserver, [], status=403)
    with pytest.raises(PostingError, match=r"X refused the post \(403: You are not allowed .* duplicate content.\): "):
        posting.post("x", TEXT, config)


def test_off_by_default_and_per_platform(httpserver, tmp_path, monkeypatch):
    assert settings.Settings().posting.platforms() == []
    with pytest.raises(PostingError, match=r"posting to bluesky is off"):
        posting.post("bluesky", TEXT, settings.Settings())
    monkeypatch.delenv("BLUESKY_POSTING_APP_PASSWORD", raising=False)
    config = posting_settings(tmp_path, httpserver.url_for("/").rstrip("/"))
    with pytest.raises(PostingError, match="environment variable BLUESKY_POSTING_APP_PASSWORD is not set"):
        posting.post("bluesky", TEXT, config)
    assert not httpserver.log  # nothing reached the platform
