"""X helpers: queries and stream rules from the watches, the host-rewriting adapter, errors that say what to do."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import requests
import tweepy
from requests.adapters import HTTPAdapter

from collectors.base import AuthFailed, CollectorError, RateLimited, SourceUnavailable, Watch
from collectors.http import retry_after
from core.run_details import CAP_USD, SPEND_USD

T = TypeVar("T")
TWEEPY_HOST = "https://api.twitter.com"
TOKEN = ("X rejected the bearer token (401): check that the variable bearer_token names holds the app's current "
         "Bearer Token (developer console > your app > Keys and tokens)")
ACCESS = ("X refused (403): the app is not attached to a project, or its access does not include this endpoint "
          "(recent search and the filtered stream need pay-per-use credits or a paid tier; legacy Basic has no "
          "filtered stream)")
CREDITS = ("X answered 402 Payment Required: the account's pay-per-use credits are used up; add credits or raise the "
           "spending limit in the developer console, then lower monthly_cap_usd to match")


def _detail(error: tweepy.HTTPException) -> str:
    messages = "; ".join(str(m) for m in error.api_messages) or getattr(error.response, "reason", "")
    return f"X said: {messages}" if messages else "X gave no detail"


def status_error(status: int, what: str, headers: Mapping[str, str] | None, detail: str = "") -> CollectorError:
    if status == 401:
        return AuthFailed(f"{what}: {TOKEN}. {detail}".strip())
    if status == 403:
        return AuthFailed(f"{what}: {ACCESS}. {detail}".strip())
    if status == 402:
        return CollectorError(f"{what}: {CREDITS}. {detail}".strip())
    if status == 429:
        wait = retry_after(headers or {})
        return RateLimited(f"{what}: rate limited (429); waiting until the reset X gave, then continuing. {detail}",
                           retry_after=wait)
    if status >= 500:
        return SourceUnavailable(f"{what}: X server error {status}; retrying with backoff. {detail}".strip())
    return CollectorError(f"{what}: X answered {status}. {detail}".strip())


def translated(fn: Callable[[], T], what: str) -> T:
    """Run a tweepy call; its exceptions (and requests' network errors) become collector errors."""
    try:
        return fn()
    except tweepy.HTTPException as e:
        raise status_error(e.response.status_code, what, e.response.headers, _detail(e)) from e
    except requests.RequestException as e:
        raise SourceUnavailable(f"{what}: cannot reach X ({e}); retrying with backoff") from e


def capped(name: str, stats: dict[str, Any], now: datetime) -> CollectorError:
    following = f"{now.year + now.month // 12}-{now.month % 12 + 1:02d}-01"
    return CollectorError(
        f"X monthly cap reached: {stats['post_reads']} posts and {stats['user_reads']} users read in "
        f"{stats['month']}, ${stats[SPEND_USD]:.2f} of the ${stats[CAP_USD]:.2f} cap. Collection from X is "
        f"stopped until {following} (UTC); raise sources.{name}.monthly_cap_usd to continue sooner.")


def quote(term: str) -> str:
    if term.startswith("#") or term.startswith("from:"):
        return term
    return term if term.isalnum() else '"' + term.replace('"', "") + '"'


def build_queries(terms: Sequence[str], suffix: str, limit: int) -> list[str]:
    """OR-queries of the terms, each at most `limit` characters with the suffix; a term too long alone is left out."""
    queries: list[str] = []
    group: list[str] = []
    for term in dict.fromkeys(quote(t) for t in terms if t.strip()):
        if len(_query([*group, term], suffix)) <= limit:
            group.append(term)
        elif group and len(_query([term], suffix)) <= limit:
            queries.append(_query(group, suffix))
            group = [term]
    return queries + ([_query(group, suffix)] if group else [])


def _query(terms: Sequence[str], suffix: str) -> str:
    return f"({' OR '.join(terms)}) {suffix}".strip() if len(terms) > 1 else f"{terms[0]} {suffix}".strip()


def watch_terms(watch: Watch) -> list[str]:
    return [*watch.terms(), *(f"from:{a.lstrip('@')}" for a in watch.accounts)]


class RewriteAdapter(HTTPAdapter):
    """Sends tweepy's fixed host to `base_url` (a proxy, a gateway, a test server) and adds a timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base, self.timeout = base_url.rstrip("/"), timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if request.url and request.url.startswith(TWEEPY_HOST):
            request.url = self.base + request.url[len(TWEEPY_HOST):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)
