"""A SIGKILL of the engine while it collects one of the agency-account sources (Bluesky, Mastodon, X, Reddit, a
Facebook Page) loses and duplicates nothing: a real engine process, its real client library against a fake API on
127.0.0.1 that releases the residents' items over a few seconds in small pages, killed at staggered moments and
restarted, ends with every item stored exactly once (the `post_keys` named query)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fixtures.collectors.fakes import body
from test_collectors_bluesky import jwt
from werkzeug import Request, Response

from helpers import free_port, start_engine, wait_for
from storage.client import StorageClient

TOTAL, RATE = 40, 8.0  # items, released per second from the first request on
BASE = datetime(2026, 12, 1, 10, tzinfo=UTC)
AGENCY_DID = "did:plc:agency123"
pytestmark = pytest.mark.slow


class Released:
    """Items 0..n-1 exist, n growing with time from the first feed request (so a first run sees one item)."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.lock = threading.Lock()

    def count(self) -> int:
        with self.lock:
            self.t0 = self.t0 or time.monotonic()
            return min(TOTAL, 1 + int((time.monotonic() - self.t0) * RATE))

    def newest_first(self) -> list[int]:
        return list(range(self.count() - 1, -1, -1))


def started(settings: Path, log: list[str]) -> subprocess.Popen[str]:
    """The engine, its output drained into `log` (an unread pipe fills up and stalls the engine)."""
    engine = start_engine(settings)
    threading.Thread(target=lambda: log.extend(engine.stdout or ()), daemon=True).start()
    return engine


def at(i: int) -> datetime:
    return BASE + timedelta(seconds=i)


def reply(data: object) -> Response:
    return Response(json.dumps(data), content_type="application/json")


def bluesky(request: Request, items: Released) -> Response:
    if request.path.endswith("createSession"):
        now = int(time.time())
        return reply({"did": AGENCY_DID, "handle": "harborhealth.bsky.social", "accessJwt": jwt(now + 7200),
                      "refreshJwt": jwt(now + 86400), "active": True})
    if not request.path.endswith("listNotifications"):
        return reply({"feed": []})  # the agency's own posts: none
    cursor, limit = request.args.get("cursor"), int(request.args["limit"])
    older = [i for i in items.newest_first() if cursor is None or i < int(cursor)]
    page = older[:limit]
    stamp = lambda i: at(i).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    notes = [{"uri": f"at://did:plc:res456/app.bsky.feed.post/n{i:03d}", "cid": f"bafy{i}", "reason": "mention",
              "author": {"did": "did:plc:res456", "handle": "resident.bsky.social"}, "isRead": False,
              "record": {"$type": "app.bsky.feed.post", "text": f"@harborhealth question {i}",
                         "createdAt": stamp(i)}, "indexedAt": stamp(i)} for i in page]
    return reply({"notifications": notes, **({"cursor": str(page[-1])} if len(older) > limit else {})})


def mastodon(request: Request, items: Released) -> Response:
    if request.path.endswith("verify_credentials"):
        return reply({"id": "109", "username": "harborhealth", "acct": "harborhealth"})
    if not request.path.endswith("notifications"):
        return reply([])  # the agency's own statuses: none
    limit, min_id = int(request.args["limit"]), request.args.get("min_id")
    newer = [i for i in items.newest_first() if min_id is None or 10000 + i > int(min_id)]
    page = newer[-limit:] if min_id else newer[:limit]  # min_id: the page just after it, as Mastodon answers
    account = {"id": "208", "username": "res", "acct": "res@mastodon.social"}
    return reply([{"id": str(10000 + i), "type": "mention", "created_at": at(i).isoformat(), "account": account,
                   "status": {"id": str(20000 + i), "created_at": at(i).isoformat(), "account": account,
                              "content": f"<p>@harborhealth question {i}</p>", "visibility": "public",
                              "replies_count": 0, "reblogs_count": 0, "favourites_count": 0}} for i in page])


def x(request: Request, items: Released) -> Response:
    if "/by/username/" in request.path:
        return reply({"data": {"id": "42", "name": "Harbor County PH", "username": "HarborCountyPH"}})
    if not request.path.endswith("/mentions"):
        return reply({"meta": {"result_count": 0}})  # the agency's own posts: none
    since, token = int(request.args.get("since_id", 0)), request.args.get("pagination_token")
    newer = [5000 + i for i in items.newest_first() if 5000 + i > since and (token is None or 5000 + i < int(token))]
    page = newer[: int(request.args["max_results"])]
    tweets = [{"id": str(t), "text": f"@HarborCountyPH question {t}", "author_id": "783214",
               "created_at": at(t - 5000).strftime("%Y-%m-%dT%H:%M:%S.000Z")} for t in page]
    meta = {"result_count": len(page), **({"newest_id": str(page[0])} if page else {}),
            **({"next_token": str(page[-1])} if len(newer) > len(page) else {})}
    users = [{"id": "783214", "name": "R", "username": "resident_r"}]
    return reply({"data": tweets, "includes": {"users": users}, "meta": meta} if page else {"meta": meta})


