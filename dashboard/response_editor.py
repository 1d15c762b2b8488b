"""The Responses page's editor: messages per language and channel with live limit checks (SMS segments shown),
links, linked claims, topics and watches, the review-by date; save a draft, approve it (leads and admins), retire.

Limits are checked on the text as it would go out: {agency} from the settings, {link} the first link, {date} the
longest date the format can print, {place} the default place. Every action goes through `dashboard.data.act`,
which checks the role in this server process; approving is its own capability (`approve_responses`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.auth import Session
from dashboard.data import act, flash, info, query, settings
from responses import fill, limits
from responses.model import CHANNELS, Entry

LANGS_KEY = "rsp-langs"


def _values(links: list[str]) -> fill.Values:
    s = settings()
    return fill.values_for(s.agency, links, fill.LONGEST_DATE, s.responses.default_place, s.responses.date_format)


def checks(messages: Mapping[str, Mapping[str, str]], links: list[str]) -> list[str]:
    """Every problem that blocks approval: a channel over its limit, an unknown placeholder, a missing value."""
    values, problems = _values(links), []
    for lang, channels in messages.items():
        for channel, text in channels.items():
            check = limits.check(channel, fill.fill(text, values), settings().responses.sms_max_segments)
            if not check.ok:
                problems.append(f"{lang} {check.summary}")
            problems += [f"{lang} {limits.LABELS[channel]}: unknown placeholder {{{name}}}"
                         for name in fill.unknown(text)]
    return problems


def _check_caption(channel: str, text: str, links: list[str]) -> None:
    if not text.strip():
        return
    values = _values(links)
    check = limits.check(channel, fill.fill(text, values), settings().responses.sms_max_segments)
    notes = [f"unknown placeholder {{{n}}}" for n in fill.unknown(text)]
    notes += [f"{{{n}}} has no value here" for n in fill.missing(text, values)]
    line = check.summary + (f" · {'; '.join(notes)}" if notes else "")
    if check.ok and not notes:
        st.caption(f":material/check_circle: {line}")
    else:
        st.caption(f":red[:material/error: {line}]")


def _languages(key: str, current: Entry | None) -> list[str]:
    langs = st.session_state.setdefault(f"{LANGS_KEY}:{key}", current.languages if current else ["en"])
    add, button = st.columns([3, 1], vertical_alignment="bottom")
    new = add.text_input("Add a language (code, e.g. es, vi, zh-Hant)", key=f"rsp-newlang:{key}")
    if button.button("Add language", key=f"rsp-addlang:{key}") and new.strip() and new.strip() not in langs:
        langs.append(new.strip())
    return list(langs)


def _messages(key: str, current: Entry | None, links: list[str], disabled: bool) -> dict[str, dict[str, str]]:
    langs = _languages(key, current) if not disabled else (current.languages if current else ["en"])
    found: dict[str, dict[str, str]] = {}
    for lang, tab in zip(langs, st.tabs(langs), strict=True):
        with tab:
            for channel in CHANNELS:
                old = current.messages.get(lang, {}).get(channel, "") if current else ""
                tall = channel in ("email", "web")
                text = st.text_area(f"{limits.LABELS[channel]} ({lang})", old, key=f"rsp:{key}:{lang}:{channel}",
                                    height=200 if tall else 100, disabled=disabled)
                _check_caption(channel, text, links)
                if text.strip():
                    found.setdefault(lang, {})[channel] = text
    return found


def _claim_options() -> list[str]:
    claims = query("claims_list")
    return [] if claims.empty else claims["claim_id"].tolist()


def _fields(key: str, current: Entry | None, disabled: bool) -> dict[str, Any]:
    s, known = settings(), info()
    title = st.text_input("Title", current.title if current else "", key=f"rsp-title:{key}", disabled=disabled)
    links_text = st.text_area("Links, one per line (the first fills {link})", "\n".join(current.links) if current
                              else "", key=f"rsp-links:{key}", height=68, disabled=disabled)
    a, b, c = st.columns(3)
    claims = a.multiselect("Answers claims (rumour register ids)", sorted({*_claim_options(),
                           *(current.claim_ids if current else ())}), list(current.claim_ids) if current else [],
                           key=f"rsp-claims:{key}", disabled=disabled)
    topics = b.multiselect("Topics", sorted({*known.get("topics", []), *(current.topics if current else ())}),
                           list(current.topics) if current else [], key=f"rsp-topics:{key}", disabled=disabled)
    watches = c.multiselect("Watches", sorted({*known.get("watches", []), *(current.watches if current else ())}),
                            list(current.watches) if current else [], key=f"rsp-watches:{key}", disabled=disabled)
    default_review = (current.review_by if current and current.review_by
                      else date.today() + timedelta(days=s.responses.review_days))
    review_by = st.date_input("Review by (after this day the entry is flagged stale)", default_review,
                              key=f"rsp-review:{key}", disabled=disabled)
    links = [line.strip() for line in links_text.splitlines() if line.strip()]
    return {"title": title, "links": links, "claim_ids": claims, "topics": topics, "watches": watches,
            "review_by": str(review_by) if review_by else None}


def editor(user: Session, current: Entry | None, row: pd.Series | None) -> None:
    """The form for a new entry (`current` None) or the latest version of one, with save / approve / retire."""
    key = f"{current.response_id}:{current.version}" if current else "new"
    may_edit = user.can("draft_responses")
    if not may_edit:
        st.caption(f"Your role ({user.role}) can read the library; comms staff, leads and admins edit it.")
    fields = _fields(key, current, not may_edit)
    messages = _messages(key, current, fields["links"], not may_edit)
    if not may_edit:
        return
    note = st.text_input("What changed (kept in the history)", key=f"rsp-note:{key}")
    if st.button("Save as draft" if current else "Create draft", type="primary", key=f"rsp-save:{key}"):
        done = act("response_save", response_id=current.response_id if current else None,
                   base_version=current.version if current else None, messages=json.dumps(messages),
                   note=note or None, **fields)
        if done:
            flash(f"Saved {done['response_id']} version {done['version']} as a draft; a lead or admin approves it.")
    if current is not None and row is not None:
        _approve(user, current, row, messages, fields["links"])
        _retire(current, row)


def _approve(user: Session, current: Entry, row: pd.Series, messages: dict[str, dict[str, str]],
             links: list[str]) -> None:
    if row["status"] != "draft":
        return
    if not user.can("approve_responses"):
        st.caption(f"Version {current.version} waits for approval by a lead or an admin.")
        return
    problems = checks(current.messages, list(current.links))
    if messages != {lang: dict(ch) for lang, ch in current.messages.items()}:
        problems.append("you have unsaved changes: save them as a draft first (approval covers the saved text)")
    for problem in problems:
        st.warning(problem, icon=":material/block:")
    if st.button(f"Approve version {current.version}", disabled=bool(problems), key=f"rsp-approve:{current.version}",
                 icon=":material/verified:"):
        done = act("response_approve", response_id=current.response_id, version=current.version)
        if done:
            flash(f"Approved {current.response_id} version {current.version}: it is now suggested for incidents.")


def _retire(current: Entry, row: pd.Series) -> None:
    if row["status"] == "retired":
        return
    with st.expander("Retire this response"):
        reason = st.text_input("Why (kept in the history)", key=f"rsp-retire-why:{current.response_id}")
        if st.button("Retire", key=f"rsp-retire:{current.response_id}", icon=":material/archive:"):
            done = act("response_retire", response_id=current.response_id, note=reason)
            if done:
                flash(f"Retired {current.response_id}: it is no longer suggested.")
