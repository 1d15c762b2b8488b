"""Mastodon: hashtag and public timelines of one server, through Mastodon.py.

Each server is its own source (its own `base_url`, token and rules): status ids are per server, so stored ids
are `host:id`. Timelines are read forward from the cursor's last id (`min_id`), so a restart never skips.
With `stream = true`, once a timeline has caught up the collector follows the server's streaming API (where
`/api/v1/streaming/health` answers; many servers require a token for public streams) and only polls again if
the stream drops. Streams also bring deletions and edits (`status.update`), which polling cannot see.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urlparse

import requests
from mastodon import Mastodon, MastodonError, StreamListener
from mastodon.errors import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)
from pydantic import Field

from collectors.base import (
    AuthFailed,
    BaseCollector,
    Batch,
    CollectorError,
    Post,
    RateLimited,
    SourceUnavailable,
    Watch,
    count,
)
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, decode_json, dump_state, each, load_state, obj, seq, text, when
from collectors.streams import StreamBuffer
from core.settings_base import SecretRef, SourceSettings

PLATFORM = "mastodon"
BREAKS = re.compile(r"<br\s*/?>|</p>", re.I)
TAGS = re.compile(r"<[^>]+>")


class MastodonSettings(SourceSettings):
    kind: Literal["mastodon"] = "mastodon"
    base_url: str = "https://mastodon.social"
    access_token: SecretRef | None = None
    hashtags: tuple[str, ...] = ()  # empty: every watch's hashtags
    public: bool = False
    local_only: bool = False
    limit: int = Field(40, gt=0, le=40)
    stream: bool = False
    timeout_seconds: float = Field(30.0, gt=0)


def _plain(content: Any) -> str:
    if not isinstance(content, str):
        return ""
    return html.unescape(TAGS.sub("", BREAKS.sub("\n", content))).strip()


def _status(status: Any, out: Mapped) -> None:
    if not isinstance(status, dict) or not status.get("id"):
        raise ValueError("status without id")
    created = when(status.get("created_at"))
    if created is None:
        raise ValueError("status without a readable created_at")
    shown, account = obj(status.get("reblog")) or status, obj(status.get("account"))
    if "content" not in shown:
        out.warnings.append(f"mastodon status {status['id']}: no content")
    quoted = obj(obj(shown.get("quote")).get("quoted_status"))
    out.posts.append(Post(
        platform=PLATFORM, post_id=str(status["id"]), text=_plain(shown.get("content")) or text(
            shown.get("spoiler_text")) or "", created_at=created, url=text(status.get("url") or status.get("uri")),
        author_id=text(account.get("id")), author_handle=text(account.get("acct")), lang=text(shown.get("language")),
        like_count=count(shown.get("favourites_count")), repost_count=count(shown.get("reblogs_count")),
        reply_count=count(shown.get("replies_count")), quote_count=count(shown.get("quotes_count")),
        reply_to_id=text(status.get("in_reply_to_id")), repost_of_id=text(obj(status.get("reblog")).get("id")),
        quote_of_id=text(quoted.get("id")), raw=status))


def _message(message: dict[str, Any], out: Mapped) -> None:
    event, payload = message.get("event"), message.get("payload")
    if event == "delete":
        out.deleted.append((PLATFORM, str(payload)))
    elif event in ("update", "status.update"):
        status = decode_json(payload, f"mastodon {event}", out) if isinstance(payload, str | bytes) else payload
        if status is not None:
            each([status], _status, f"mastodon {event}", out)


def _notification(item: Any, out: Mapped) -> None:
    """A notification of type mention carries the status addressed to the account; other types are no posts."""
    if obj(item).get("type") == "mention" and obj(item).get("status"):
        _status(item["status"], out)


def parse(payload: Any) -> Mapped:
    """A timeline body (a list of statuses), one status, one streaming message (`{"event", "payload"}`), a
    search v2 body (`statuses`), a status context (`ancestors`, `descendants`) or a list of notifications."""
    out = Mapped()
    if isinstance(payload, dict) and "event" in payload:
        _message(payload, out)
        return out
    if isinstance(payload, dict) and ("statuses" in payload or "ancestors" in payload or "descendants" in payload):
        statuses = seq(payload.get("statuses")) + seq(payload.get("ancestors")) + seq(payload.get("descendants"))
        return each(statuses, _status, "mastodon status", out)
    if isinstance(payload, list) and any(isinstance(i, dict) and "type" in i and "account" in i for i in payload):
        return each(payload, _notification, "mastodon notification", out)
    statuses = payload if isinstance(payload, list) else [payload] if isinstance(payload, dict) and payload else []
    return each(statuses, _status, "mastodon status", out)


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


class _Listener(StreamListener):
    """Keeps each event exactly as the server sent it (`{"event", "payload"}`), instead of Mastodon.py's objects."""

    def __init__(self, buffer: StreamBuffer) -> None:
        self.buffer = buffer

    def _dispatch_event(self, name: str, raw_payload: Any, for_stream: Any, payload_present: bool) -> None:
        if name in ("update", "status.update", "delete"):
            self.buffer.put({"event": name, "payload": raw_payload})

    def on_abort(self, err: Exception) -> None:
        self.buffer.fail(SourceUnavailable(f"mastodon stream stopped: {err}; polling until it reconnects"))


