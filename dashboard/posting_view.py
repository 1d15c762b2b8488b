"""Post an approved response from CivicRadar (off by default): under a suggested response's channel text, for leads and
admins, when `[posting]` is on for that platform, after an explicit confirmation of the exact text and account.

The post is made here, by the dashboard's server, which checks the role first (storage.posting_queries.POSTERS) and
holds the posting credentials; then the engine records it (`incident_post_response`: a response of the incident with
the link the platform returned, and an audit row with the text), or records the refusal (`response_post_failed`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard.data import act, flash, query, session, settings
from responses import posting
from responses.limits import LABELS
from storage.actions import ACTIONS
from storage.posting_queries import FAILED, POSTED


def offer(incident_id: int, response_id: str, version: int, lang: str, channel: str, text: str, ready: bool) -> None:
    """The 'post it from here' box for one channel's text; nothing at all while posting is off for `channel`."""
    s = settings()
    if channel not in s.posting.platforms() or POSTED not in ACTIONS:
        return
    user = session()
    if user.role not in ACTIONS[POSTED].roles:
        st.caption(f"Posting on {LABELS[channel]} from CivicRadar is for leads and admins; copy the text and record it "
                   "as posted.")
        return
    key = f"post:{incident_id}:{response_id}:{lang}:{channel}"
    who = posting.account(channel, s)
    with st.container(border=True):
        st.markdown(f"**Post on {LABELS[channel]} from CivicRadar** as {who}: exactly the text above, publicly, now.")
        if not ready:
            st.warning("This text does not pass its checks (limit or placeholders): it cannot be posted from here.")
            return
        sure = st.checkbox(f"I have read it: post it on {LABELS[channel]} as {who}", key=f"{key}:sure")
        if st.button("Post now", key=f"{key}:go", type="primary", disabled=not sure, icon=":material/send:"):
            _post(incident_id, response_id, version, lang, channel, text)


def _this_month(channel: str) -> int:
    """Posts made from CivicRadar on `channel` this month (UTC): what X's cost meter counts."""
    start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    counts = query("posting_counts", since=start.isoformat())
    return int(counts.loc[counts["platform"] == channel, "posts"].sum()) if len(counts) else 0


def _post(incident_id: int, response_id: str, version: int, lang: str, channel: str, text: str) -> None:
    if session().role not in ACTIONS[POSTED].roles:  # checked again at the moment of posting
        st.error("Your role may not post from CivicRadar.")
        return
    about = {"incident_id": incident_id, "response_id": response_id, "version": version, "channel": channel,
             "text": text}
    try:
        made = posting.post(channel, text, settings(), lang, _this_month(channel))
    except posting.PostingError as e:
        act(FAILED, **about, account=posting.account(channel, settings()), error=str(e))
        st.error(f"Not posted: {e}")
        return
    if act(POSTED, **about, account=made.account, url=made.url, post_id=made.post_id):
        flash(f"Posted on {LABELS[channel]}: {made.url} (recorded as a response of incident #{incident_id}).")
    st.error(f"Posted on {LABELS[channel]} ({made.url}), but the engine did not record it: record it as posted "
             "with this link.")
