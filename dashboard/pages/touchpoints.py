"""Touchpoints: where residents meet the agency. Channel x topic (volume, negative share, open incidents, median time
to first response); a cell opens its posts; one incident's path across channels. Downloads as CSV and PNG."""

from datetime import timedelta

import streamlit as st

from dashboard import servicemap
from dashboard import touchpointing as tp
from dashboard.data import connect, now, pseudonymise, query, require, settings

user = require("read")
connect()
st.title("Touchpoints")
st.caption("Each channel residents use (platforms, news, 311 requests, e-mail, web form, SMS, Facebook, Instagram) "
           "against the agency's topics. An incident is counted where its evidence posts are.")
engine_now, _ = now()
hours = st.segmented_control("Window", [24, 168, 720], default=168, key="tp-window",
                             format_func=lambda h: f"{h} h" if h < 48 else f"{h // 24} days") or 168
since, until = engine_now - timedelta(hours=hours), engine_now
cells = tp.cells(since, until)
if cells.empty:
    st.info("No posts in this window yet.")
    st.stop()
measure = st.segmented_control("Show", list(tp.MEASURES), default="posts", key="tp-measure",
                               format_func=lambda m: tp.MEASURES[m][0]) or "posts"
chart = tp.heatmap(cells, measure)
st.altair_chart(chart, width="stretch")
tp.downloads(cells, chart, "touchpoints", "tp-matrix", tp.describe(
    "touchpoint_matrix+touchpoint_incidents", since=since.isoformat(), until=until.isoformat(), measure=measure))
st.dataframe(cells, hide_index=True, width="stretch",
             column_config={"negative_share": st.column_config.NumberColumn("negative share", format="percent"),
                            "median_minutes_to_first_response": st.column_config.NumberColumn(
                                "min to first response (incidents)", format="%.0f"),
                            "median_minutes_to_answer": st.column_config.NumberColumn(
                                "min to answer (inbox)", format="%.0f")})
servicemap.show(since, until)  # 311 requests on a map, time to close per service

st.subheader("A cell's posts")
keys = list(zip(cells["channel"], cells["topic"], strict=True))
cell = st.selectbox("Open a cell", range(len(keys)), key="tp-cell",
                    format_func=lambda i: f"{keys[i][0]} · {keys[i][1]} ({int(cells['posts'].iloc[i])} posts)")
platform = {v: k for k, v in tp.CHANNELS.items()}.get(keys[cell][0], keys[cell][0])
posts = query("touchpoint_posts", since=since.isoformat(), until=until.isoformat(), channel=platform,
              topic=keys[cell][1], topic_min_score=settings().alerts.topic_min_score, limit=200)
st.caption(f"{len(posts)} posts, newest first" + (" (the newest 200)" if len(posts) == 200 else ""))
st.dataframe(pseudonymise(posts, user), hide_index=True, width="stretch",
             column_config={"url": st.column_config.LinkColumn()})

st.subheader("An incident across channels")
incidents = query("incidents", since=since.isoformat(), until=until.isoformat(), limit=200)
if incidents.empty:
    st.caption("No incident in this window.")
    st.stop()
names = {int(r["incident_id"]): f"#{r['incident_id']} [{r['severity']}] {r['headline']}"
         for _, r in incidents.iterrows()}
chosen = st.selectbox("Incident", list(names), format_func=lambda i: names[i], key="tp-incident")
moved = tp.journey(chosen) if chosen is not None else None
if moved is None:
    st.caption("Its posts are no longer stored.")
    st.stop()
st.markdown(moved.sentence())
path = tp.journey_chart(moved)
st.altair_chart(path, width="stretch")
tp.downloads(moved.first, path, f"incident-{chosen}-channels", "tp-journey",
             tp.describe("incident_channels", incident_id=chosen))