class MastodonCollector(BaseCollector):
    kind = "mastodon"

    def __init__(self, name: str, settings: MastodonSettings, watches: Sequence[Watch] = (),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings, self.host = settings, urlparse(settings.base_url).netloc
        tags = settings.hashtags or tuple(dict.fromkeys(h.lstrip("#").lower() for w in watches for h in w.hashtags))
        self.timelines = [f"tag:{t.lstrip('#')}" for t in tags] + (["public"] if settings.public else [])
        self._bodies: list[tuple[str, bytes]] = []
        http = requests.Session()
        http.hooks["response"].append(self._keep)
        token = settings.access_token.get(f"sources.{name}.access_token") if settings.access_token else None
        self.api = Mastodon(api_base_url=settings.base_url, access_token=token, ratelimit_method="throw",
                            request_timeout=settings.timeout_seconds, session=http)
        self.streams: dict[str, tuple[StreamBuffer, Any]] = {}
        self._gap: set[str] = set()

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Keep each body exactly as the server sent it (Mastodon.py converts what it returns)."""
        if not kwargs.get("stream"):  # reading a stream's content here would swallow the stream
            self._bodies.append((response.url, response.content))

    def fetch(self, cursor: str | None) -> Batch:
        state, out, more = load_state(cursor), Mapped(), False
        for timeline in self.timelines:
            more = self._timeline(timeline, state, out) or more
        out.posts = [self._local(p) for p in out.posts]
        out.deleted = [(PLATFORM, f"{self.host}:{i}") for _, i in out.deleted]
        stats = {"streaming": sorted(self.streams), "dropped": sum(b.dropped for b, _ in self.streams.values())}
        return out.batch(dump_state(state), more=more, stats=stats)

    def _timeline(self, timeline: str, state: dict[str, Any], out: Mapped) -> bool:
        if timeline in self.streams:
            buffer, handle = self.streams[timeline]
            self._take(timeline, [parse(m) for m in buffer.drain()], state, out)
            alive = handle.is_alive() and buffer.error is None
            if alive and timeline not in self._gap:
                return False
            if not alive:
                out.warnings.append(f"mastodon {self.host}: the {timeline} stream stopped "
                                    f"({buffer.error or 'closed by the server'}); polling until it is back")
                self._stop(timeline)
        statuses = self.call(lambda: self._poll(timeline, state.get(timeline)))
        self._take(timeline, [parse(statuses)], state, out)
        caught_up = not isinstance(statuses, list) or len(statuses) < self.settings.limit
        if timeline in self.streams and caught_up:  # one more poll covered the stream's connecting moment
            self._gap.discard(timeline)
        elif caught_up and self.settings.stream and timeline not in self.streams:
            self._start(timeline, out)
        return not caught_up

    @staticmethod
    def _take(timeline: str, parts: list[Mapped], state: dict[str, Any], out: Mapped) -> None:
        for mapped in parts:
            state[timeline] = _newest(state.get(timeline), [p.post_id for p in mapped.posts])
            out.extend(mapped)

    def _poll(self, timeline: str, since: str | None) -> Any:
        s, self._bodies = self.settings, []
        with _translated(self.api, self.settings.base_url):
            if timeline == "public":
                self.api.timeline_public(local=s.local_only, min_id=since, limit=s.limit)
            else:
                self.api.timeline_hashtag(timeline[4:], local=s.local_only, min_id=since, limit=s.limit)
        bodies = [body for url, body in self._bodies if "/api/v1/timelines/" in url]
        return json.loads(bodies[-1]) if bodies else []

    def _start(self, timeline: str, out: Mapped) -> None:
        buffer = StreamBuffer()
        try:
            with _translated(self.api, self.settings.base_url):
                if not self.api.stream_healthy():
                    raise SourceUnavailable("the server's streaming API is not healthy")
                handle = (self.api.stream_public(_Listener(buffer), run_async=True, local=self.settings.local_only)
                          if timeline == "public" else
                          self.api.stream_hashtag(timeline[4:], _Listener(buffer), local=self.settings.local_only,
                                                  run_async=True))
        except CollectorError as e:
            out.warnings.append(f"mastodon {self.host}: no streaming for {timeline} ({e}); polling instead")
            return
        self.streams[timeline] = (buffer, handle)
        self._gap.add(timeline)

    def _stop(self, timeline: str) -> None:
        _, handle = self.streams.pop(timeline)
        self._gap.discard(timeline)
        handle.close()

    def _local(self, post: Post) -> Post:
        prefix = f"{self.host}:"
        return replace(post, post_id=prefix + post.post_id,
                       **{k: prefix + v for k in ("reply_to_id", "repost_of_id", "quote_of_id")
                          if (v := getattr(post, k))})


def _newest(current: str | None, ids: Sequence[str]) -> str | None:
    """Mastodon ids are numeric strings that grow with time; compare by length, then text."""
    return max([i for i in (current, *ids) if i], key=lambda i: (len(i), i), default=None)


@contextmanager
def _translated(api: Mastodon, where: str) -> Iterator[None]:
    try:
        yield
    except MastodonError as e:
        raise _error(e, where, getattr(api, "ratelimit_reset", None)) from e


def _error(error: MastodonError, where: str, reset: float | None) -> CollectorError:
    status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
    if isinstance(error, MastodonRatelimitError):
        wait = max(reset - time.time(), 0.0) if reset else None
        return RateLimited(f"mastodon {where}: rate limited; waiting for the reset the server gave", wait)
    if isinstance(error, MastodonUnauthorizedError) or status in (401, 403):
        return AuthFailed(f"mastodon {where}: the server refused ({status or 401}): this server needs an access "
                          "token for these timelines (Preferences > Development > New application, read scope); "
                          "set access_token = { env = \"VARIABLE\" } and export it")
    if isinstance(error, MastodonServerError | MastodonNetworkError):
        return SourceUnavailable(f"mastodon {where}: unavailable ({error}); retrying with backoff")
    if isinstance(error, MastodonNotFoundError | MastodonAPIError):
        return CollectorError(f"mastodon {where}: {error}; check base_url and the hashtags")
    return CollectorError(f"mastodon {where}: {error}")


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(MastodonSettings, lambda name, s, ctx: MastodonCollector(name, s, ctx.watches))
