"""Open311 requests on a map, and time to close per service (a section the Touchpoints page shows).

Drawn with Altair (a scatter of longitude / latitude in a Mercator projection), not `st.map` / pydeck: those draw
their points over basemap tiles fetched from a tile server (Carto's, by default) in the browser, which a
self-hosted install without internet access cannot reach. The points carry no basemap, so each has its address,
service and status in its tooltip. Only requests carry coordinates: no other source maps a post's location (the
collectors keep no geotags), so there are no geotagged posts to show beside them.
"""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.data import query

LIMIT = 5000
STATUS_COLOURS = alt.Scale(domain=["open", "closed"], range=["#d6604d", "#4393c3"])


def chart(frame: pd.DataFrame) -> alt.Chart:
    """Each located request as a point, coloured by status, with what it is in its tooltip."""
    return alt.Chart(frame).mark_circle(size=60, opacity=0.8).encode(
        longitude="lon:Q", latitude="lat:Q",
        color=alt.Color("status:N", scale=STATUS_COLOURS, title="status"),
        tooltip=[alt.Tooltip("service:N"), alt.Tooltip("address:N"), alt.Tooltip("status:N"),
                 alt.Tooltip("requested_at:T", title="requested", format="%d %b %H:%M"),
                 alt.Tooltip("incident_id:Q", title="incident")],
    ).project("mercator").properties(height=420)


def show(since: datetime, until: datetime) -> None:
    """The map of the window's located 311 requests and the time to close per service."""
    st.subheader("311 requests on a map")
    window = {"since": since.isoformat(), "until": until.isoformat()}
    located = query("service_request_map", **window, limit=LIMIT)
    if located.empty:
        st.caption("No 311 request with a location in this window.")
    else:
        st.altair_chart(chart(located), width="stretch")
        st.caption(f"{len(located)} located requests" + (f" (the newest {LIMIT})" if len(located) >= LIMIT else "")
                   + "; hover a point for its service, address and status.")
    services = query("service_time_to_close", **window)
    if not services.empty:
        st.dataframe(services, hide_index=True, width="stretch", column_config={
            "median_hours_to_close": st.column_config.NumberColumn("median hours to close", format="%.1f")})
