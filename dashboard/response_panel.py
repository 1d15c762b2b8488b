"""Suggested responses for one incident: the approved library entries that fit it, best first, with their
placeholders filled, ready to copy per channel and language, and "record as posted" (the incidents area's
`incident_record_response` action).

The Incidents page calls `show_suggestions(incident_id)`; any page may. Ranking (responses.rank) puts entries
linked to the incident's claims first, then those most of its posts resemble (the shared sentence encoder, loaded
once per dashboard process; BM25 if it cannot be).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import streamlit as st

from dashboard import posting_view
from dashboard.data import act, flash, query, session, settings
from responses import fill, limits, rank, suggest
from responses.model import Entry, IncidentContext, Suggestion, entries_from_rows
from responses.similarity import best_available
from storage.actions import ACTIONS


@st.cache_resource(show_spinner="Loading the sentence encoder ...")
def _similarity() -> tuple[rank.Similarity, str]:
    return best_available()


@st.cache_data(ttl=120, show_spinner=False, max_entries=200)
def _ranked(rows: list[dict[str, Any]], context: IncidentContext, min_similarity: float, limit: int
            ) -> list[Suggestion]:
    similarity, _ = _similarity()
    return rank.rank(entries_from_rows(rows), context, min_similarity, limit, similarity)


def suggestions(context: IncidentContext) -> list[Suggestion]:
    s = settings().responses
    rows = query("responses_live").to_dict("records")
    return _ranked(rows, context, s.min_similarity, s.suggestions) if rows else []


def show_suggestions(incident_id: int, context: IncidentContext | None = None) -> None:
    """The panel. `context` overrides what `incident_detail` says of the incident (for pages that know better)."""
    if context is None:
        detail = query("incident_detail", incident_id=incident_id)
        if detail.empty:
            st.info(f"No incident #{incident_id}.")
            return
        context = suggest.context_of(detail.iloc[0].to_dict(), settings())
    found = suggestions(context)
    _, method = _similarity()
    if not found:
        st.info("No approved response fits this incident yet. Draft one on the Responses page; a lead approves it.")
        return
    st.caption(f"Approved responses that fit, best first (similarity: {method}).")
    for rank_no, suggestion in enumerate(found, 1):
        with st.expander(f"{rank_no}. {suggestion.entry.title}", expanded=rank_no == 1):
            _one(incident_id, suggestion, context)


def _one(incident_id: int, suggestion: Suggestion, context: IncidentContext) -> None:
    entry, s = suggestion.entry, settings()
    st.caption(f"{entry.response_id} version {entry.version} · {suggestion.reason}")
    today = datetime.now(UTC).astimezone(s.zone).date()
    if entry.stale(today):
        st.warning(f"Past its review-by date ({entry.review_by}): check it is still right before posting.",
                   icon=":material/history:")
    values = fill.values_for(s.agency, entry.links, today, context.place, s.responses.date_format)
    lang = entry.languages[0] if len(entry.languages) == 1 else st.segmented_control(
        "Language", entry.languages, default="en" if "en" in entry.languages else entry.languages[0],
        key=f"rsp-lang:{incident_id}:{entry.response_id}") or entry.languages[0]
    channels = [c for c in limits.CHANNELS if c in entry.messages.get(lang, {})]
    for channel, tab in zip(channels, st.tabs([limits.LABELS[c] for c in channels]), strict=True):
        with tab:
            text = fill.fill(entry.messages[lang][channel], values)
            st.code(text, language=None, wrap_lines=True)  # the copy button is on the block
            check = limits.check(channel, text, s.responses.sms_max_segments)
            st.caption(check.summary if check.ok else f":red[{check.summary}]")
            missing = fill.missing(entry.messages[lang][channel], values)
            if missing:
                st.warning("Fill in what is still in braces before posting.", icon=":material/edit:")
            posting_view.offer(incident_id, entry.response_id, entry.version, lang, channel, text,
                               check.ok and not missing)  # off unless [posting] is on
    _record(incident_id, entry, channels)


def _record(incident_id: int, entry: Entry, channels: list[str]) -> None:
    user = session()
    if not user.can("work_alerts") or "incident_record_response" not in ACTIONS:
        return
    with st.form(f"rsp-posted:{incident_id}:{entry.response_id}", clear_on_submit=True):
        st.markdown("**Record as posted**")
        a, b = st.columns([1, 3])
        options: list[str] = channels or list(limits.CHANNELS)
        channel = a.selectbox("Channel", options, format_func=lambda c: limits.LABELS.get(c, c)) or options[0]
        url = b.text_input("Link to the post (if it has one)")
        c, d, e = st.columns([1, 1, 2])
        day, at = c.date_input("Posted on (UTC)", None), d.time_input("at (UTC)", None, step=60)
        note = e.text_input("Note")
        if st.form_submit_button("Record as posted", icon=":material/task_alt:"):
            posted = datetime.combine(day, at or time(0)).isoformat() if day else None
            done = act("incident_record_response", incident_id=incident_id, response_id=entry.response_id,
                       channel=channel, url=url or None, posted_at=posted, note=note or None)
            if done:
                flash(f"Recorded: {entry.response_id} posted on {limits.LABELS.get(channel, channel)}.")
