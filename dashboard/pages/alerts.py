"""Alerts: the queue (filter by severity, watch, status), each linked to its incident; open one for its story."""

import streamlit as st

from dashboard import alerting, alertview, incidenting
from dashboard.data import connect, info, now, require, show_flash

user = require("read")
connect()
meta = info()
st.title("Alerts")
show_flash()
a, b, c = st.columns([2, 2, 1])
statuses = a.multiselect("Status", alerting.STATUSES, default=alerting.OPEN)
severities = b.multiselect("Severity", alerting.SEVERITIES)
watch = c.selectbox("Watch", [None, *meta.get("watches", [])], format_func=lambda w: w or "all watches")
alerts = incidenting.with_incident(alerting.queue(statuses, severities, watch))
summary = alerting.summary(now()[0])
st.caption(f"{len(alerts)} alerts, most severe first"
           + (f" · median time to acknowledge this week: {summary.median_ack}" if summary and summary.median_ack
              else ""))
if alerts.empty:
    st.info("No alerts match these filters.")
    st.stop()
st.dataframe(alerts[["alert_id", "severity", "status", "title", "incident", "kind", "watch", "topic", "assignee",
                     "occurrences", "last_seen_at", "minutes_to_acknowledge"]],
             hide_index=True, width="stretch", height=min(36 * len(alerts) + 40, 360),
             column_config={"severity": st.column_config.TextColumn(),
                            "incident": st.column_config.LinkColumn("incident", display_text=r"incident=(\d+)"),
                            "last_seen_at": st.column_config.DatetimeColumn("last seen", format="DD MMM HH:mm"),
                            "minutes_to_acknowledge": st.column_config.NumberColumn("min to ack", format="%.0f")})
ids = list(alerts["alert_id"])
chosen = st.selectbox("Open an alert", ids, key="open-alert",
                      format_func=lambda i: f"#{i} {alerts.set_index('alert_id').at[i, 'title']}")
st.divider()
alertview.show(int(chosen), user, wall=st.query_params.get("wall") == "1")
