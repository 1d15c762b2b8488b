"""X API errors, translated into the collector error tree with what to do about each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import requests
import tweepy

from collectors.base import AuthFailed, CollectorError, RateLimited, SourceUnavailable
from collectors.http import retry_after

T = TypeVar("T")
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
        f"{stats['month']}, ${stats['spend_usd']:.2f} of the ${stats['cap_usd']:.2f} cap. Collection from X is "
        f"stopped until {following} (UTC); raise sources.{name}.monthly_cap_usd to continue sooner.")
