"""Helpers the pure mappers share: a result that carries posts, warnings, quarantine and deletions.

Every source module exposes `to_posts(payload) -> list[Post]` (the pure entry point tests and fuzzers call)
and a `parse(payload) -> Mapped` that also reports what was not a post. Missing or odd fields become counted
warnings; an item that cannot become a post at all is quarantined with its reason; nothing here raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from collectors.base import Batch, Claim, Post, Quarantined
from collectors.replay import parse_time

MAPPING_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError)


@dataclass(slots=True)
class Mapped:
    posts: list[Post] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)

    def extend(self, other: Mapped) -> Mapped:
        self.posts += other.posts
        self.warnings += other.warnings
        self.quarantined += other.quarantined
        self.deleted += other.deleted
        self.claims += other.claims
        return self

    def batch(self, next_cursor: str | None, more: bool = False, stats: dict[str, Any] | None = None) -> Batch:
        return Batch(posts=self.posts, next_cursor=next_cursor, more=more, warnings=self.warnings,
                     quarantined=self.quarantined, deleted=self.deleted, claims=self.claims, stats=stats or {})


def each(items: Iterable[Any], fn: Callable[[Any, Mapped], None], where: str, out: Mapped) -> Mapped:
    """Apply `fn(item, out)` to every item; an item that breaks it is quarantined, the rest are kept."""
    for item in items:
        try:
            fn(item, out)
        except MAPPING_ERRORS as e:
            out.quarantined.append(Quarantined(reason=f"{where}: {type(e).__name__}: {e}", raw=item))
    return out


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    return str(value)


def when(value: Any) -> datetime | None:
    """A time the platform sent (ISO 8601, RFC 2822, epoch), or None when it is missing or unreadable."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and value[10:11] == "T":
        try:  # the common ISO 8601 case, ~50x faster than the general parser (it matters on the firehose)
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is UTC:
                return moment
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except ValueError:
            pass
    try:
        return parse_time(value)
    except (ValueError, TypeError, OverflowError):
        return None


def from_micros(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value / 1_000_000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def page_state(state: dict[str, Any], newest: str | None, token: str | None) -> dict[str, Any]:
    """Newest-first pages read down to a `since` marker (X recent search, Bluesky searchPosts).

    The marker moves to the newest item of the first page only after the last page is read, so a crash half-way
    re-reads those pages (upserts make that harmless) instead of skipping what lay between them.
    """
    pending = state.get("newest") if state.get("token") else newest
    if token:
        return {"since": state.get("since"), "token": token, "newest": pending}
    return {"since": pending or state.get("since"), "token": None, "newest": None}


def load_state(cursor: str | None) -> dict[str, Any]:
    """A source's cursor is a JSON object it defines; anything else (older formats, damage) starts afresh."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def dump_state(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)


def decode_json(body: bytes | str, where: str, out: Mapped) -> Any:
    """The decoded body, or None with the body quarantined when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError as e:
        raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        out.quarantined.append(Quarantined(reason=f"{where}: body is not JSON ({e})", raw=raw[:100_000]))
        return None
