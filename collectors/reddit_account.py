"""The agency's own Reddit account through praw: its inbox and username mentions, and its own posts and comments.

`kind = "reddit_account"` signs in as `[accounts] reddit` (a "script" app: the app's client id and secret, and the
account's password) and reads, newest first down to what the last run read (per feed, as the `reddit` source):

- `/message/inbox` (replies to its posts and comments, private messages) and `/message/mentions` (u/ mentions):
  addressed to the agency (`to_agency`);
- `/user/NAME/submitted` and `/user/NAME/comments`: its own posts and comments (`by_agency`). A comment of its that
  replies to an inbox item answers it.

Retries, rate limits, paging and the per-feed cursor are the `reddit` source's (`RedditCollector`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

import praw
from pydantic import Field

from collectors.base import BY_AGENCY, TO_AGENCY, AuthFailed, BaseCollector, Batch, CollectorError
from collectors.kinds import SourceKind
from collectors.reddit import DEFAULT_API, RedditCollector, parse, to_posts, without_retries  # noqa: F401  # pure mappers
from core.settings_base import SecretRef, SourceSettings

INBOX = ("/message/inbox", "/message/mentions")


class RedditAccountSettings(SourceSettings):
    kind: Literal["reddit_account"] = "reddit_account"
    every_seconds: float = Field(120.0, gt=0)
    base_url: str = DEFAULT_API
    auth_url: str = ""  # token endpoint root; empty: www.reddit.com for the real API, else base_url
    client_id: SecretRef = SecretRef(env="REDDIT_CLIENT_ID")
    client_secret: SecretRef = SecretRef(env="REDDIT_CLIENT_SECRET")
    password: SecretRef = SecretRef(env="REDDIT_PASSWORD")
    user_agent: str = "server:civicradar:v0.1 (by /u/CHANGE_ME)"
    limit: int = Field(100, gt=0, le=100)
    max_pages: int = Field(5, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)


class RedditAccountCollector(RedditCollector):
    kind = "reddit_account"

    def __init__(self, name: str, settings: RedditAccountSettings, username: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        BaseCollector.__init__(self, name, sleep)  # RedditCollector's own set-up signs in app-only
        self.settings = settings  # type: ignore[assignment]  # the fields RedditCollector's paging reads
        self.username = username.removeprefix("u/").lstrip("/")
        if not self.username:
            raise CollectorError(f"[accounts] reddit is not set: give the agency's Reddit username (sources.{name} "
                                 "signs in as that account)")
        auth_url = settings.auth_url or ("https://www.reddit.com" if settings.base_url == DEFAULT_API
                                         else settings.base_url)
        self.reddit = praw.Reddit(
            client_id=settings.client_id.get(f"sources.{name}.client_id"),
            client_secret=settings.client_secret.get(f"sources.{name}.client_secret"),
            username=self.username, password=settings.password.get(f"sources.{name}.password"),
            user_agent=settings.user_agent, oauth_url=settings.base_url.rstrip("/"), reddit_url=auth_url.rstrip("/"),
            timeout=int(settings.timeout_seconds), check_for_updates=False, check_for_async=False)
        without_retries(self.reddit)
        own = (f"/user/{self.username}/submitted", f"/user/{self.username}/comments")
        self.feeds = [(path, {}) for path in (*INBOX, *own)]

    def fetch(self, cursor: str | None) -> Batch:
        try:
            batch = super().fetch(cursor)
        except AuthFailed as e:
            variable = self.settings.password.env  # type: ignore[attr-defined]
            raise AuthFailed(f"{e} Signing in as u/{self.username} also needs the account's own password: check "
                             f"the password {variable} holds (and that the app is a \"script\" app).") from e
        me = self.username.lower()
        batch.posts = [replace(p, direction=BY_AGENCY if (p.author_handle or "").lower() == me else TO_AGENCY)
                       for p in batch.posts]
        return batch


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(RedditAccountSettings, lambda name, s, ctx: RedditAccountCollector(name, s, ctx.accounts.reddit))
