"""Overview: live tiles, volume and mood per watch or topic, rising topics and claims; refreshes in place."""

import streamlit as st

from dashboard import charts, inboxing, live
from dashboard.data import clock_caption, connect, info, now, require
from dashboard.guard import refreshing

require("read")
connect()
meta = info()
wall = st.query_params.get("wall") == "1"
height = 420 if wall else 300
st.title(f"{meta.get('agency', 'CivicRadar')}: overview")
pick_window, pick_series = st.columns([1, 1])
hours = pick_window.segmented_control("Window", [6, 24, 72], default=24, format_func=lambda h: f"last {h} h") or 24
by = pick_series.segmented_control("Break down by", ["watch", "topic"], default="watch") or "watch"


@refreshing(meta.get("refresh_seconds", 5))
def live_view() -> None:
    moment, simulated = now()
    st.caption(clock_caption(moment, simulated))
    data = live.fetch(moment, by, hours)
    with st.container(key="tiles"):  # two tiles a row on a phone (dashboard/phone.py)
        live.tiles(data)
    frame = data.breakdown
    if frame.empty:
        st.info("No posts in this window yet. Sources run on their schedules; see the Sources page.")
        return
    volume, mood = st.columns([3, 2])
    volume.subheader(f"Volume by {by}")
    volume.altair_chart(charts.styled(charts.volume(frame, "series", height), wall), width="stretch")
    mood.subheader("Sentiment")
    mood.altair_chart(charts.styled(charts.sentiment_share(frame, height), wall), width="stretch")
    if (frame["sentiment"] != "unscored").any():
        st.subheader(f"Where the mood is negative, by {by}")
        st.altair_chart(charts.styled(charts.mood_heatmap(frame, "series"), wall), width="stretch")
    else:
        st.info("No post in this window has a sentiment label yet; the classifier labels new posts as they arrive.")
    left, right = st.columns(2)
    left.subheader("Rising topics (last 3 h)")
    rising = data.topics[data.topics["growth"] > 1]
    if rising.empty:
        left.info("No topic is above its usual rate in the last 3 hours (or its posts are not labelled yet).")
    else:
        left.altair_chart(charts.styled(charts.growth_bars(rising, "topic"), wall), width="stretch")
    right.subheader("Narratives and known claims (last 6 h)")
    if not data.narratives.empty:
        right.dataframe(data.narratives[["title", "posts", "growth", "platforms"]], hide_index=True,
                        width="stretch", column_config={"growth": st.column_config.NumberColumn(format="%.1f×")})
    if data.claims.empty:
        right.info("No post matched a known claim in the last 6 hours.")
    else:
        right.caption("Known claims matched")  # room for the table's toolbar, always shown on a touch screen
        right.dataframe(data.claims[["claim_id", "claim", "rating", "recent_posts", "growth", "platforms"]],
                        hide_index=True, width="stretch",
                        column_config={"growth": st.column_config.NumberColumn(format="%.1f×")})
    inboxing.overview_panel(moment)  # share answered and median time to answer, per channel


live_view()
