"""The inbox as the dashboard sees it: its named queries (storage/inbox_queries.py) with the SLAs from settings,
who may see residents' contacts, and each channel's reply limit.

Contacts (author ids: a platform's user id, or a keyed hash of an e-mail address or phone number) are shown only to
roles that work the inbox (those the inbox actions allow); other roles see the items without them. Handles follow
the dashboard's rule for every page (`data.pseudonymise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from dashboard.auth import Session
from dashboard.data import pseudonymise, query, settings
from storage.actions import ACTIONS

OPEN = ["new", "in_progress"]
STATUSES = [*OPEN, "answered", "closed", "no_reply_needed"]
CHANNEL_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon", "reddit": "Reddit", "email": "E-mail",
                 "webform": "Web form", "sms": "SMS", "open311": "311", "facebook": "Facebook",
                 "instagram": "Instagram"}
# the response library's channel for each inbox channel (responses.limits counts the way that channel counts)
REPLY_CHANNEL = {"x": "x", "bluesky": "bluesky", "mastodon": "mastodon", "sms": "sms", "email": "email",
                 "webform": "email", "open311": "web", "reddit": "web", "facebook": "web", "instagram": "web"}
PLAIN_LIMITS = {"reddit": 10_000, "facebook": 8_000, "instagram": 2_200}  # characters, where the library has none


def works_inbox(user: Session) -> bool:
    """Whether the user may act on items (and so see residents' contacts)."""
    return user.role in ACTIONS["inbox_answer"].roles


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def sla_params() -> dict[str, Any]:
    """[inbox] sla_minutes as the queries take it: parallel lists, and the default."""
    sla = settings().inbox.sla_minutes
    named = {k: v for k, v in sla.items() if k != "default"}
    return {"sla_channels": list(named), "sla_minutes": [str(v) for v in named.values()],
            "default_sla": sla.get("default", 1440.0)}


def queue(now: datetime, status: str, channel: str | None, assignee: str | None, user: Session) -> pd.DataFrame:
    found = query("inbox_queue", now=now, status=status, channel=channel, assignee=assignee,
                  limit=settings().inbox.page_size, **sla_params())
    return redact(found, user)


def counts(now: datetime) -> pd.DataFrame:
    return query("inbox_counts", now=now, **sla_params())


def redact(frame: pd.DataFrame, user: Session) -> pd.DataFrame:
    """Items as this user may see them: contacts hidden from roles that do not work the inbox."""
    frame = pseudonymise(frame, user)  # before the contacts go: the pseudonym is of the author id
    if "author_id" in frame and not works_inbox(user):
        frame = frame.assign(author_id=None)
    return frame


def waiting(minutes: float | None) -> str:
    if minutes is None or pd.isna(minutes):
        return ""
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.1f} days"


@dataclass(frozen=True)
class ReplyCheck:
    ok: bool
    summary: str
    max_chars: int | None  # for the text box, where the limit is a plain number of characters


def check_reply(channel: str, text: str) -> ReplyCheck:
    """The reply's length against the channel's limit (responses.limits; plain characters where it has none)."""
    from responses import limits  # the Inbox's reply box only: the Overview imports this module too

    if channel in PLAIN_LIMITS:
        limit = PLAIN_LIMITS[channel]
        return ReplyCheck(len(text) <= limit, f"{channel_name(channel)}: {len(text)} / {limit} characters", limit)
    result = limits.check(REPLY_CHANNEL.get(channel, "web"), text, settings().responses.sms_max_segments)
    return ReplyCheck(result.ok, result.summary.replace(limits.LABELS.get(result.channel, ""), channel_name(channel),
                                                        1), None)


def stats(since: datetime, until: datetime) -> pd.DataFrame:
    """Share answered and median time to answer per channel, for items received in [since, until)."""
    return query("inbox_stats", since=since, until=until)


def overview_panel(now: datetime, days: int = 7) -> None:
    """The Overview's inbox figures: per channel, items received in the last `days`, share answered, median time."""
    import streamlit as st

    found = stats(now - timedelta(days=days), now)
    if found.empty:
        return
    st.subheader(f"Inbox: what residents sent (last {days} days)")
    table = found.assign(channel=found["channel"].map(channel_name),
                         median=found["median_minutes_to_answer"].map(waiting))
    st.dataframe(table[["channel", "items", "open", "answered", "share_answered", "median"]], hide_index=True,
                 width="stretch", column_config={
                     "share_answered": st.column_config.ProgressColumn("share answered", format="percent",
                                                                       min_value=0, max_value=1),
                     "median": st.column_config.TextColumn("median time to answer")})
