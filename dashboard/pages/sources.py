"""Sources: the health of each collector and job (last run, status, items, errors, rate limits, X spend vs cap)."""

import os
from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard import health, replica_view
from dashboard.data import connect, query, require
from storage.client import READ_URL_ENV, URL_ENV

require("read")
connect()
since = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0) - timedelta(hours=24)  # runs keep real time
st.title("Sources")
st.caption(f"Counts over the last 24 hours (since {since:%d %b %H:%M} UTC, real time, even in a demo replay)")
replica_view.show(os.environ.get(READ_URL_ENV) or os.environ.get(URL_ENV, ""))
overview = query("source_overview", since=since)
if overview.empty:
    st.info("No source has run yet. Sources run on their schedules once the engine starts.")
    st.stop()
rows = health.table(overview)
failing = rows[overview["last_status"].ne("ok") & overview["last_status"].ne("running")]
cols = st.columns(4)
collected = rows.loc[rows["job"] == "collect", "items (24 h)"].sum()
cols[0].metric("Sources and jobs", len(rows))
cols[1].metric("Failing now", len(failing), delta_color="inverse")
cols[2].metric("Posts collected (24 h)", f"{int(collected):,}")
cols[3].metric("Rate-limit waits (24 h)", int(rows["rate-limit waits (24 h)"].sum()))
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={"last run": st.column_config.DatetimeColumn(format="DD MMM HH:mm:ss"),
                            "spend (USD)": st.column_config.NumberColumn(format="$%.2f"),
                            "cap (USD)": st.column_config.NumberColumn(format="$%.2f")})
paid = rows.dropna(subset=["spend (USD)"])
if not paid.empty:
    st.subheader("Paid API spend this month")
    for _, row in paid.iterrows():
        cap = row["cap (USD)"]
        share = min(row["spend (USD)"] / cap, 1.0) if cap else 0.0
        label = f"{row['source']}: ${row['spend (USD)']:.2f}" + (f" of ${cap:.2f} cap" if cap else " (no cap set)")
        st.progress(share, text=label)
errors = query("source_errors", since=since)
st.subheader("Recent errors")
if errors.empty:
    st.success("No failed runs in the last 24 hours.")
else:
    st.dataframe(errors, hide_index=True, width="stretch")
