"""Alerts: the queue (filter by severity, watch, status); open one for its story; acknowledge, assign, resolve."""

import streamlit as st

from dashboard.data import connect, require

require("read")
connect()
st.title("Alerts")
st.info("The alert queue needs the alerts area's queries and actions (storage/alert_queries.py), not yet served.")
