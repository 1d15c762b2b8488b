"""Reddit: new submissions and comments of configured subreddits, and searches, through praw (app-only OAuth).

praw authenticates (client credentials), paces requests by Reddit's `x-ratelimit-*` headers and returns the
listing JSON exactly as Reddit sends it (`reddit.request`), which the pure mapper turns into posts. Each feed
(`/r/SUB/new`, `/r/SUB/comments`, a search) keeps its own cursor: the newest `created_utc` read and the
fullnames at that second, so overlapping pages never store a post twice. A submission or comment Reddit
reports as `[deleted]` / `[removed]` is deleted here too. Retries live in BaseCollector, not in prawcore.

New Reddit API apps must be approved by Reddit before their credentials work: an auth failure says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import praw
import prawcore
from prawcore.sessions import FiniteRetryStrategy
from pydantic import Field

from collectors.base import (
    AuthFailed,
    BaseCollector,
    Batch,
    CollectorError,
    Post,
    Quarantined,
    RateLimited,
    SourceUnavailable,
    count,
)
from collectors.http import retry_after
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, dump_state, each, from_micros, load_state, obj, seq, text
from core.settings_base import SecretRef, SourceSettings

PLATFORM = "reddit"
DEFAULT_API = "https://oauth.reddit.com"
GONE = ("[deleted]", "[removed]")
APPROVAL = ("Reddit rejected the app's credentials. New Reddit API apps must be approved by Reddit before they can "
            "authenticate (request access under Reddit's Responsible Builder Policy and wait for approval); once "
            "approved, check that the client id and secret (the variables client_id / client_secret name) match "
            "the app at reddit.com/prefs/apps.")


class RedditSettings(SourceSettings):
    kind: Literal["reddit"] = "reddit"
    every_seconds: float = Field(120.0, gt=0)
    base_url: str = DEFAULT_API
    auth_url: str = ""  # token endpoint root; empty: www.reddit.com for the real API, else base_url
    client_id: SecretRef = SecretRef(env="REDDIT_CLIENT_ID")
    client_secret: SecretRef = SecretRef(env="REDDIT_CLIENT_SECRET")
    user_agent: str = "server:civicradar:v0.1 (by /u/CHANGE_ME)"
    subreddits: tuple[str, ...] = ()
    comments: bool = True
    searches: tuple[str, ...] = ()
    search_subreddit: str = "all"
    limit: int = Field(100, gt=0, le=100)
    max_pages: int = Field(5, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)


def _thing(child: Any, out: Mapped) -> None:
    kind, data = obj(child).get("kind"), obj(obj(child).get("data"))
    if kind not in ("t1", "t3", "t4"):
        return  # "more" stubs, subreddits, users: not posts (t4: a private message, in an account's inbox)
    name, created = text(data.get("name")), from_micros(_micros(data.get("created_utc")))
    if name is None or created is None:
        raise ValueError(f"{kind} without name or created_utc")
    parts = (data.get("subject"), data.get("body")) if kind == "t4" else (data.get("title"), data.get("selftext"))
    body = data.get("body") if kind == "t1" else "\n\n".join(str(p) for p in parts if p)
    if data.get("author") in GONE and (body in GONE or data.get("selftext") in GONE):
        out.deleted.append((PLATFORM, name))
        return
    if not body:
        out.warnings.append(f"reddit {name}: no text")
    out.posts.append(Post(
        platform=PLATFORM, post_id=name, text=str(body or ""), created_at=created,
        url=f"https://www.reddit.com{link}" if (link := data.get("permalink") or data.get("context")) else text(
            data.get("url")),
        author_id=text(data.get("author_fullname")), author_handle=text(data.get("author")),
        like_count=count(data.get("score")), reply_count=count(data.get("num_comments")),
        reply_to_id=text(data.get("parent_id")) if kind != "t3" else None,
        repost_of_id=text(data.get("crosspost_parent")), raw=child))


def _micros(value: Any) -> float | None:
    return value * 1_000_000 if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse(payload: Any) -> Mapped:
    """A listing body (`{"kind": "Listing", "data": {"children": [...], "after": ...}}`) or a list of them."""
    out = Mapped()
    listings = payload if isinstance(payload, list) else [payload]
    for listing in listings:
        each(seq(obj(obj(listing).get("data")).get("children")), _thing, "reddit listing item", out)
    return out


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


@dataclass(frozen=True)
class _NoRetry(FiniteRetryStrategy):
    """prawcore's own retries sleep outside our control; BaseCollector.call retries instead."""

    retries: int = 0

    def _sleep_seconds(self) -> float | None:
        return None


