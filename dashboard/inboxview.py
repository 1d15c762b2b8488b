"""One inbox item opened: what the resident sent (shown as text, never rendered), the conversation it is in, the
resident's other contacts, its history, and the workflow: assign, write the reply (from the approved library where
one fits, checked against the channel's limit) and record it as sent, close, reopen, link an incident.

Where `[posting]` allows it, leads and admins send the reply from here (dashboard/inbox_send_view.py: Bluesky,
Mastodon, X, SMS); otherwise staff post it on the platform (or e-mail, or call) and record it here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard import inbox_send_view, inboxing
from dashboard.auth import Session
from dashboard.data import act, flash, query, settings, text
from dashboard.signin import store
from responses import fill
from storage.actions import ACTIONS

STATUS_COLOR = {"new": "red", "in_progress": "orange", "answered": "green", "closed": "gray",
                "no_reply_needed": "gray"}


def show(platform: str, post_id: str, user: Session, now: datetime) -> None:
    found = inboxing.redact(query("inbox_item", platform=platform, post_id=post_id), user)
    if found.empty:
        st.info("This item no longer exists (deleted on the platform, or forgotten).")
        return
    item = found.iloc[0]
    who = text(item["author_handle"]) or (text(item["author_id"]) if inboxing.works_inbox(user) else None)
    st.subheader(f"{inboxing.channel_name(platform)} · {who or 'a resident'} · {item['received_at']:%d %b %H:%M}")
    _badges(item)
    st.text(item["text"])  # residents' text: shown as text, never as markdown or HTML
    if text(item["url"]):
        st.markdown(f"[Open on {inboxing.channel_name(platform)}]({item['url']})")
    if item["status"] == "answered":
        by = f"{item['answered_by']}, {item['answered_at']:%d %b %H:%M}"
        via = {"elsewhere": "recorded as sent elsewhere", "sent": "sent from CivicRadar"}.get(
            item["answer_via"], "replied on the platform")
        st.success(f"Answered by {by} ({via}): {text(item['answer_text']) or ''}", icon=":material/task_alt:")
    _conversation(item)
    if inboxing.works_inbox(user):
        _workflow(item, now)
        _contacts(item)
    st.markdown("**History**")
    st.dataframe(query("inbox_events", platform=platform, post_id=post_id), hide_index=True, width="stretch")


def _badges(item: pd.Series) -> None:
    badges = st.container(horizontal=True)
    badges.badge(item["status"].replace("_", " "), color=STATUS_COLOR.get(item["status"], "gray"),  # type: ignore[arg-type]
                 icon=":material/flag:")
    if text(item["assignee"]):
        badges.badge(f"assigned to {item['assignee']}", color="violet", icon=":material/person:")
    if not pd.isna(item["incident_id"]):
        badges.badge(f"incident #{int(item['incident_id'])}", color="blue", icon=":material/crisis_alert:")


def _conversation(item: pd.Series) -> None:
    thread = query("inbox_thread", platform=item["channel"], post_id=item["post_id"], around=item["received_at"])
    if len(thread) <= 1:
        return
    st.markdown("**Conversation**")
    for row in thread.head(40).itertuples():
        box = st.container(border=bool(row.is_item))
        author = "the agency" if row.direction == "by_agency" else (text(row.author_handle) or "a resident")
        box.caption(f"{'↳ ' * max(int(row.depth), 0)}{author} · {row.created_at:%d %b %H:%M}")
        box.text(row.text)


def _contacts(item: pd.Series) -> None:
    earlier = query("inbox_contacts", platform=item["channel"], post_id=item["post_id"])
    if earlier.empty:
        return
    st.markdown(f"**This resident's other contacts** ({len(earlier)}, every channel)")
    st.dataframe(earlier, hide_index=True, width="stretch",
                 column_config={"received_at": st.column_config.DatetimeColumn("received", format="DD MMM HH:mm")})


def _workflow(item: pd.Series, now: datetime) -> None:
    key, at = {"platform": item["channel"], "post_id": item["post_id"]}, now.isoformat()
    if item["status"] in inboxing.OPEN:
        assign, close, none = st.columns(3)
        with assign.popover("Assign", icon=":material/person_add:"):
            roles = ACTIONS["inbox_assign"].roles
            staff = sorted(u.username for u in store().users().values() if u.role in roles)
            who = st.selectbox("Assign to", staff, key=f"inbox-assignee-{item['post_id']}")
            if st.button("Assign", key=f"inbox-assign-{item['post_id']}") and act("inbox_assign", **key, assignee=who,
                                                                                   at=at):
                flash(f"Assigned to {who}.")
        with close.popover("Close", icon=":material/close:"):
            note = st.text_input("Why (optional)", key=f"inbox-close-note-{item['post_id']}")
            if st.button("Close without an answer", key=f"inbox-close-{item['post_id']}") and act(
                    "inbox_close", **key, status="closed", note=note or None, at=at):
                flash("Closed.")
        if none.button("No reply needed", icon=":material/done_all:") and act("inbox_close", **key,
                                                                              status="no_reply_needed", at=at):
            flash("Marked: no reply needed.")
        _reply(item, key, at)
    elif st.button("Reopen", icon=":material/undo:") and act("inbox_reopen", **key, at=at):
        flash("Reopened.")
    _link(item, key, at)


def _reply(item: pd.Series, key: dict[str, str], at: str) -> None:
    channel, box = item["channel"], f"inbox-reply-{item['post_id']}"
    st.markdown("**Reply**")
    st.caption(inbox_send_view.how(channel))
    response_id = _library(channel, box)
    first = inboxing.check_reply(channel, "")
    reply = st.text_area("Reply", key=box, max_chars=first.max_chars, height=120)
    check = inboxing.check_reply(channel, reply)
    st.caption(check.summary if check.ok else f":red[{check.summary}]")
    inbox_send_view.offer(item, key, reply, bool(reply.strip()) and check.ok, response_id, at)
    url = st.text_input("Link to the reply (optional)", key=f"{box}-url")
    if st.button("Record as sent", type="primary", icon=":material/send:", key=f"{box}-record"):
        if not reply.strip() or not check.ok:
            st.error("Write the reply first." if not reply.strip() else f"Too long for the channel: {check.summary}")
        elif act("inbox_answer", **key, text=reply, url=url or None, response_id=response_id, at=at):
            flash("Recorded as answered.")


def _library(channel: str, box: str) -> str | None:
    """A library response for this channel, chosen to start the reply from (its placeholders filled)."""
    live = query("responses_live")
    wanted = inboxing.REPLY_CHANNEL.get(channel, "web")
    fits = live[live["channel"] == wanted] if not live.empty else live
    if not fits.empty:  # one message per entry: English where it has one
        fits = fits.assign(_en=fits["lang"] != "en").sort_values(["_en", "response_id"]).drop_duplicates("response_id")
    if fits.empty:
        return None
    titles = dict(zip(fits["response_id"], fits["title"], strict=False))
    chosen = st.selectbox("Start from an approved response", [None, *titles], key=f"{box}-library",
                          format_func=lambda r: "(write your own)" if r is None else titles[r])
    if chosen is not None and st.session_state.get(f"{box}-from") != chosen:
        row = fits[fits["response_id"] == chosen].iloc[0]
        s = settings()
        values = fill.values_for(s.agency, list(row["links"]), datetime.now(UTC).date(), s.responses.default_place,
                                 s.responses.date_format)
        st.session_state[box], st.session_state[f"{box}-from"] = fill.fill(row["text"], values), chosen
    return chosen


def _link(item: pd.Series, key: dict[str, str], at: str) -> None:
    with st.popover("Link an incident", icon=":material/link:"):
        number = st.number_input("Incident #", min_value=1, step=1, value=None, key=f"inbox-incident-{item['post_id']}")
        if st.button("Link", key=f"inbox-link-{item['post_id']}") and number and act(
                "inbox_link", **key, incident_id=int(number), at=at):
            flash(f"Linked to incident #{int(number)}.")
        if not pd.isna(item["incident_id"]) and st.button("Unlink", key=f"inbox-unlink-{item['post_id']}") and act(
                "inbox_link", **key, at=at):
            flash("Unlinked.")
