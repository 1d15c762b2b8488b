"""Fake Bluesky PDS, Mastodon server and X API on 127.0.0.1 (pytest-httpserver) that take posts as the platforms
do, for the real atproto, Mastodon.py and tweepy clients; each keeps what it was sent."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

from test_collectors_bluesky import jwt
from werkzeug import Request, Response

import settings

AGENCY_DID = "did:plc:agency123"
PASSWORD, TOKEN = "app-pass-1234", "masto-write-1234"
X_KEYS = {"X_CONSUMER_KEY": "ck-1234", "X_CONSUMER_SECRET": "cs-1234", "X_ACCESS_TOKEN": "at-1234",
          "X_ACCESS_TOKEN_SECRET": "as-1234"}


def reply(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def fake_bluesky(httpserver, sent: list[dict]) -> None:
    def session(request: Request) -> Response:
        if request.get_json()["password"] != PASSWORD:
            return reply({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)
        return reply({"did": AGENCY_DID, "handle": "harborhealth.bsky.social", "active": True,
                      "accessJwt": jwt(int(time.time()) + 7200), "refreshJwt": jwt(int(time.time()) + 86400)})

    def create(request: Request) -> Response:
        assert request.headers["Authorization"].startswith("Bearer ")
        sent.append(request.get_json())
        return reply({"uri": f"at://{AGENCY_DID}/app.bsky.feed.post/3kposted{len(sent)}", "cid": "bafyreib2rxk3"})

    httpserver.expect_request("/xrpc/com.atproto.server.createSession", method="POST").respond_with_handler(session)
    httpserver.expect_request("/xrpc/com.atproto.repo.createRecord", method="POST").respond_with_handler(create)


def fake_mastodon(httpserver, sent: list[dict]) -> None:
    def statuses(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return reply({"error": "The access token is invalid"}, 401)
        form = request.get_json(silent=True) or {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        sent.append(form)
        n = 110000000000000000 + len(sent)
        return reply({"id": str(n), "url": f"https://gov.example/@harborhealth/{n}", "content": form.get("status"),
                      "uri": f"https://gov.example/users/harborhealth/statuses/{n}", "visibility": "public",
                      "account": {"id": "109", "acct": "harborhealth", "username": "harborhealth"},
                      "created_at": "2026-12-04T12:00:00.000Z"})

    httpserver.expect_request("/api/v1/statuses", method="POST").respond_with_handler(statuses)


def fake_x(httpserver, sent: list[dict], status: int = 201) -> None:
    def tweets(request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        assert auth.startswith("OAuth ") and 'oauth_consumer_key="ck-1234"' in auth and 'oauth_token="at-1234"' in auth
        sent.append(request.get_json())
        if status != 201:
            return reply({"detail": "You are not allowed to create a Tweet with duplicate content.",
                          "type": "about:blank", "title": "Forbidden", "status": status}, status)
        return reply({"data": {"id": str(1865000000000000000 + len(sent)), "text": sent[-1]["text"],
                               "edit_history_tweet_ids": [str(1865000000000000000 + len(sent))]}}, 201)

    httpserver.expect_request("/2/tweets", method="POST").respond_with_handler(tweets)


def posting_toml(url: str, cap: float = 10.0) -> str:
    return f"""
[accounts]
bluesky = "harborhealth.bsky.social"
mastodon = "harborhealth@gov.example"
x = "HarborHealth"
[posting]
enabled = true
[posting.bluesky]
enabled = true
base_url = "{url}"
[posting.mastodon]
enabled = true
base_url = "{url}"
access_token = {{ env = "MASTODON_POSTING_TOKEN" }}
[posting.x]
enabled = true
base_url = "{url}"
price_per_post_usd = 0.5
monthly_cap_usd = {cap}
"""


def posting_settings(tmp_path: Path, url: str, cap: float = 10.0) -> settings.Settings:
    path = tmp_path / "posting.toml"
    path.write_text(posting_toml(url, cap), encoding="utf-8")
    return settings.load(path)


def secrets(monkeypatch) -> None:
    monkeypatch.setenv("BLUESKY_POSTING_APP_PASSWORD", PASSWORD)
    monkeypatch.setenv("MASTODON_POSTING_TOKEN", TOKEN)
    for name, value in X_KEYS.items():
        monkeypatch.setenv(name, value)
