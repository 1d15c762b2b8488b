"""The agency's own Mastodon account through the real Mastodon.py client against a fake server on 127.0.0.1:
mentions, its own statuses (engagement over time), conversations, directions, the inbox, resuming, errors."""

import copy
import json

import pytest
from fixtures.collectors.fakes import Sleeps, engine
from test_collectors_shapes import load
from werkzeug import Request, Response

from collectors.base import AuthFailed, CollectorError
from collectors.mastodon_account import MastodonAccountCollector, MastodonAccountSettings

ME = {"id": "109", "username": "harborhealth", "acct": "harborhealth", "display_name": "Harbor Health"}


def context() -> dict:
    """The fixture's conversation, with the resident's status replying to the agency's post 1200."""
    body = copy.deepcopy(load("mastodon_context.json"))
    body["descendants"][0].update(in_reply_to_id="1200", in_reply_to_account_id="109")
    return body


def fake_server(httpserver, seen: list[tuple[str, dict]], token: str = "tok-1234") -> None:
    statuses = [load("mastodon_context.json")["ancestors"][0], {**load("mastodon_context.json")["descendants"][1],
                                                                "replies_count": 0}]

    def answer(body):
        def handler(request: Request) -> Response:
            seen.append((request.path, dict(request.args)))
            if request.headers.get("Authorization") != f"Bearer {token}":
                return Response('{"error":"The access token is invalid"}', status=401, content_type="application/json")
            data = body() if callable(body) else body
            if request.path.endswith("notifications") and request.args.get("min_id"):
                data = []  # nothing newer than what was read
            return Response(json.dumps(data), content_type="application/json")

        return handler

    for path, body in (("/api/v1/accounts/verify_credentials", ME),
                       ("/api/v1/notifications", load("mastodon_notifications.json")),
                       ("/api/v1/accounts/109/statuses", statuses), ("/api/v1/statuses/1200/context", context)):
        httpserver.expect_request(path).respond_with_handler(answer(body))


def source(httpserver, acct: str = "harborhealth") -> str:
    return f"""
        [accounts]
        mastodon = "{acct}@localhost:{httpserver.port}"
        [sources.masto_account]
        kind = "mastodon_account"
        base_url = "{httpserver.url_for("/").rstrip("/")}"
        access_token = {{ env = "MASTO_TOKEN" }}
    """


def test_mentions_own_statuses_and_conversations_with_directions_and_the_inbox(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("MASTO_TOKEN", "tok-1234")
    seen: list[tuple[str, dict]] = []
    fake_server(httpserver, seen)
    e = engine(tmp_path, source(httpserver))
    assert e.collect("masto_account").status == "ok"
    host = f"localhost:{httpserver.port}:"
    stored = dict(e.db.reader().execute("SELECT post_id, direction FROM posts").fetchall())
    assert stored == {f"{host}1300": "to_agency",  # the mention (the favourite and the follow are no posts)
                      f"{host}1200": "by_agency", f"{host}1203": "by_agency",  # its own statuses
                      f"{host}1202": "to_agency"}  # the reply to its post, in the conversation
    assert ("/api/v1/notifications", {"types[]": "mention", "limit": "40"}) in seen
    inbox = dict(e.db.reader().execute("SELECT post_id, status FROM inbox_items").fetchall())
    assert inbox == {f"{host}1300": "new", f"{host}1202": "answered"}  # 1203 replies to 1202
    e.db.close()
    again = engine(tmp_path, source(httpserver))
    summary = again.collect("masto_account")
    assert summary.status == "ok" and summary.details["threads"] == 0
    assert seen[-2] == ("/api/v1/notifications", {"types[]": "mention", "min_id": "9003", "limit": "40"})
    assert again.db.reader().execute("SELECT count(*) FROM own_post_engagement").fetchall() == [(4,)]
    again.db.close()


def test_a_token_of_another_account_and_a_rejected_token_say_what_to_do(httpserver, monkeypatch):
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-1234")
    fake_server(httpserver, [])
    settings = MastodonAccountSettings(base_url=httpserver.url_for("/").rstrip("/"))
    with pytest.raises(CollectorError, match="belongs to @harborhealth, not to the @someoneelse"):
        MastodonAccountCollector("m", settings, "someoneelse@gov.social", Sleeps()).fetch(None)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "expired")
    with pytest.raises(AuthFailed, match="access token"):
        MastodonAccountCollector("m", settings, "harborhealth", Sleeps()).fetch(None)
