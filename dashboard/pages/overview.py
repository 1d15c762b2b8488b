"""Overview: live volume by source and watch, refreshing itself without reloading the page."""

from datetime import timedelta

import altair as alt
import streamlit as st

from dashboard.data import clock_caption, connect

client = connect()
info = client.info()
st.title(f"{info.get('agency', 'CivicRadar')}: overview")
hours = st.segmented_control("Window", [6, 24, 72], default=24, format_func=lambda h: f"last {h} h")
bucket = {6: 15, 24: 60, 72: 180}[hours or 24]


@st.fragment(run_every=info.get("refresh_seconds", 5))
def live() -> None:
    now, simulated = client.clock()
    since = now - timedelta(hours=hours or 24)
    st.caption(clock_caption(now, simulated))
    last_hour = client.query("window_totals", since=now - timedelta(hours=1), until=now)
    day = client.query("window_totals", since=since, until=now)
    tiles = st.columns(3)
    tiles[0].metric("Posts in the last hour", int(last_hour["posts"].iloc[0]))
    tiles[1].metric(f"Posts in the last {hours} h", int(day["posts"].iloc[0]))
    tiles[2].metric("Distinct authors", int(day["authors"].iloc[0]))
    volume = client.query("volume", since=since, until=now, bucket_minutes=bucket)
    if volume.empty:
        st.info("No posts in this window yet. Sources run on their schedules; see `civicradar status`.")
        return
    left, right = st.columns(2)
    with left:
        st.subheader("By source platform")
        by_platform = volume.groupby(["bucket", "platform"], as_index=False)["posts"].sum()
        st.altair_chart(_chart(by_platform, "platform"), use_container_width=True)
    with right:
        st.subheader("By watch")
        by_watch = volume.groupby(["bucket", "watch"], as_index=False)["posts"].sum()
        st.altair_chart(_chart(by_watch, "watch"), use_container_width=True)
    st.subheader("Newest posts")
    st.dataframe(client.query("recent_posts", until=now, limit=15), hide_index=True, use_container_width=True)


def _chart(frame, series: str) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_area(opacity=0.85)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("posts:Q", stack=True, title="posts"),
            color=alt.Color(f"{series}:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["bucket:T", f"{series}:N", "posts:Q"],
        )
        .properties(height=280)
    )


live()
