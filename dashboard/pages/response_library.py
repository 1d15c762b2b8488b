"""Responses: the agency's approved-response library: the list, an entry's editor with live limit checks, approval
and retiring, and its version history."""

import pandas as pd
import streamlit as st

from dashboard import response_editor
from dashboard.data import connect, now, query, require, show_flash, text
from responses.model import STATUSES, entries_from_rows

NEW = "(new response)"

user = require("read")
connect()
moment, _ = now()
st.title("Responses")
st.caption("What the agency has approved to say, per channel and language. Drafts need a lead's or an admin's "
           "approval before they are suggested for incidents; an entry past its review-by date is flagged stale.")
show_flash()

status = st.segmented_control("Status", ["all", *STATUSES], default="all") or "all"
library = query("responses_library", today=moment, status=None if status == "all" else status)
if library.empty:
    st.info("The library is empty. Comms staff create entries below; the engine also imports the file named by "
            "[responses] library in settings.toml.")
else:
    shown = library.assign(stale=library["stale"].map({True: "stale", False: ""}))
    st.dataframe(shown[["response_id", "title", "status", "version", "approved_version", "approved_by", "approved_at",
                        "review_by", "stale", "claim_ids", "topics", "languages", "channels"]],
                 hide_index=True, width="stretch")

ids = library["response_id"].tolist() if not library.empty else []
titles = dict(zip(ids, library["title"], strict=True)) if ids else {}
options = ([NEW] if user.can("draft_responses") else []) + ids
if not options:
    st.stop()
picked = st.selectbox("Open", options, format_func=lambda i: i if i == NEW else f"{i}: {titles[i]}", key="rsp-open")
if picked == NEW:
    st.subheader("New response")
    response_editor.editor(user, None, None)
    st.stop()

row = library.set_index("response_id").loc[picked]
latest = entries_from_rows(query("response_messages", response_id=picked).to_dict("records"))
current = latest[0] if latest else None
st.subheader(f"{picked}: {row['title']}")
approved = (f"version {int(row['approved_version'])} in use, approved by {row['approved_by']} on "
            f"{pd.Timestamp(row['approved_at']):%Y-%m-%d %H:%M} UTC" if pd.notna(row["approved_version"])
            else "no version approved")
st.caption(f"Status **{row['status']}** (latest version {int(row['version'])}); {approved}; review by "
           f"{text(str(row['review_by'])[:10]) or 'not set'}.")
if row["stale"]:
    st.warning("Past its review-by date: still suggested, but check it is still right and set a new date.",
               icon=":material/history:")
edit, history = st.tabs(["Latest version", "History"])
with edit:
    response_editor.editor(user, current, row)
with history:
    versions = query("response_versions", response_id=picked)
    st.dataframe(versions, hide_index=True, width="stretch")
    st.dataframe(query("response_events", response_id=picked), hide_index=True, width="stretch")
    version = st.selectbox("Show the messages of version", [int(v) for v in versions["version"]])
    old = query("response_messages", response_id=picked, version=int(version))
    for _, message in old.iterrows():
        st.markdown(f"**{message['lang']} · {message['channel']}**")
        st.code(message["text"], language=None, wrap_lines=True)
