"""X (Twitter) API v2 through tweepy: recent search from the watches, or the filtered stream, with a cost meter.

X bills every post (and user) an app reads. The cursor carries this month's reads, so the spend survives
restarts and commits with the posts that caused it; before each request the collector checks that a full page
still fits under `monthly_cap_usd`, and at the cap it stops with a message saying so (the run log and the
Sources page show it, with reads / spend / cap in the run's details).

- search (`mode = "search"`): the watches' terms become OR-queries no longer than `max_query_length`; each keeps
  its `since_id`; pages are followed by `next_token` (expansions: authors and referenced posts).
- stream (`mode = "stream"`): the filtered stream's rules are synced to the watches (one tagged rule per watch);
  a background connection buffers posts, each fetch takes what arrived. Compliance deletes go to Batch.deleted.

An edited post has a new id and lists its ids in `edit_history_tweet_ids`; posts are stored under the first
id, so an edit replaces the stored post. tweepy's host is fixed: `base_url` is applied by a rewriting adapter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import tweepy
from pydantic import Field

from collectors.base import BaseCollector, Batch, CollectorError, Post, Watch, count
from collectors.kinds import SourceKind
from collectors.mapping import (
    Mapped,
    decode_json,
    dump_state,
    each,
    load_state,
    obj,
    page_state,
    seq,
    text,
    when,
)
from collectors.streams import StreamBuffer
from collectors.x_support import (
    TWEEPY_HOST,
    RewriteAdapter,
    build_queries,
    capped,
    status_error,
    translated,
    watch_terms,
)
from core.run_details import CAP_USD, SPEND_USD
from core.settings_base import SecretRef, SourceSettings

PLATFORM = "x"
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
TWEET_FIELDS = ["created_at", "author_id", "lang", "public_metrics", "referenced_tweets", "conversation_id",
                "edit_history_tweet_ids", "note_tweet"]
USER_FIELDS = ["username", "name"]
SNOWFLAKE_EPOCH_MS = 1288834974657


class XSettings(SourceSettings):
    kind: Literal["x"] = "x"
    every_seconds: float = Field(300.0, gt=0)
    base_url: str = TWEEPY_HOST
    bearer_token: SecretRef = SecretRef(env="X_BEARER_TOKEN")
    mode: Literal["search", "stream"] = "search"
    query_suffix: str = "-is:retweet"
    max_query_length: int = Field(512, ge=64)
    max_results: int = Field(100, ge=10, le=100)
    price_per_post_read_usd: float = Field(0.005, ge=0)
    price_per_user_read_usd: float = Field(0.010, ge=0)
    monthly_cap_usd: float = Field(50.0, ge=0)
    stream_wait_seconds: float = Field(5.0, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)


def _tweet(tweet: Any, users: dict[str, dict[str, Any]], tags: tuple[str, ...], out: Mapped) -> None:
    if not isinstance(tweet, dict) or not tweet.get("id"):
        raise ValueError("post without id")
    created = when(tweet.get("created_at")) or snowflake_time(tweet["id"])
    if created is None:
        raise ValueError("post without created_at (ask for tweet.fields=created_at)")
    user = users.get(str(tweet.get("author_id")), {})
    if tweet.get("author_id") and not user:
        out.warnings.append(f"x {tweet['id']}: author {tweet['author_id']} not in includes.users")
    metrics, refs = obj(tweet.get("public_metrics")), {r.get("type"): r.get("id") for r in map(obj, seq(
        tweet.get("referenced_tweets")))}
    history = seq(tweet.get("edit_history_tweet_ids"))
    handle = text(user.get("username"))
    out.posts.append(Post(
        platform=PLATFORM, post_id=str(history[0] if history else tweet["id"]), created_at=created,
        text=str(obj(tweet.get("note_tweet")).get("text") or tweet.get("text") or ""),
        url=f"https://x.com/{handle or 'i/web'}/status/{tweet['id']}", author_id=text(tweet.get("author_id")),
        author_handle=handle, lang=text(tweet.get("lang")), watches=tags,
        like_count=count(metrics.get("like_count")), repost_count=count(metrics.get("retweet_count")),
        reply_count=count(metrics.get("reply_count")), quote_count=count(metrics.get("quote_count")),
        reply_to_id=text(refs.get("replied_to")), repost_of_id=text(refs.get("retweeted")),
        quote_of_id=text(refs.get("quoted")), raw=tweet))


def snowflake_time(post_id: Any) -> datetime | None:
    """When an X post was created, read from its id: X ids are snowflakes (ms since 2010-11-04 in the top bits)."""
    try:
        ms = (int(str(post_id)) >> 22) + SNOWFLAKE_EPOCH_MS
    except ValueError:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC) if SNOWFLAKE_EPOCH_MS < ms < 2**41 + SNOWFLAKE_EPOCH_MS else None


def parse(payload: Any) -> Mapped:
    """A recent-search body (`data` is a list) or one filtered-stream message (`data` is one post)."""
    out, body = Mapped(), obj(payload)
    deleted = obj(obj(obj(body.get("data")).get("delete")).get("tweet"))
    if deleted.get("id"):  # a compliance-stream delete event
        out.deleted.append((PLATFORM, str(deleted["id"])))
        return out
    users = {str(u.get("id")): u for u in map(obj, seq(obj(body.get("includes")).get("users")))}
    tags = tuple(str(r.get("tag")) for r in map(obj, seq(body.get("matching_rules"))) if r.get("tag"))
    data = body.get("data")
    posts = data if isinstance(data, list) else [data] if data else []
    out.warnings += [f"x: {e.get('title')}: {e.get('detail')}" for e in map(obj, seq(body.get("errors")))]
    return each(posts, lambda t, o: _tweet(t, users, tags, o), "x post", out)


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


def reads(body: Any) -> tuple[int, int]:
    """(posts, users) a response body is billed for: its posts and included posts, its included users."""
    data, includes = obj(body).get("data"), obj(obj(body).get("includes"))
    posts = len(data) if isinstance(data, list) else int(isinstance(data, dict) and "id" in data)
    return posts + len(seq(includes.get("tweets"))), len(seq(includes.get("users")))


class _Stream(tweepy.StreamingClient):
    def __init__(self, token: str, buffer: StreamBuffer) -> None:
        super().__init__(token, return_type=dict, daemon=True)  # never keeps a stopping engine alive
        self.buffer = buffer

    def on_data(self, raw_data: bytes) -> None:
        self.buffer.put(raw_data)

    def on_request_error(self, status_code: int) -> None:
        self.buffer.fail(status_error(status_code, "filtered stream", None))
        self.disconnect()


class XCollector(BaseCollector):
    kind = "x"

    def __init__(self, name: str, settings: XSettings, watches: Sequence[Watch] = (),
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings, self._wall = settings, wall
        s, token = settings, settings.bearer_token.get(f"sources.{name}.bearer_token")
        self.queries = build_queries([t for w in watches for t in watch_terms(w)], s.query_suffix, s.max_query_length)
        self.rules = [(w.name, q) for w in watches for q in build_queries(watch_terms(w), "", s.max_query_length)]
        self.client = tweepy.Client(bearer_token=token, return_type=dict)
        self.buffer = StreamBuffer()
        self.stream = _Stream(token, self.buffer)
        for session in (self.client.session, self.stream.session):
            session.mount(TWEEPY_HOST, RewriteAdapter(s.base_url, s.timeout_seconds))

    def fetch(self, cursor: str | None) -> Batch:
        state = load_state(cursor)
        month = self._wall().strftime("%Y-%m")
        if state.get("month") != month:
            state = {**state, "month": month, "post_reads": 0, "user_reads": 0}
        out = Mapped()
        more = self._search(state, out) if self.settings.mode == "search" else self._drain(state, out)
        return out.batch(dump_state(state), more=more, stats=self._stats(state))

    def _search(self, state: dict[str, Any], out: Mapped) -> bool:
        queries = obj(state.get("queries"))
        pending = [q for q in self.queries if obj(queries.get(q)).get("token")] or self.queries
        for query in pending:
            known = obj(queries.get(query))
            body = self._page(query, known, self._page_size(state), out)
            self._meter(state, body)
            meta = obj(obj(body).get("meta"))
            queries[query] = page_state(known, text(meta.get("newest_id")), text(meta.get("next_token")))
            out.extend(parse(body))
        state["queries"] = {q: queries[q] for q in self.queries if q in queries}
        return any(obj(queries.get(q)).get("token") for q in self.queries)

    def _page(self, query: str, known: dict[str, Any], size: int, out: Mapped) -> Any:
        def request(since: Any) -> Any:
            return self.call(lambda: translated(lambda: self.client.search_recent_tweets(
                query, since_id=since, next_token=known.get("token"), max_results=size, expansions=EXPANSIONS,
                tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS), "recent search"))

        try:
            return request(known.get("since"))
        except CollectorError as e:
            if "since_id" not in str(e) or not known.get("since"):
                raise
            out.warnings.append(f"x: the last post read is older than recent search's 7 days; posts between were "
                                f"missed ({e})")
            known.pop("since")
            return request(None)

    def _drain(self, state: dict[str, Any], out: Mapped) -> bool:
        self._page_size(state)
        if not self.stream.running:
            self.call(lambda: translated(self._sync_rules, "stream rules"))
            self.stream.filter(threaded=True, expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS,
                               user_fields=USER_FIELDS)
        for message in self.buffer.drain(self.settings.stream_wait_seconds):
            body = decode_json(message, "x stream message", out)
            self._meter(state, body)
            out.extend(parse(body))
        error, self.buffer.error = self.buffer.error, None
        if error is not None and not out.posts:
            raise error
        if error is not None:
            out.warnings.append(str(error))
        return False

    def _sync_rules(self) -> None:
        current = [obj(r) for r in seq(obj(self.stream.get_rules()).get("data"))]
        wanted = {(q, tag) for tag, q in self.rules}
        stale = [r["id"] for r in current if (r.get("value"), r.get("tag")) not in wanted]
        have = {(r.get("value"), r.get("tag")) for r in current}
        if stale:
            self.stream.delete_rules(stale)
        missing = [tweepy.StreamRule(value=q, tag=tag) for q, tag in sorted(wanted - have)]
        if missing:
            self.stream.add_rules(missing)

    def _page_size(self, state: dict[str, Any]) -> int:
        s = self.settings
        per_post = s.price_per_post_read_usd + s.price_per_user_read_usd
        left = s.monthly_cap_usd - self._spend(state)
        size = min(s.max_results, int(left / per_post)) if per_post else s.max_results
        if size < 10:
            if self.stream.running:
                self.stream.disconnect()
            raise capped(self.name, self._stats(state), self._wall())
        return size

    def _meter(self, state: dict[str, Any], body: Any) -> None:
        posts, users = reads(body)
        state["post_reads"] = state.get("post_reads", 0) + posts
        state["user_reads"] = state.get("user_reads", 0) + users

    def _spend(self, state: dict[str, Any]) -> float:
        s = self.settings
        return state.get("post_reads", 0) * s.price_per_post_read_usd + state.get("user_reads", 0) * \
            s.price_per_user_read_usd

    def _stats(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"month": state.get("month"), "post_reads": state.get("post_reads", 0),
                "user_reads": state.get("user_reads", 0), SPEND_USD: round(self._spend(state), 4),
                CAP_USD: self.settings.monthly_cap_usd, "dropped": self.buffer.dropped}


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(XSettings, lambda name, s, ctx: XCollector(name, s, ctx.watches, ctx.wall))
