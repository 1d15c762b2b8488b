"""Send an inbox reply from CivicRadar (off by default): on Bluesky, Mastodon and X as a reply to the resident's post,
by SMS through Twilio; for leads and admins, after an explicit confirmation of the exact text, account and channel.

The reply is sent here, by the dashboard's server, which checks the role first (storage.posting_queries.POSTERS) and
holds the credentials; then the engine records it (`inbox_reply_sent`: the item answered, with the id and link the
platform or Twilio returned, and an audit row with the text), or records the refusal (`inbox_reply_failed`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import inboxing
from dashboard.data import act, flash, query, session, settings
from dashboard.posting_view import _this_month
from responses import inbox_send
from responses.posting import PostingError
from storage.actions import ACTIONS
from storage.inbox_queries import SEND_FAILED, SENT


def how(channel: str) -> str:
    """What the reply box says about sending on this channel."""
    name = inboxing.channel_name(channel)
    if channel not in inbox_send.SENDABLE:
        return f"Replies on {name} are not sent from CivicRadar: answer by e-mail, phone or on {name}, then record it."
    if not inbox_send.can_send(channel, settings()):
        return (f"Sending on {name} from CivicRadar is off ([posting]): answer on {name} (or by e-mail or phone), "
                "then record it.")
    if session().role not in ACTIONS[SENT].roles:
        return f"Sending on {name} from CivicRadar is for leads and admins; you can record a reply sent elsewhere."
    return f"Send the reply on {name} from here, or answer elsewhere and record it."


def offer(item: pd.Series, key: dict[str, str], text: str, ready: bool, response_id: str | None, at: str) -> None:
    """The 'send it from here' box; nothing while sending is off on this channel or the role may not send."""
    channel = item["channel"]
    if not inbox_send.can_send(channel, settings()) or session().role not in ACTIONS[SENT].roles:
        return
    target = _target(key)
    who, name = inbox_send.sender(channel, settings(), target), inboxing.channel_name(channel)
    to = "the resident's number" if channel == "sms" else "the resident's post, publicly"
    with st.container(border=True):
        st.markdown(f"**Send on {name} from CivicRadar** as {who}: exactly the reply above, as a reply to {to}, now.")
        if channel == "mastodon" and target.author_handle:
            st.caption(f"Mastodon notifies only those mentioned: @{target.author_handle} is put first unless named.")
        sure = st.checkbox(f"I have read it: send it on {name} as {who}", key=f"send:{item['post_id']}:sure")
        if st.button("Send now", key=f"send:{item['post_id']}:go", type="primary", disabled=not (sure and ready),
                     icon=":material/send:"):
            _send(target, key, text, response_id, at)


def _target(key: dict[str, str]) -> inbox_send.Target:
    found = query("inbox_reply_target", **key)
    row = found.iloc[0] if len(found) else pd.Series(dtype=object)
    value = {k: None if pd.isna(row.get(k)) else str(row.get(k)) for k in ("author_handle", "phone", "agency_number")}
    return inbox_send.Target(key["platform"], key["post_id"], value["author_handle"], value["phone"],
                             value["agency_number"])


def _send(target: inbox_send.Target, key: dict[str, str], text: str, response_id: str | None, at: str) -> None:
    if session().role not in ACTIONS[SENT].roles:  # checked again at the moment of sending
        st.error("Your role may not send replies from CivicRadar.")
        return
    about = {**key, "text": text, "response_id": response_id, "at": at}
    who = inbox_send.sender(target.channel, settings(), target)
    try:
        made = inbox_send.send(target, text, settings(), posted_this_month=_this_month(target.channel))
    except PostingError as e:
        act(SEND_FAILED, **about, account=who, error=str(e))
        st.error(f"Not sent: {e}")
        return
    if act(SENT, **about, account=made.account, url=made.url or None, sent_id=made.post_id):
        flash(f"Sent on {inboxing.channel_name(target.channel)} ({made.url or made.post_id}); the item is answered.")
        return
    st.error(f"Sent ({made.url or made.post_id}), but the engine did not record it: record it as sent with this link.")
