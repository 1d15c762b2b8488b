"""Bluesky: the Jetstream firehose (JSON over a websocket) and searchPosts through the atproto SDK.

Jetstream (`kind = "jetstream"`) is open: no account, no key. Every `app.bsky.feed.post` commit on the network
arrives; posts are kept only when they match a watch (matched here, locally), unless `keep_all` is set. The
cursor is the `time_us` of the last event read; a reconnect rewinds a few seconds (Jetstream's advice for a
gapless replay; the repeats are upserts). Delete commits go to `Batch.deleted`; update commits replace the post.

searchPosts (`kind = "bluesky_search"`) needs an account: the public AppView refuses unauthenticated search, so
the SDK logs in with an app password and the PDS proxies the call. One query per watch term (the search syntax
has no documented OR), newest first, each with its own `since` marker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import Field
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from collectors.base import (
    AuthFailed,
    BaseCollector,
    Batch,
    CollectorError,
    Post,
    SourceUnavailable,
    Watch,
    WatchMatcher,
    count,
)
from collectors.http import error_for
from collectors.kinds import SourceKind
from collectors.mapping import (
    Mapped,
    decode_json,
    dump_state,
    each,
    from_micros,
    load_state,
    obj,
    page_state,
    seq,
    text,
    when,
)
from core.settings_base import SecretRef, SourceSettings

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
QUOTES = {"app.bsky.embed.record": ("record", "uri"), "app.bsky.embed.recordWithMedia": ("record", "record", "uri")}


class JetstreamSettings(SourceSettings):
    kind: Literal["jetstream"] = "jetstream"
    every_seconds: float = Field(5.0, gt=0)
    base_url: str = "wss://jetstream2.us-east.bsky.network"
    listen_seconds: float = Field(10.0, gt=0)
    max_events: int = Field(20_000, gt=0)
    rewind_seconds: float = Field(5.0, ge=0)
    keep_all: bool = False
    open_timeout_seconds: float = Field(10.0, gt=0)


class BlueskySearchSettings(SourceSettings):
    kind: Literal["bluesky_search"] = "bluesky_search"
    base_url: str = "https://bsky.social"
    handle: str = ""
    app_password: SecretRef = SecretRef(env="BLUESKY_APP_PASSWORD")
    queries: tuple[str, ...] = ()
    lang: str = ""
    limit: int = Field(100, gt=0, le=100)
    max_pages: int = Field(5, gt=0)


def _path(value: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        value = obj(value).get(key)
    return value


def record_post(uri: str, did: str, record: Any, raw: Any, out: Mapped, time_us: Any = None, **extra: Any) -> None:
    """One `app.bsky.feed.post` record as a post; a record without text keeps going with a warning."""
    if not isinstance(record, dict):
        raise TypeError(f"post record is {type(record).__name__}, not an object")
    created = when(record.get("createdAt")) or from_micros(time_us)
    if created is None:
        raise ValueError("post has no readable createdAt")
    if "text" not in record:
        out.warnings.append(f"bluesky {uri}: record has no text")
    embed, langs = record.get("embed"), record.get("langs")
    kind = embed.get("$type") if isinstance(embed, dict) else None
    quoted = _path(embed, QUOTES[kind]) if isinstance(kind, str) and kind in QUOTES else None
    out.posts.append(Post(
        platform=PLATFORM, post_id=uri, text=str(record.get("text") or ""), created_at=created,
        url=f"https://bsky.app/profile/{did}/post/{uri.rsplit('/', 1)[-1]}", author_id=did,
        lang=text(langs[0]) if isinstance(langs, list) and langs else None,
        reply_to_id=text(_path(record["reply"], ("parent", "uri"))) if "reply" in record else None,
        quote_of_id=text(quoted), raw=raw, **extra))


def _event(event: Any, out: Mapped) -> None:
    if not isinstance(event, dict):
        raise TypeError(f"event is {type(event).__name__}, not an object")
    if event.get("kind") != "commit":
        return  # identity and account events say nothing a post needs
    commit = event.get("commit")
    if not isinstance(commit, dict) or commit.get("collection") != POST:
        return
    did, rkey, operation = event.get("did"), commit.get("rkey"), commit.get("operation")
    if not did or not rkey:
        raise ValueError("commit without did or rkey")
    uri = f"at://{did}/{POST}/{rkey}"
    if operation == "delete":
        out.deleted.append((PLATFORM, uri))
    elif operation in ("create", "update"):
        record_post(uri, did, commit.get("record"), event, out, event.get("time_us"))
    else:
        out.warnings.append(f"jetstream: unknown commit operation {operation!r}")


def _post_view(view: Any, out: Mapped) -> None:
    view, author = obj(view), obj(obj(view).get("author"))
    if not view.get("uri") or not author.get("did"):
        raise ValueError("post view without uri or author.did")
    record_post(str(view["uri"]), str(author["did"]), view.get("record"), view, out,
                author_handle=text(author.get("handle")), like_count=count(view.get("likeCount")),
                repost_count=count(view.get("repostCount")), reply_count=count(view.get("replyCount")),
                quote_count=count(view.get("quoteCount")))


def _thread_views(thread: Any) -> list[Any]:
    """Every post view in a thread view: its parents, the post, and its replies, depth first."""
    views, stack = [], [thread]
    while stack:
        node = obj(stack.pop())
        if node.get("parent"):
            stack.append(node["parent"])
        stack.extend(seq(node.get("replies")))
        if node.get("post"):  # notFoundPost / blockedPost carry no view: nothing to map
            views.append(node["post"])
    return views


def _notification(item: Any, out: Mapped) -> None:
    """A mention, reply or quote addressed to the account (likes, reposts and follows are not posts)."""
    item = obj(item)
    if item.get("reason") in ("mention", "reply", "quote"):
        _post_view(item, out)


def parse(payload: Any) -> Mapped:
    """A Jetstream event (or a list of them); searchPosts (`posts`); a feed (`feed[].post`: getAuthorFeed,
    getTimeline, getFeed, getListFeed); a thread (`thread.post`, `thread.parent`, `thread.replies[]`:
    getPostThread); or listNotifications (`notifications[]`)."""
    out = Mapped()
    if isinstance(payload, dict) and "kind" not in payload:
        if "posts" in payload:
            return each(seq(payload.get("posts")), _post_view, "bluesky searchPosts", out)
        if "feed" in payload:
            return each([obj(i).get("post") for i in seq(payload["feed"])], _post_view, "bluesky feed", out)
        if "thread" in payload:
            return each(_thread_views(payload["thread"]), _post_view, "bluesky thread", out)
        if "notifications" in payload:
            return each(seq(payload["notifications"]), _notification, "bluesky notification", out)
    events = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) and payload else []
    return each(events, _event, "jetstream event", out)


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


class JetstreamCollector(BaseCollector):
    kind = "jetstream"

    def __init__(self, name: str, settings: JetstreamSettings, watches: Sequence[Watch] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings = settings
        self.matcher = WatchMatcher(watches)

    def fetch(self, cursor: str | None) -> Batch:
        since = load_state(cursor).get("time_us")
        messages = self.call(lambda: self._listen(since))
        out = Mapped()
        events = [e for e in (decode_json(m, "jetstream message", out) for m in messages) if e is not None]
        last = max([t for e in events if isinstance(t := obj(e).get("time_us"), int)] + [since or 0]) or None
        out.extend(parse(events))
        read = len(out.posts)
        if not self.settings.keep_all:  # the firehose is the whole network: keep what a watch asks for
            matched = ((p, self.matcher.match(p.text)) for p in out.posts)
            out.posts = [replace(p, watches=w) for p, w in matched if w]
        lag = time.time() - last / 1e6 if last else None
        stats = {"events": len(messages), "posts_seen": read, "posts_kept": len(out.posts), "lag_seconds": lag}
        return out.batch(dump_state({"time_us": last}), more=len(messages) >= self.settings.max_events, stats=stats)

    def _url(self, since: int | None) -> str:
        params = {"wantedCollections": POST}
        if since:  # rewound a little: Jetstream's advice for a gapless resume
            params["cursor"] = str(int(since - self.settings.rewind_seconds * 1_000_000))
        return f"{self.settings.base_url.rstrip('/')}/subscribe?{urlencode(params)}"

    def _listen(self, since: int | None) -> list[str | bytes]:
        s, messages = self.settings, list[str | bytes]()
        deadline = time.monotonic() + s.listen_seconds
        try:
            with connect(self._url(since), open_timeout=s.open_timeout_seconds, max_size=2**22, proxy=None) as ws:
                _receive(ws, messages, s.max_events, deadline)
        except ConnectionClosed as e:
            if not messages:
                raise SourceUnavailable(f"jetstream {s.base_url}: connection closed ({e}); reconnecting") from e
        except InvalidStatus as e:
            raise error_for(e.response.status_code, dict(e.response.headers), e.response.body.decode(errors="replace"),
                            f"jetstream {s.base_url}", "Jetstream is open (no credentials): check base_url.") from e
        except (OSError, TimeoutError, WebSocketException) as e:
            raise SourceUnavailable(f"jetstream {s.base_url}: cannot connect ({e}); retrying with backoff") from e
        return messages


def _receive(ws: ClientConnection, messages: list[str | bytes], limit: int, deadline: float) -> None:
    try:
        while len(messages) < limit and (left := deadline - time.monotonic()) > 0:
            messages.append(ws.recv(timeout=left))
    except TimeoutError:
        return  # listened long enough


class BlueskySearchCollector(BaseCollector):
    kind = "bluesky_search"

    def __init__(self, name: str, settings: BlueskySearchSettings, watches: Sequence[Watch] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings = settings
        self.queries = list(settings.queries or dict.fromkeys(t for w in watches for t in w.terms()))
        from atproto import Client  # the SDK takes over a second to import; only this kind needs it

        self.client = Client(base_url=settings.base_url)
        self._logged_in = False

    def fetch(self, cursor: str | None) -> Batch:
        states, out, pages = obj(load_state(cursor).get("queries")), Mapped(), 0
        pending = [q for q in self.queries if obj(states.get(q)).get("token")] or self.queries
        for query in pending:
            state = obj(states.get(query))
            body = self._sdk(partial(self._search, query, state))
            mapped = parse(body)
            newest = max((p.created_at for p in mapped.posts), default=None)
            depth = int(state.get("pages", 0)) + 1 if state.get("token") else 1
            token = text(obj(body).get("cursor")) if depth < self.settings.max_pages else None
            states[query] = {**page_state(state, newest.isoformat() if newest else None, token), "pages": depth}
            pages += 1
            out.extend(mapped)
        more = any(obj(states.get(q)).get("token") for q in self.queries)
        return out.batch(dump_state({"queries": states}), more=more, stats={"requests": pages})

    def _search(self, query: str, state: dict[str, Any]) -> Any:
        s = self.settings
        if not s.handle:
            raise CollectorError(f"sources.{self.name}.handle is not set: give the account's handle (and export its "
                                 "app password) — Bluesky search needs a logged-in session")
        if not self._logged_in:
            self.client.login(s.handle, s.app_password.get(f"sources.{self.name}.app_password"),
                              fetch_bsky_profile=False)
            self._logged_in = True
        from atproto import models

        params = models.AppBskyFeedSearchPosts.Params(
            q=query, limit=s.limit, sort="latest", cursor=state.get("token"), since=state.get("since"),
            lang=s.lang or None)
        return self.client.invoke_query("app.bsky.feed.searchPosts", params=params).content

    def _sdk(self, fn: Callable[[], Any]) -> Any:
        from atproto_client import exceptions as atproto_errors

        def translated() -> Any:
            try:
                return fn()
            except atproto_errors.AtProtocolError as e:
                raise _sdk_error(e, self.settings.base_url) from e

        return self.call(translated)


def _sdk_error(error: Exception, where: str) -> CollectorError:
    from atproto_client.exceptions import NetworkError

    response = getattr(error, "response", None)
    status = getattr(response, "status_code", 0) or 0
    headers = dict(getattr(response, "headers", {}) or {})
    if status in (401, 403):
        return AuthFailed(f"Bluesky {where} rejected the handle or app password ({status}): create an app password "
                          "at bsky.app > Settings > Privacy and security > App passwords, set handle, and export it "
                          "as the variable app_password names")
    if isinstance(error, NetworkError) or status >= 500:
        return SourceUnavailable(f"Bluesky {where}: unavailable ({error!r}); retrying with backoff")
    if not status:
        return CollectorError(f"Bluesky {where}: {type(error).__name__}: {error}")
    return error_for(status, headers, str(getattr(response, "content", "")), f"Bluesky {where}", "")


# The registry (collectors.registry) finds these declarations: nothing else to edit for these sources.
JETSTREAM = SourceKind(JetstreamSettings, lambda name, s, ctx: JetstreamCollector(name, s, ctx.watches))
BLUESKY_SEARCH = SourceKind(BlueskySearchSettings, lambda name, s, ctx: BlueskySearchCollector(name, s, ctx.watches))
