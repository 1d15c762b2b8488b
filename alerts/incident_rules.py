"""The grouping rules: when does a new alert belong to an open incident? Pure functions, one per rule.

An alert joins an open incident when one of the incident's alerts
1. names the same claim (`same_claim`),
2. shows one of the same evidence posts (`shared_evidence`),
3. shows near-duplicates of its posts: the same narrative cluster (`same_narrative`, the narrative detector's own
   word-pair similarity threshold),
   (1-3 only while the incident had a signal in the last `incidents.link_hours`), or
4. is on the same watch (its own; else one that most of its posts on a watch are in: for a topic's alert, the
   topic's posts in its window, for others, their evidence posts) or the same topic, with
   overlapping windows (`same_watch`, `same_topic`; a window runs from `incidents.window_minutes` before the
   alert was first seen until it was last seen).
The first rule that holds decides, and among the incidents it finds, the one with the latest signal.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.model import Finding
from alerts.text import pairs, tokens

MIN_PAIRS = 4  # texts with fewer word pairs are too short to call near-duplicates
MIN_SHARED_POSTS = 2  # evidence posts on a watch before an alert without a watch of its own counts as on it


@dataclass(frozen=True)
class Signal:
    """What grouping knows of one alert."""

    alert_id: int
    claim_id: str | None
    topic: str | None
    watches: frozenset[str]
    evidence: frozenset[str]  # "platform\0post_id"
    shingles: tuple[frozenset[int], ...]  # per evidence post, hashed word pairs
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class Member:
    incident_id: int
    signal: Signal


@dataclass(frozen=True)
class Decision:
    incident_id: int
    reason: str  # the rule's name
    detail: str  # the decision in words


@dataclass(frozen=True)
class Limits:
    window: timedelta  # watch / topic: windows overlap
    similarity: float  # same narrative: word-pair Jaccard at least this


def shingles(texts: Sequence[str]) -> tuple[frozenset[int], ...]:
    """Hashed word pairs of each text (a text too short to compare gives an empty set)."""
    found = []
    for text in texts:
        words = pairs(tokens(text))
        found.append(frozenset(zlib.crc32(p.encode()) for p in words) if len(words) >= MIN_PAIRS else frozenset())
    return tuple(found)


def main_watches(f: Finding, evidence_watches: Sequence[Sequence[str]]) -> frozenset[str]:
    """The alert's own watch, and any watch that at least two of its posts (one, if it shows only one), and at least
    half of those on any watch, are in (posts on no watch, such as short replies, do not count either way)."""
    counts = Counter(w for watches in evidence_watches for w in set(watches))
    on_any = sum(1 for watches in evidence_watches if watches)
    enough = min(MIN_SHARED_POSTS, len(evidence_watches))  # an alert showing a single post: that post decides
    shared = {w for w, n in counts.items() if n >= enough and n * 2 >= on_any}
    return frozenset(shared | ({f.watch} if f.watch else set()))


def same_claim(new: Signal, old: Signal, limits: Limits) -> str | None:
    if new.claim_id and new.claim_id == old.claim_id:
        return f"names the same claim {new.claim_id} as alert #{old.alert_id}"
    return None


def shared_evidence(new: Signal, old: Signal, limits: Limits) -> str | None:
    shared = len(new.evidence & old.evidence)
    if shared:
        return f"shows {shared} of the same evidence post{'s' if shared > 1 else ''} as alert #{old.alert_id}"
    return None


def same_narrative(new: Signal, old: Signal, limits: Limits) -> str | None:
    best = max((len(a & b) / len(a | b) for a in new.shingles for b in old.shingles if a and b), default=0.0)
    if best >= limits.similarity:
        return (f"repeats the posts of alert #{old.alert_id} near-verbatim ({best:.0%} of word pairs shared): "
                "the same narrative cluster")
    return None


def overlapping(new: Signal, old: Signal, window: timedelta) -> bool:
    return old.last_seen_at >= new.first_seen_at - window and old.first_seen_at - window <= new.last_seen_at


def same_watch(new: Signal, old: Signal, limits: Limits) -> str | None:
    shared = sorted(new.watches & old.watches)
    if shared and overlapping(new, old, limits.window):
        return f"is on the same watch '{shared[0]}' as alert #{old.alert_id}, in overlapping windows"
    return None


def same_topic(new: Signal, old: Signal, limits: Limits) -> str | None:
    if new.topic and new.topic == old.topic and overlapping(new, old, limits.window):
        return f"is on the same topic '{new.topic}' as alert #{old.alert_id}, in overlapping windows"
    return None


Rule = Callable[[Signal, Signal, Limits], str | None]
RULES: tuple[tuple[str, Rule], ...] = (("same_claim", same_claim), ("shared_evidence", shared_evidence),
                                       ("same_narrative", same_narrative), ("same_watch", same_watch),
                                       ("same_topic", same_topic))


def decide(new: Signal, members: Sequence[Member], limits: Limits) -> Decision | None:
    """The incident the new alert joins, and why; None when it starts its own. `members` come latest incident
    first, so the first hit of a rule is the incident with the latest signal."""
    for name, rule in RULES:
        for member in members:
            if member.signal.alert_id == new.alert_id:
                continue
            detail = rule(new, member.signal, limits)
            if detail:
                return Decision(member.incident_id, name, detail)
    return None
