"""Inbox: what residents sent the agency (replies and mentions of its accounts, e-mail and web tips, SMS, 311
requests, Page comments), oldest unanswered first, with the SLA per channel; open one to answer it."""

import streamlit as st

from dashboard import inboxing, inboxview
from dashboard.data import connect, now, require, settings, show_flash

user = require("read")
connect()
st.title("Inbox")
show_flash()
moment = now()[0]
counts = inboxing.counts(moment)
tiles = st.columns(4)
tiles[0].metric("Open", int(counts["new"].sum() + counts["in_progress"].sum()) if len(counts) else 0)
tiles[1].metric("Past their SLA", int(counts["overdue"].sum()) if len(counts) else 0)
tiles[2].metric("New", int(counts["new"].sum()) if len(counts) else 0)
tiles[3].metric("Answered", int(counts["answered"].sum()) if len(counts) else 0)
a, b, c = st.columns([2, 2, 1])
status = a.selectbox("Status", ["open", "all", *inboxing.STATUSES], format_func=lambda s: s.replace("_", " "))
channel = b.selectbox("Channel", [None, *counts.get("channel", [])],
                      format_func=lambda ch: "every channel" if ch is None else inboxing.channel_name(ch))
mine = c.toggle("Mine only", disabled=not inboxing.works_inbox(user))
items = inboxing.queue(moment, status, channel, user.username if mine else None, user)
limit = settings().inbox.page_size
st.caption(f"{len(items)} items shown, open ones oldest first" + (" (the page's limit)" if len(items) >= limit else ""))
if items.empty:
    st.info("Nothing here with these filters.")
    st.stop()
shown = items.assign(channel=items["channel"].map(inboxing.channel_name),
                     waiting=items["waiting_minutes"].map(inboxing.waiting),
                     status=items["status"].str.replace("_", " "))
columns = ["channel", "received_at", "status", "overdue", "waiting", "assignee", "incident_id", "author_handle",
           "text", *(["author_id", "contacts"] if inboxing.works_inbox(user) else [])]
st.dataframe(shown[columns], hide_index=True, width="stretch", height=min(36 * len(shown) + 40, 400),
             column_config={"received_at": st.column_config.DatetimeColumn("received", format="DD MMM HH:mm"),
                            "overdue": st.column_config.CheckboxColumn("past SLA"),
                            "incident_id": st.column_config.NumberColumn("incident", format="#%d"),
                            "author_id": st.column_config.TextColumn("contact")})
keys = list(zip(items["channel"], items["post_id"], strict=True))
chosen = st.selectbox("Open an item", range(len(keys)), key="open-inbox-item",
                      format_func=lambda i: f"{inboxing.channel_name(keys[i][0])} · {items['text'].iat[i][:80]}")
st.divider()
inboxview.show(*keys[chosen or 0], user, moment)