def reddit(request: Request, items: Released) -> Response:
    if request.path.endswith("access_token"):
        return Response(body("reddit", "token.json"), content_type="application/json")
    older = [] if request.path != "/message/inbox" else [
        i for i in items.newest_first() if not request.args.get("after") or f"t4_m{i:03d}" < request.args["after"]]
    page = older[: int(request.args.get("limit", 5))]
    children = [{"kind": "t4", "data": {"name": f"t4_m{i:03d}", "id": f"m{i:03d}", "author": "resident_r",
                                        "created_utc": at(i).timestamp(), "subject": "Question", "body": f"q {i}"}}
                for i in page]
    after = f"t4_m{page[-1]:03d}" if len(older) > len(page) else None
    return Response(json.dumps({"kind": "Listing", "data": {"after": after, "children": children}}),
                    content_type="application/json",
                    headers={"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "400"})


def meta(request: Request, items: Released) -> Response:
    if not request.path.endswith("/conversations"):
        return reply({"data": []})  # the Page's own posts: none
    after, limit = request.args.get("after"), int(request.args["limit"])
    older = [i for i in items.newest_first() if after is None or i < int(after)]
    page = older[:limit]
    stamp = lambda i: at(i).strftime("%Y-%m-%dT%H:%M:%S+0000")  # noqa: E731
    data = [{"id": f"t_{i}", "updated_time": stamp(i), "messages": {"data": [
        {"id": f"m_{i:03d}", "message": f"question {i}", "from": {"id": "5550001", "name": "R"},
         "created_time": stamp(i)}]}} for i in page]
    nxt = f"https://graph.facebook.com/v21.0/1001/conversations?limit={limit}&after={page[-1]}" if (
        len(older) > limit) else None
    return reply({"data": data, "paging": {"cursors": {}, **({"next": nxt} if nxt else {})}})


SOURCES = {  # kind: (fake, [accounts] line, the source's own settings, environment, the stored ids)
    "bluesky_account": (bluesky, 'bluesky = "harborhealth.bsky.social"',
                        'base_url = "{url}"\nnotifications_limit = 5\nmax_pages = 30', {"BLUESKY_APP_PASSWORD": "pw"},
                        lambda i: f"at://did:plc:res456/app.bsky.feed.post/n{i:03d}"),
    "mastodon_account": (mastodon, 'mastodon = "harborhealth"', 'base_url = "{url}"\nlimit = 5',
                         {"MASTODON_ACCESS_TOKEN": "tok"}, lambda i: f"{{host}}:{20000 + i}"),
    "x_account": (x, 'x = "HarborCountyPH"', 'base_url = "{url}"\nmax_results = 5', {"X_BEARER_TOKEN": "b"},
                  lambda i: str(5000 + i)),
    "reddit_account": (reddit, 'reddit = "u/HarborCountyPH"', 'base_url = "{url}"\nlimit = 5\nmax_pages = 30',
                       {"REDDIT_CLIENT_ID": "id", "REDDIT_CLIENT_SECRET": "s", "REDDIT_PASSWORD": "account-password"},
                       lambda i: f"t4_m{i:03d}"),
    "meta_page": (meta, "", 'base_url = "{url}/v21.0"\npage_id = "1001"\nlimit = 5\nmax_pages = 30',
                  {"META_PAGE_TOKEN": "t"}, lambda i: f"facebook-msg-m_{i:03d}"),
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_sigkill_while_collecting_loses_and_duplicates_nothing(kind, httpserver, tmp_path, write_settings, monkeypatch):
    fake, account, own, env, stored_id = SOURCES[kind]
    items = Released()
    httpserver.expect_request("").respond_with_handler(lambda request: fake(request, items))
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the engine process inherits them
    url, port = httpserver.url_for("/").rstrip("/"), free_port()
    source = own.format(url=url)
    settings = write_settings(f'[storage]\npath = "db/civicradar.duckdb"\n[server]\nport = {port}\n'
                              f'[classify]\nenabled = false\n[accounts]\n{account}\n'
                              f'[sources.inbox]\nkind = "{kind}"\nevery_seconds = 0.2\n{source}\n')
    token_file, service = tmp_path / "db" / "service.token", f"http://127.0.0.1:{port}"
    log: list[str] = []
    for round_ in range(2):
        engine = started(settings, log)
        try:
            client = StorageClient(service, wait_for(lambda: token_file.exists() and token_file.read_text(),
                                                     what="token"))
            want = 12 * (round_ + 1)
            wait_for(lambda c=client, w=want: len(c.query("post_keys", source="inbox")) >= w, what=f"{kind} items")
            time.sleep(0.15 * (round_ + 1))
        finally:
            engine.send_signal(signal.SIGKILL)
            engine.wait(timeout=10)
    engine = started(settings, log)
    try:
        client = StorageClient(service, token_file.read_text())
        wait_for(lambda: len(client.query("post_keys", source="inbox")) >= TOTAL, what=f"every {kind} item")
        time.sleep(0.5)  # a run or two more: nothing may be stored again
        ids = list(client.query("post_keys", source="inbox")["post_id"])
        host = url.split("://", 1)[1]
        assert sorted(ids) == sorted(stored_id(i).format(host=host) for i in range(TOTAL))  # each exactly once
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=20)
        print("".join(log[-40:]))  # shown when the test fails
