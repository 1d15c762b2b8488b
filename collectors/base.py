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

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from core.errors import CivicRadarError
from core.records import BY_AGENCY as BY_AGENCY
from core.records import DIRECTIONS as DIRECTIONS
from core.records import INBOUND_PLATFORMS as INBOUND_PLATFORMS
from core.records import INT64_MAX as INT64_MAX
from core.records import PUBLIC as PUBLIC
from core.records import TO_AGENCY as TO_AGENCY
from core.records import Batch as Batch
from core.records import Claim as Claim
from core.records import Post as Post
from core.records import Quarantined as Quarantined
from core.records import count as count
from core.records import scrub as scrub
from core.records import to_json as to_json
from core.times import utc as utc

log = logging.getLogger(__name__)
T = TypeVar("T")


class CollectorError(CivicRadarError):
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
