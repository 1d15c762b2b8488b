"""The agency's own Mastodon account, through Mastodon.py: mentions, its own statuses, and their conversations.

`kind = "mastodon_account"` needs the account's access token (read scope) on its server. Each run reads:

- notifications of type mention newer than the last one read (`min_id`): the statuses addressed to the agency
  (`to_agency`);
- the account's latest `own_posts` statuses (`by_agency`), read again every run so their engagement is kept over time;
- the context (`/api/v1/statuses/:id/context`) of own statuses whose reply count grew (at most `max_threads`): replies
  to the agency are `to_agency`, its own replies `by_agency` (they answer what they reply to), the rest public.

Status ids are per server, so stored ids are `host:id` (as the mastodon source stores them). The cursor (the newest
notification id, and each own status's reply count) is committed with the posts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any, Literal
from urllib.parse import urlparse

import requests
from mastodon import Mastodon
from pydantic import Field

from collectors.base import BY_AGENCY, PUBLIC, TO_AGENCY, BadPayload, BaseCollector, Batch, CollectorError, Post
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, dump_state, load_state, obj, text
from collectors.mastodon import _newest as newest_id
from collectors.mastodon import _translated as translated
from collectors.mastodon import parse, to_posts  # noqa: F401  # the pure mappers of these responses
from core.settings_base import SecretRef, SourceSettings


class MastodonAccountSettings(SourceSettings):
    kind: Literal["mastodon_account"] = "mastodon_account"
    every_seconds: float = Field(120.0, gt=0)
    base_url: str = "https://mastodon.social"
    access_token: SecretRef = SecretRef(env="MASTODON_ACCESS_TOKEN")
    limit: int = Field(40, gt=0, le=40)
    own_posts: int = Field(20, gt=0, le=40)
    max_threads: int = Field(10, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)


def mentions_of(body: Any) -> list[Any]:
    """The notifications of a notifications body (a list), whatever their type."""
    return [n for n in body if isinstance(n, dict)] if isinstance(body, list) else []


class MastodonAccountCollector(BaseCollector):
    kind = "mastodon_account"

    def __init__(self, name: str, settings: MastodonAccountSettings, acct: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings, self.acct, self.host = settings, acct.lstrip("@"), urlparse(settings.base_url).netloc
        self._bodies: list[tuple[str, bytes]] = []
        http = requests.Session()
        http.hooks["response"].append(self._keep)
        self.api = Mastodon(api_base_url=settings.base_url, ratelimit_method="throw", session=http,
                            access_token=settings.access_token.get(f"sources.{name}.access_token"),
                            request_timeout=settings.timeout_seconds)
        self.me: str | None = None

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Keep each body exactly as the server sent it (Mastodon.py converts what it returns)."""
        self._bodies.append((urlparse(response.url).path, response.content))

    def fetch(self, cursor: str | None) -> Batch:
        state, out = load_state(cursor), Mapped()
        me = self._account()
        notifications = self._get("/api/v1/notifications", lambda: self.api.notifications(
            types=["mention"], min_id=text(state.get("seen")), limit=self.settings.limit))
        mentions = parse(notifications if isinstance(notifications, list) else [])
        out.extend(replace(mentions, posts=[replace(p, direction=TO_AGENCY) for p in mentions.posts]))
        seen = newest_id(text(state.get("seen")), [text(obj(n).get("id")) or "" for n in mentions_of(notifications)])
        own = [replace(p, direction=BY_AGENCY) for p in parse(self._get(
            f"/api/v1/accounts/{me}/statuses", lambda: self.api.account_statuses(me, limit=self.settings.own_posts))
        ).posts]
        replies = {k: v for k, v in obj(state.get("replies")).items() if isinstance(v, int)}
        threads = self._threads(own, replies, out)
        out.posts = [self._local(p) for p in out.posts + own]
        state = {"seen": seen, "replies": {p.post_id: replies[p.post_id] for p in own if p.post_id in replies}}
        more = len(mentions_of(notifications)) >= self.settings.limit
        return out.batch(dump_state(state), more=more, stats={"own_posts": len(own), "threads": threads})

    def _account(self) -> str:
        """The token's account id; its acct must be the one [accounts] mastodon names."""
        if self.me is None:
            account = obj(self._get("/api/v1/accounts/verify_credentials", self.api.account_verify_credentials))
            if not account.get("id"):
                raise CollectorError(f"mastodon {self.host}: verify_credentials sent no account id; check base_url")
            acct, local = str(account.get("acct") or ""), f"{account.get('acct')}@{self.host}"
            if self.acct and self.acct.lower() not in (acct.lower(), local.lower()):
                raise CollectorError(f"mastodon {self.host}: the access token belongs to @{acct}, not to the "
                                     f"@{self.acct} that [accounts] mastodon names; use that account's token")
            self.me = str(account["id"])
        return self.me

    def _threads(self, own: list[Post], replies: dict[str, int], out: Mapped) -> int:
        grown = [p for p in own if p.reply_count > replies.get(p.post_id, 0)][: self.settings.max_threads]
        for post in grown:
            context = parse(self._get(f"/api/v1/statuses/{post.post_id}/context",
                                      partial(self.api.status_context, post.post_id)))
            out.extend(replace(context, posts=[self._directed(p) for p in context.posts]))
            replies[post.post_id] = post.reply_count
        return len(grown)

    def _directed(self, post: Post) -> Post:
        raw = obj(post.raw)
        if text(obj(raw.get("account")).get("id")) == self.me:
            return replace(post, direction=BY_AGENCY)
        to_agency = text(raw.get("in_reply_to_account_id")) == self.me
        return replace(post, direction=TO_AGENCY if to_agency else PUBLIC)

    def _get(self, path: str, call: Callable[[], Any]) -> Any:
        """Call Mastodon.py (retried and translated) and return the decoded body the server sent for `path`."""

        def run() -> Any:
            self._bodies = []
            with translated(self.api, self.settings.base_url):
                call()
            bodies = [body for url, body in self._bodies if url.rstrip("/").endswith(path)]
            try:
                return json.loads(bodies[-1]) if bodies else None
            except ValueError as e:
                raise BadPayload(f"mastodon {self.host}{path}: the body is not JSON ({e})") from e

        return self.call(run)

    def _local(self, post: Post) -> Post:
        prefix = f"{self.host}:"
        return replace(post, post_id=prefix + post.post_id,
                       **{k: prefix + v for k in ("reply_to_id", "repost_of_id", "quote_of_id")
                          if (v := getattr(post, k))})


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(MastodonAccountSettings,
                    lambda name, s, ctx: MastodonAccountCollector(name, s, ctx.accounts.mastodon))
