"""Incidents: what changed since you were last here, the queue, and one incident opened (?incident=N)."""

import streamlit as st

from dashboard import incidenting, incidentview, incidentwork
from dashboard.data import connect, info, require, show_flash

user = require("read")
connect()
meta = info()
st.title("Incidents")
show_flash()
previous = incidenting.previous_visit()
changed = incidenting.since(previous)
with st.container(border=True):
    when = f"{previous:%a %d %b %H:%M} UTC" if previous else "your first visit: everything open"
    st.markdown(f"**Since you were last here** ({when}): {len(changed)} incident{'s' if len(changed) != 1 else ''}")
    for _, row in changed.head(10).iterrows():
        text, buttons = st.columns([4, 2])
        text.markdown(f"**#{row['incident_id']}** [{row['severity']}] {row['headline']} — *{row['why']}*"
                      + (f" · overdue: {row['overdue']}" if row["overdue"] else ""))
        with buttons:
            if user.can("work_alerts"):
                incidentwork.one_click(row, user)
a, b, c = st.columns([2, 2, 1])
statuses = a.multiselect("Status", incidenting.STATUSES, default=incidenting.OPEN)
severities = b.multiselect("Severity", incidenting.SEVERITIES)
watch = c.selectbox("Watch", [None, *meta.get("watches", [])], format_func=lambda w: w or "all watches")
found = incidenting.queue(statuses, severities, watch)
st.caption(f"{len(found)} incidents, most severe first")
if found.empty:
    st.info("No incidents match these filters.")
    st.stop()
st.dataframe(found[["incident_id", "severity", "status", "headline", "alerts", "assignee", "overdue", "first_post_at",
                    "last_seen_at", "minutes_to_acknowledge", "minutes_to_first_response"]],
             hide_index=True, width="stretch", height=min(36 * len(found) + 40, 360),
             column_config={"first_post_at": st.column_config.DatetimeColumn("first post", format="DD MMM HH:mm"),
                            "last_seen_at": st.column_config.DatetimeColumn("last signal", format="DD MMM HH:mm"),
                            "minutes_to_acknowledge": st.column_config.NumberColumn("min to ack", format="%.0f"),
                            "minutes_to_first_response": st.column_config.NumberColumn("min to respond",
                                                                                       format="%.0f")})
ids = [int(i) for i in found["incident_id"]]
asked = st.query_params.get("incident")
start = ids.index(int(asked)) if asked and asked.isdigit() and int(asked) in ids else 0
headlines = dict(zip(ids, found["headline"], strict=True))
chosen = st.selectbox("Open an incident", ids, index=start, key="open-incident",
                      format_func=lambda i: f"#{i} {headlines[i]}")
st.divider()
incidentview.show(int(chosen), user)
