"""The collector contract: the `Post` record, `Batch`, the error tree, and retries in one place.

A collector is stateless: storage owns its cursor. `fetch(cursor)` returns one `Batch` (posts plus the
cursor to resume from); the engine writes posts and cursor in one transaction, so a crash between two
batches never loses or duplicates a post.

Errors (translated at this boundary into run records and messages that say what to do)::

    CollectorError            anything a source can do wrong
    ├── RateLimited           the platform asked us to wait (carries `retry_after` seconds)
    ├── AuthFailed            credentials rejected, app not approved, tier lacks the endpoint
    ├── SourceUnavailable     timeouts, connection errors, 5xx: retried with bounded backoff
    └── BadPayload            the body could not be understood at all
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

import orjson
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class CollectorError(Exception):
    """A source failed; the message says what happened and what to do."""


class RateLimited(CollectorError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthFailed(CollectorError):
    pass


class SourceUnavailable(CollectorError):
    pass


class BadPayload(CollectorError):
    pass


# A post's direction: addressed to the agency (replies, mentions and quotes of its accounts; every e-mail, web form,
# SMS, 311 request and Page comment or message), the agency's own, or public talk (the default).
TO_AGENCY, BY_AGENCY, PUBLIC = "to_agency", "by_agency", "public"
DIRECTIONS = (TO_AGENCY, BY_AGENCY, PUBLIC)
# Platforms whose every post is a resident writing to the agency (tips, texts, 311 requests, Page comments).
INBOUND_PLATFORMS = frozenset({"email", "webform", "sms", "open311", "facebook", "instagram"})


@dataclass(frozen=True, slots=True)
class Post:
    """One public post, normalised. `raw` is the payload exactly as received (kept beside the columns)."""

    platform: str
    post_id: str
    text: str
    created_at: datetime
    url: str | None = None
    author_id: str | None = None
    author_handle: str | None = None
    lang: str | None = None
    watches: tuple[str, ...] = ()
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    reply_to_id: str | None = None
    repost_of_id: str | None = None
    quote_of_id: str | None = None
    raw: Any = None
    direction: str = "public"  # to_agency | by_agency | public (see DIRECTIONS)

    def raw_json(self) -> str | None:
        return None if self.raw is None else to_json(self.raw)


@dataclass(frozen=True, slots=True)
class Claim:
    """A checked claim (a fact-check, or an entry of the agency's rumour register) that posts are matched to."""

    claim_id: str
    text: str
    rating: str | None = None  # e.g. "False", "Misleading", "Official fact"
    url: str | None = None
    source: str | None = None  # who checked it
    origin: str = "factcheck"  # factcheck | register | import
    published_at: datetime | None = None
    raw: Any = None


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An item that could not become a post; kept with its reason, never silently dropped."""

    reason: str
    raw: Any


@dataclass(slots=True)
class Batch:
    posts: list[Post]
    next_cursor: str | None
    more: bool = False  # another page is ready now; the engine fetches it in the same run
    warnings: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (platform, post_id) removed upstream
    claims: list[Claim] = field(default_factory=list)  # fact-check sources fill the claims table
    stats: dict[str, Any] = field(default_factory=dict)  # shown with the run, e.g. {"reads": 100, "spend_usd": 0.5}


class Collector(Protocol):
    name: str  # the source's name in settings.toml ([sources.NAME])

    def fetch(self, cursor: str | None) -> Batch: ...


@dataclass(frozen=True, slots=True)
class Watch:
    """A named set of terms the agency monitors; matched case-insensitively on word boundaries."""

    name: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    def terms(self) -> tuple[str, ...]:
        tags = tuple("#" + h.lstrip("#") for h in self.hashtags)
        return self.keywords + tags + self.places


class WatchMatcher:
    """Assigns watch names to posts whose text or author matches; one compiled regex per watch."""

    def __init__(self, watches: Sequence[Watch]) -> None:
        self._rules: list[tuple[str, re.Pattern[str] | None, frozenset[str]]] = []
        for w in watches:
            terms = [re.escape(t) for t in w.terms() if t]
            pattern = re.compile(r"(?<!\w)(?:" + "|".join(terms) + r")(?!\w)", re.I) if terms else None
            accounts = frozenset(a.lstrip("@").lower() for a in w.accounts)
            self._rules.append((w.name, pattern, accounts))

    def match(self, text: str, author_handle: str | None = None) -> tuple[str, ...]:
        handle = (author_handle or "").lstrip("@").lower()
        return tuple(
            name
            for name, pattern, accounts in self._rules
            if (pattern is not None and pattern.search(text)) or (handle and handle in accounts)
        )


def to_json(value: Any) -> str:
    """JSON text of a raw payload; orjson for speed, the standard library for what orjson refuses (huge ints)."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # ASCII escapes also carry lone surrogates safely
        return json.dumps(value, ensure_ascii=True, default=str)


INT64_MAX = 2**63 - 1  # engagement counts are BIGINT columns


def count(value: Any) -> int:
    """An engagement count from whatever a platform or file sent: 0 when unreadable, capped at BIGINT."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        number = float(value)
    except ValueError:
        return 0
    return min(int(number), INT64_MAX) if math.isfinite(number) and number > 0 else 0


def scrub(value: str) -> str:
    """Valid UTF-8: lone surrogates (from broken JSON escapes) become U+FFFD; everything else is kept."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def utc(value: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class BaseCollector:
    """Retries, backoff and rate-limit waits live here, once; sources only call and parse.

    `call(fn)` runs `fn`, retrying `SourceUnavailable` with exponential backoff and jitter, and waiting out
    `RateLimited` for as long as the platform asks (up to `max_rate_limit_wait`). Anything else propagates.
    """

    kind: ClassVar[str] = ""
    attempts: int = 4
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    max_rate_limit_wait: float = 900.0

    def __init__(self, name: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self._sleep = sleep
        self.rate_limit_waits = 0
        self.rate_limit_seconds = 0.0

    def call(self, fn: Callable[[], T]) -> T:
        retrying = Retrying(
            retry=retry_if_exception_type((SourceUnavailable, RateLimited)),
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(fn)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited):
            wait = min(error.retry_after if error.retry_after is not None else 60.0, self.max_rate_limit_wait)
            self.rate_limit_waits += 1
            self.rate_limit_seconds += wait
            return max(wait, 0.0)
        backoff = wait_exponential_jitter(multiplier=self.backoff_initial, max=self.backoff_max)
        return float(backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s: %s; retrying in %.1fs (attempt %d)", self.name, error, wait, state.attempt_number)


def count_missing(item: dict[str, Any], keys: Iterable[str], warnings: list[str], where: str) -> None:
    """Record a counted warning for each expected key the platform left out (never a crash)."""
    for key in keys:
        if item.get(key) is None:
            warnings.append(f"{where}: missing '{key}'")
