"""Suggestions for one incident, from the incidents area's `incident_detail` row: no Streamlit, no SQL, so the
dashboard's panel, the digest or a test can all use it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from responses import fill, rank
from responses.model import Entry, IncidentContext, Suggestion
from settings import Settings

MAX_POSTS = 60  # evidence posts compared with the library (the newest ones; enough for a stable share)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None or isinstance(value, float | str):  # NULL arrives as None or NaN
        return ()
    return tuple(str(v) for v in value)


def context_of(detail: Mapping[str, Any], s: Settings) -> IncidentContext:
    """What ranking needs of an incident: its claims, topics, watches, newest evidence and the place they name."""
    evidence = _strings(detail.get("evidence_texts"))[-MAX_POSTS:]
    places = [p for w in s.watches for p in w.places]
    return IncidentContext(_strings(detail.get("claim_ids")), _strings(detail.get("topics")),
                           _strings(detail.get("watches")), evidence,
                           fill.place_for(evidence, places, s.responses.default_place))


def for_incident(detail: Mapping[str, Any], entries: Sequence[Entry], s: Settings,
                 similarity: rank.Similarity = rank.bm25_scores) -> list[Suggestion]:
    """The approved entries that fit the incident, best first (at most `[responses] suggestions`)."""
    return rank.rank(entries, context_of(detail, s), s.responses.min_similarity, s.responses.suggestions, similarity)
