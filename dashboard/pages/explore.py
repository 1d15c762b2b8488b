"""Explore: search and filter posts, open one to see its labels and reasons, mark a label wrong."""

from datetime import timedelta

import streamlit as st

from dashboard import charts, postview
from dashboard.data import connect, info, now, pseudonymise, query, require, show_flash

user = require("read")
connect()
meta = info()
moment, _ = now()
st.title("Explore posts")
show_flash()
with st.form("filters"):
    a, b, c = st.columns([2, 1, 1])
    text = a.text_input("Text contains")
    hours = b.selectbox("Time", [1, 6, 24, 72, 168, 720], index=2, format_func=lambda h: f"last {h} h")
    min_misinfo = c.slider("Misinformation score at least", 0.0, 1.0, 0.0, 0.05)
    d, e, f, g = st.columns(4)
    watches = d.multiselect("Watch", meta.get("watches", []))
    platforms = e.multiselect("Platform", sorted(query("post_counts")["platform"].unique()))
    topics = f.multiselect("Topic", [*meta.get("topics", []), "other"])
    sentiments = g.multiselect("Sentiment", list(charts.SENTIMENT))
    st.form_submit_button("Search", type="primary", icon=":material/search:")

posts = query("search_posts", since=moment - timedelta(hours=hours), until=moment, text=text or None,
              watches=watches or None, platforms=platforms or None, topics=topics or None,
              sentiments=sentiments or None, min_misinfo=min_misinfo or None)
posts = pseudonymise(posts, user)
st.caption(f"{len(posts):,} posts, newest first (at most 500 shown; narrow the filters to see others)")
if posts.empty:
    st.info("No posts match these filters.")
    st.stop()
st.dataframe(posts.drop(columns=["url"]), hide_index=True, width="stretch", height=320,
             column_config={"misinfo_score": st.column_config.ProgressColumn("misinfo", min_value=0, max_value=1,
                                                                             format="%.2f"),
                            "created_at": st.column_config.DatetimeColumn("time (UTC)", format="DD MMM HH:mm")})
choice = st.selectbox("Open a post", posts.index,
                      format_func=lambda i: f"{posts.at[i, 'platform']} · {posts.at[i, 'text'][:100]}")
st.subheader("Post")
postview.show(posts.at[choice, "platform"], posts.at[choice, "post_id"], user)
