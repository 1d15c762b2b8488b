"""Collectors: one module per source, each mapping the platform's responses to `Post` records."""

from collectors.base import (
    AuthFailed,
    BadPayload,
    Batch,
    Collector,
    CollectorError,
    Post,
    Quarantined,
    RateLimited,
    SourceUnavailable,
    Watch,
    WatchMatcher,
)

__all__ = [
    "AuthFailed",
    "BadPayload",
    "Batch",
    "Collector",
    "CollectorError",
    "Post",
    "Quarantined",
    "RateLimited",
    "SourceUnavailable",
    "Watch",
    "WatchMatcher",
]
