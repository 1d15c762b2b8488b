"""The records every package shares: a collected `Post`, a fact-check `Claim`, what a source's page returned
(`Batch`, with its `Quarantined` items), and the small helpers storage and the collectors both use on them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

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
