"""The agency's own Bluesky account, through the atproto SDK: what is addressed to it, its posts, their threads.

`kind = "bluesky_account"` logs in as `[accounts] bluesky` with an app password and, each run, reads:

- `app.bsky.notification.listNotifications`, newest first, down to the newest notification seen last run:
  mentions, replies and quotes become posts addressed to the agency (`to_agency`); likes, reposts and follows are
  not posts;
- `app.bsky.feed.getAuthorFeed` for the account's latest `own_posts` posts (`by_agency`): read again every run, so
  their engagement counts are kept over time;
- `app.bsky.feed.getPostThread` for own posts whose reply count grew since the last run (at most `max_threads`):
  replies to the agency's posts are `to_agency`, its own replies `by_agency` (and answer the item they reply to),
  the rest of the conversation public.

The cursor holds the newest notification time seen and each own post's reply count; it is committed with the
posts, so a crash repeats a run's reads (upserts) and loses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, Literal

from pydantic import Field

from collectors.base import BY_AGENCY, PUBLIC, TO_AGENCY, BaseCollector, Batch, CollectorError, Post
from collectors.bluesky import _sdk_error as sdk_error
from collectors.bluesky import parse, to_posts  # noqa: F401  # the pure mappers of these responses
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, dump_state, load_state, obj, seq, text
from core.settings_base import SecretRef, SourceSettings


class BlueskyAccountSettings(SourceSettings):
    kind: Literal["bluesky_account"] = "bluesky_account"
    every_seconds: float = Field(120.0, gt=0)
    base_url: str = "https://bsky.social"
    app_password: SecretRef = SecretRef(env="BLUESKY_APP_PASSWORD")
    own_posts: int = Field(30, gt=0, le=100)
    notifications_limit: int = Field(50, gt=0, le=100)
    max_pages: int = Field(5, gt=0)
    max_threads: int = Field(10, ge=0)
    thread_depth: int = Field(6, gt=0, le=1000)


def directed(post: Post, own_did: str) -> Post:
    """A post of a conversation: the agency's own, a reply or quote addressed to it, or public talk."""
    own = f"at://{own_did}/"
    if post.author_id == own_did:
        return replace(post, direction=BY_AGENCY)
    if (post.reply_to_id or "").startswith(own) or (post.quote_of_id or "").startswith(own):
        return replace(post, direction=TO_AGENCY)
    return replace(post, direction=PUBLIC)


class BlueskyAccountCollector(BaseCollector):
    kind = "bluesky_account"

    def __init__(self, name: str, settings: BlueskyAccountSettings, handle: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings, self.handle = settings, handle.lstrip("@")
        from atproto import Client  # the SDK takes over a second to import; only Bluesky kinds need it

        self.client = Client(base_url=settings.base_url)
        self.did: str | None = None
        self.client.on_session_change(self._session)

    def _session(self, event: Any, session: Any) -> None:
        self.did = getattr(session, "did", None) or self.did

    def fetch(self, cursor: str | None) -> Batch:
        state, out = load_state(cursor), Mapped()
        self._sdk(self._login)
        assert self.did is not None
        seen, pages = self._notifications(text(state.get("seen")), out)
        feed = self._sdk(lambda: self._query("app.bsky.feed.getAuthorFeed", "AppBskyFeedGetAuthorFeed", actor=self.did,
                                             limit=self.settings.own_posts, filter="posts_with_replies"))
        own = [replace(p, direction=BY_AGENCY) for p in parse(feed).posts if p.author_id == self.did]
        out.posts += own
        replies = {k: v for k, v in obj(state.get("replies")).items() if isinstance(v, int)}
        threads = self._threads(own, replies, out)
        # reply counts of the threads read, for the posts still among the latest (a capped-out thread is read later)
        state = {"seen": seen, "replies": {p.post_id: replies[p.post_id] for p in own if p.post_id in replies}}
        stats = {"notification_pages": pages, "own_posts": len(own), "threads": threads}
        return out.batch(dump_state(state), stats=stats)

    def _notifications(self, seen: str | None, out: Mapped) -> tuple[str | None, int]:
        """Notifications newer than `seen`; returns the newest time read (the next run's `seen`) and pages read."""
        newest, token, pages, read = seen, None, 0, set[str]()
        while pages < self.settings.max_pages:
            body = self._sdk(partial(self._query, "app.bsky.notification.listNotifications",
                                     "AppBskyNotificationListNotifications", limit=self.settings.notifications_limit,
                                     cursor=token))
            items = [obj(i) for i in seq(obj(body).get("notifications"))]
            fresh = [i for i in items if (seen is None or str(i.get("indexedAt") or "") > seen)
                     and str(i.get("uri")) not in read]
            read |= {str(i.get("uri")) for i in items}
            mapped = parse({"notifications": fresh})
            out.extend(replace(mapped, posts=[replace(p, direction=TO_AGENCY) for p in mapped.posts]))
            newest = max([newest or "", *(str(i.get("indexedAt") or "") for i in fresh)]) or None
            pages, token = pages + 1, text(obj(body).get("cursor"))
            if len(fresh) < len(items) or not token or not items:  # reached what was read (or the end)
                return newest, pages
        out.warnings.append(f"bluesky {self.handle}: more than {pages} pages of notifications since the last run; "
                            "older ones were not read (run this source more often)")
        return newest, pages

    def _threads(self, own: list[Post], replies: dict[str, int], out: Mapped) -> int:
        grown = [p for p in own if p.reply_count > replies.get(p.post_id, 0)][: self.settings.max_threads]
        for post in grown:
            body = self._sdk(partial(self._query, "app.bsky.feed.getPostThread", "AppBskyFeedGetPostThread",
                                     uri=post.post_id, depth=self.settings.thread_depth, parent_height=0))
            mapped = parse(body)
            assert self.did is not None
            out.extend(replace(mapped, posts=[directed(p, self.did) for p in mapped.posts]))
            replies[post.post_id] = post.reply_count
        return len(grown)

    def _login(self) -> None:
        if self.did is not None:
            return
        if not self.handle:
            raise CollectorError(f"[accounts] bluesky is not set: give the agency's Bluesky handle (and export the "
                                 f"app password sources.{self.name}.app_password names)")
        password = self.settings.app_password.get(f"sources.{self.name}.app_password")
        self.client.login(self.handle, password, fetch_bsky_profile=False)

    def _query(self, nsid: str, model: str, **params: Any) -> Any:
        """The endpoint's JSON body exactly as sent (the SDK's typed models would drop what they do not know)."""
        from atproto import models

        query = getattr(models, model).Params(**params)
        return self.client.invoke_query(nsid, params=query).content

    def _sdk(self, fn: Callable[[], Any]) -> Any:
        from atproto_client import exceptions as atproto_errors

        def translated() -> Any:
            try:
                return fn()
            except atproto_errors.AtProtocolError as e:
                raise sdk_error(e, self.settings.base_url) from e

        return self.call(translated)


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(BlueskyAccountSettings, lambda name, s, ctx: BlueskyAccountCollector(name, s, ctx.accounts.bluesky))
