"""Narratives and fact-checks: emerging narratives, known claims gaining traction, matching posts, the register."""

from datetime import timedelta

import streamlit as st

from dashboard import alerting, charts, register
from dashboard.data import connect, now, pseudonymise, query, require, show_flash

user = require("read")
connect()
moment, _ = now()
st.title("Narratives and fact-checks")
show_flash()
left, right = st.columns([2, 1])
hours = left.segmented_control("Window", [3, 6, 24, 72], default=6, format_func=lambda h: f"last {h} h") or 6
min_score = right.slider("Claim match probability at least", 0.0, 1.0, 0.5, 0.05,
                         help="The classifier's probability that a post repeats the claim it is closest to.")

st.subheader("Emerging narratives")
alerting.narratives(moment, hours)

st.subheader("Known claims gaining traction")
claims = query("claim_activity", now=moment, hours=hours, limit=20, min_score=min_score)
if claims.empty:
    st.info(f"No post matched a known claim in the last {hours} hours.")
else:
    chart, table = st.columns([2, 3])
    chart.altair_chart(charts.styled(charts.growth_bars(claims.assign(claim=claims["claim_id"]), "claim")),
                       width="stretch")
    table.dataframe(claims[["claim_id", "claim", "rating", "recent_posts", "earlier_posts", "growth", "platforms",
                            "url"]], hide_index=True, width="stretch",
                    column_config={"url": st.column_config.LinkColumn("fact-check"),
                                   "growth": st.column_config.NumberColumn(format="%.1f×")})

st.subheader("Posts matching known claims")
matches = pseudonymise(query("claim_matches", since=moment - timedelta(hours=hours), until=moment,
                             min_score=min_score), user)
if matches.empty:
    st.info("No matching posts in this window.")
else:
    st.dataframe(matches, hide_index=True, width="stretch",
                 column_config={"factcheck_url": st.column_config.LinkColumn("fact-check"),
                                "match_score": st.column_config.ProgressColumn(min_value=0, max_value=1,
                                                                               format="%.2f")})

st.subheader("Rumour register")
register.editor(user)