def without_retries(reddit: praw.Reddit) -> None:
    """BaseCollector.call retries (with its backoff and rate-limit waits), so prawcore's own retries are off.
    (praw's types declare its cores None; they are set by the time the client is built.)"""
    for core in (reddit._core, reddit._read_only_core):
        if core is not None:
            core._retry_strategy_class = _NoRetry


class RedditCollector(BaseCollector):
    kind = "reddit"

    def __init__(self, name: str, settings: RedditSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings = settings
        auth_url = settings.auth_url or ("https://www.reddit.com" if settings.base_url == DEFAULT_API
                                         else settings.base_url)
        self.reddit = praw.Reddit(
            client_id=settings.client_id.get(f"sources.{name}.client_id"),
            client_secret=settings.client_secret.get(f"sources.{name}.client_secret"),
            user_agent=settings.user_agent, oauth_url=settings.base_url.rstrip("/"), reddit_url=auth_url.rstrip("/"),
            timeout=int(settings.timeout_seconds), check_for_updates=False, check_for_async=False)
        without_retries(self.reddit)
        s = settings
        self.feeds: list[tuple[str, dict[str, str]]] = [(f"/r/{sub}/new", {}) for sub in s.subreddits]
        self.feeds += [(f"/r/{sub}/comments", {}) for sub in s.subreddits if s.comments]
        restrict = "0" if s.search_subreddit == "all" else "1"
        self.feeds += [(f"/r/{s.search_subreddit}/search", {"q": q, "sort": "new", "type": "link",
                                                             "restrict_sr": restrict}) for q in s.searches]

    def fetch(self, cursor: str | None) -> Batch:
        state, out = load_state(cursor), Mapped()
        for path, params in self.feeds:
            key = path + (f"?q={params['q']}" if "q" in params else "")
            try:
                state[key] = self._feed(path, params, obj(state.get(key)), out)
            except CollectorError as e:
                if len(self.feeds) == 1 or isinstance(e, AuthFailed):
                    raise
                out.warnings.append(str(e))
        return out.batch(dump_state(state), stats={"feeds": len(self.feeds)})

    def _feed(self, path: str, params: dict[str, str], known: dict[str, Any], out: Mapped) -> dict[str, Any]:
        since, seen, after, fresh = float(known.get("created", 0)), set(known.get("ids", [])), None, []
        for page in range(self.settings.max_pages):
            body = self.call(partial(self._get, path, {**params, "limit": self.settings.limit, "after": after}))
            if isinstance(body, Quarantined):
                out.quarantined.append(body)
                break
            mapped = parse(body)
            new = [p for p in mapped.posts if p.created_at.timestamp() >= since and p.post_id not in seen]
            fresh += new
            out.extend(Mapped(new, mapped.warnings, mapped.quarantined, mapped.deleted))
            after = text(obj(obj(body).get("data")).get("after"))
            if not known or not after or len(new) < len(mapped.posts):
                break
            if page == self.settings.max_pages - 1:
                out.warnings.append(f"reddit {path}: more than {page + 1} pages since the last run; older ones "
                                    "were skipped (run this source more often)")
        return _advance(known, fresh)

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            return self.reddit.request(method="GET", path=path, params={k: v for k, v in params.items() if v})
        except prawcore.exceptions.BadJSON as e:
            return Quarantined(reason=f"reddit {path}: body is not JSON", raw=e.response.text[:100_000])
        except prawcore.exceptions.PrawcoreException as e:
            raise _error(e, path) from e


def _advance(known: dict[str, Any], fresh: list[Post]) -> dict[str, Any]:
    if not fresh:
        return known
    newest = max(p.created_at.timestamp() for p in fresh)
    same = {p.post_id for p in fresh if p.created_at.timestamp() == newest}
    if newest == float(known.get("created", 0)):
        same |= set(known.get("ids", []))
    return {"created": newest, "ids": sorted(same)}


def _error(error: prawcore.exceptions.PrawcoreException, path: str) -> CollectorError:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", 0)
    if isinstance(error, prawcore.exceptions.OAuthException) or status == 401:
        return AuthFailed(f"reddit {path}: {APPROVAL} ({error})")
    if status == 403:
        return AuthFailed(f"reddit {path}: forbidden (403): the subreddit is private, quarantined or banned, or "
                          f"the app lacks access. {APPROVAL}")
    if status == 429:
        return RateLimited(f"reddit {path}: rate limited (429); waiting for the reset Reddit gave",
                           retry_after(dict(response.headers)) if response is not None else None)
    if isinstance(error, prawcore.exceptions.RequestException) or status >= 500:
        return SourceUnavailable(f"reddit {path}: unavailable ({error}); retrying with backoff")
    return CollectorError(f"reddit {path}: {error} (does the subreddit exist? check sources settings)")


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(RedditSettings, lambda name, s, ctx: RedditCollector(name, s))
