"""Records of the response library as the ranking and the dashboard see them (storage keeps the rows)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.response_kinds import CHANNELS as CHANNELS
from core.response_kinds import STATUSES as STATUSES


@dataclass(frozen=True)
class Entry:
    """One version of a library entry with its messages: `messages[lang][channel] = text`."""

    response_id: str
    title: str
    version: int
    messages: Mapping[str, Mapping[str, str]]
    claim_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    watches: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    review_by: date | None = None
    claim_texts: tuple[str, ...] = ()  # the linked claims' text (ranking reads it)

    def stale(self, today: date) -> bool:
        """Past its review-by date: still usable, but flagged until someone reviews it."""
        return self.review_by is not None and self.review_by < today

    @property
    def languages(self) -> list[str]:
        return sorted(self.messages)

    def text(self) -> str:
        """Everything ranking compares with an incident's posts: title, messages, linked claims."""
        parts = [self.title, *self.claim_texts]
        parts += [t for channels in self.messages.values() for t in channels.values()]
        return "\n".join(parts)


@dataclass(frozen=True)
class IncidentContext:
    """What ranking needs to know of an incident (the incidents area's `incident_detail` query provides it)."""

    claim_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    watches: tuple[str, ...] = ()
    evidence_texts: tuple[str, ...] = ()
    place: str = ""  # where it happens, if known; else the place its posts name most


@dataclass(frozen=True)
class Suggestion:
    entry: Entry
    linked_claims: tuple[str, ...]
    similarity: float  # share of the incident's posts that match this entry best (0-1)
    shared: tuple[str, ...] = field(default=())  # topics and watches in common

    @property
    def reason(self) -> str:
        parts = [f"answers claim {', '.join(self.linked_claims)}"] if self.linked_claims else []
        if self.similarity:
            parts.append(f"{self.similarity:.0%} of the incident's posts match it best")
        if self.shared:
            parts.append(f"same {'/'.join(self.shared)}")
        return "; ".join(parts) or "no direct link"


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and value != value):  # NULL arrives as None or NaN
        return ()
    return tuple(str(v) for v in value)


def _day(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def entries_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Entries from rows of one message each (the `responses_live` / `response_messages` queries)."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        key = (str(row["response_id"]), int(row["version"]))
        entry = found.setdefault(key, {"row": row, "messages": {}})
        if row.get("lang") and row.get("channel"):
            entry["messages"].setdefault(str(row["lang"]), {})[str(row["channel"])] = str(row["text"] or "")
    return [Entry(response_id=rid, title=str(e["row"]["title"]), version=version, messages=e["messages"],
                  claim_ids=_tuple(e["row"].get("claim_ids")), topics=_tuple(e["row"].get("topics")),
                  watches=_tuple(e["row"].get("watches")), links=_tuple(e["row"].get("links")),
                  review_by=_day(e["row"].get("review_by")), claim_texts=_tuple(e["row"].get("claim_texts")))
            for (rid, version), e in found.items()]
