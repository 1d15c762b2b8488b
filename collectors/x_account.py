"""The agency's own X account through tweepy: its mention timeline and its own posts, under the cost meter.

`kind = "x_account"` reads, for `[accounts] x`:

- the user mention timeline (`GET /2/users/:id/mentions`), newest first down to the newest mention read last run
  (`since_id`), pages followed by `pagination_token`: posts addressed to the agency (`to_agency`; its own posts that
  mention itself are `by_agency`). Replies to the agency start with its @handle, so they are mentions too;
- its own latest `own_posts` posts (`GET /2/users/:id/tweets`) every `own_every_seconds` (`by_agency`): their
  engagement over time, at a price a budget can hold (X bills every post read).

X bills every post and user read. As with the `x` source, this month's reads travel in the cursor (committed with
the posts), a page is asked for only when it still fits under `monthly_cap_usd`, and at the cap the source stops
with a message saying until when. The account's id is looked up once (one user read) and kept in the cursor.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import tweepy
from pydantic import Field

from collectors.base import BY_AGENCY, TO_AGENCY, BaseCollector, Batch, CollectorError
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, dump_state, load_state, obj, page_state, text
from collectors.x import EXPANSIONS, TWEET_FIELDS, USER_FIELDS, parse, reads, to_posts  # noqa: F401
from collectors.x_support import TWEEPY_HOST, RewriteAdapter, capped, translated
from core.run_details import CAP_USD, SPEND_USD
from core.settings_base import SecretRef, SourceSettings


class XAccountSettings(SourceSettings):
    kind: Literal["x_account"] = "x_account"
    every_seconds: float = Field(300.0, gt=0)
    base_url: str = TWEEPY_HOST
    bearer_token: SecretRef = SecretRef(env="X_BEARER_TOKEN")
    max_results: int = Field(100, ge=5, le=100)
    own_posts: int = Field(10, ge=5, le=100)
    own_every_seconds: float = Field(21600.0, gt=0)
    price_per_post_read_usd: float = Field(0.005, ge=0)
    price_per_user_read_usd: float = Field(0.010, ge=0)
    monthly_cap_usd: float = Field(20.0, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)


class XAccountCollector(BaseCollector):
    kind = "x_account"

    def __init__(self, name: str, settings: XAccountSettings, username: str,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings, self.username, self._wall = settings, username.lstrip("@"), wall
        token = settings.bearer_token.get(f"sources.{name}.bearer_token")
        self.client = tweepy.Client(bearer_token=token, return_type=dict)
        self.client.session.mount(TWEEPY_HOST, RewriteAdapter(settings.base_url, settings.timeout_seconds))

    def fetch(self, cursor: str | None) -> Batch:
        state, out = load_state(cursor), Mapped()
        month = self._wall().strftime("%Y-%m")
        if state.get("month") != month:
            state = {**state, "month": month, "post_reads": 0, "user_reads": 0}
        user = self._user_id(state)
        mentions = obj(state.get("mentions"))
        body = self._request("mention timeline", self._page_size(state, self.settings.max_results),
                             lambda size: self.client.get_users_mentions(
                                 user, since_id=mentions.get("since"), pagination_token=mentions.get("token"),
                                 max_results=size, expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS,
                                 user_fields=USER_FIELDS), state)
        meta = obj(obj(body).get("meta"))
        state["mentions"] = page_state(mentions, text(meta.get("newest_id")), text(meta.get("next_token")))
        mapped = parse(body)
        out.extend(replace(mapped, posts=[replace(p, direction=BY_AGENCY if p.author_id == user else TO_AGENCY)
                                          for p in mapped.posts]))
        self._own_posts(user, state, out)
        return out.batch(dump_state(state), more=bool(state["mentions"].get("token")), stats=self._stats(state))

    def _user_id(self, state: dict[str, Any]) -> str:
        if state.get("user_id") and state.get("username") == self.username:
            return str(state["user_id"])
        if not self.username:
            raise CollectorError(f"[accounts] x is not set: give the agency's X username (sources.{self.name} reads "
                                 "its mention timeline)")
        self._page_size(state, 1)
        body = self.call(lambda: translated(lambda: self.client.get_user(username=self.username), "user lookup"))
        state["user_reads"] = state.get("user_reads", 0) + 1
        user_id = text(obj(obj(body).get("data")).get("id"))
        if user_id is None:
            raise CollectorError(f"X has no user @{self.username} (check [accounts] x)")
        state.update(user_id=user_id, username=self.username)
        return user_id

    def _own_posts(self, user: str, state: dict[str, Any], out: Mapped) -> None:
        """The account's latest posts, when `own_every_seconds` have passed (their engagement over time)."""
        now = self._wall().timestamp()
        if now - float(state.get("own_at") or 0) < self.settings.own_every_seconds:
            return
        body = self._request("own posts", self._page_size(state, self.settings.own_posts),
                             lambda size: self.client.get_users_tweets(
                                 user, max_results=max(size, 5), expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS,
                                 user_fields=USER_FIELDS), state)
        mapped = parse(body)
        out.extend(replace(mapped, posts=[replace(p, direction=BY_AGENCY) for p in mapped.posts]))
        state["own_at"] = now

    def _request(self, what: str, size: int, call: Callable[[int], Any], state: dict[str, Any]) -> Any:
        body = self.call(lambda: translated(lambda: call(size), what))
        posts, users = reads(body)
        state["post_reads"] = state.get("post_reads", 0) + posts
        state["user_reads"] = state.get("user_reads", 0) + users
        return body

    def _page_size(self, state: dict[str, Any], wanted: int) -> int:
        """The most posts a page may ask for under the cap (posts and their authors); at the cap, stop."""
        s = self.settings
        per_post = s.price_per_post_read_usd + s.price_per_user_read_usd
        left = s.monthly_cap_usd - self._spend(state)
        size = min(wanted, int(left / per_post)) if per_post else wanted
        if size < min(wanted, 5):
            raise capped(self.name, self._stats(state), self._wall())
        return size

    def _spend(self, state: dict[str, Any]) -> float:
        s = self.settings
        return (state.get("post_reads", 0) * s.price_per_post_read_usd
                + state.get("user_reads", 0) * s.price_per_user_read_usd)

    def _stats(self, state: dict[str, Any]) -> dict[str, Any]:
        return {"month": state.get("month"), "post_reads": state.get("post_reads", 0),
                "user_reads": state.get("user_reads", 0), SPEND_USD: round(self._spend(state), 4),
                CAP_USD: self.settings.monthly_cap_usd}


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(XAccountSettings, lambda name, s, ctx: XAccountCollector(name, s, ctx.accounts.x, ctx.wall))
