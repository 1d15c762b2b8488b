"""One incident opened: headline, severity, targets, the timeline of its signals, its alerts (with their own
history), its evidence once, the agency's responses, and the workflow (dashboard/incidentwork.py)."""

from __future__ import annotations

import json
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import effectview, incidentwork, response_panel
from dashboard.alertview import SEVERITY_COLOR
from dashboard.auth import Session
from dashboard.data import query, text
from dashboard.incidenting import minutes, overdue_words

NUMBERS = ("posts", "accounts", "ratio", "expected", "share", "baseline_share", "growth", "negative")


def show(incident_id: int, user: Session) -> None:
    found = query("incident_detail", incident_id=incident_id)
    if found.empty:
        st.info(f"Incident #{incident_id} does not exist.")
        return
    i = found.iloc[0]
    if i["status"] == "merged":
        st.info(f"Incident #{incident_id} was merged into incident #{int(i['merged_into'])}; open that one.")
        return
    header(i)
    if user.can("work_alerts"):
        incidentwork.workflow(i, user)
    timeline(incident_id)
    alerts(incident_id)
    evidence(incident_id)
    st.markdown("**Suggested responses** (approved answers from the library that fit this incident)")
    response_panel.show_suggestions(incident_id)
    responses(i, user)
    effectview.show_effect(incident_id)  # did the response work?
    if user.can("work_alerts"):
        incidentwork.regroup(i)


def header(i: pd.Series) -> None:
    st.subheader(f"#{int(i['incident_id'])} {i['headline']}")
    badges = st.container(horizontal=True)
    badges.badge(f"{i['severity']} severity", color=SEVERITY_COLOR.get(i["severity"], "gray"),
                 icon=":material/warning:")
    badges.badge(i["status"], color="blue", icon=":material/flag:")
    if text(i["assignee"]):
        badges.badge(f"assigned to {i['assignee']}", color="violet", icon=":material/person:")
    late = overdue_words(i)
    if late:
        badges.badge(f"overdue: {late}", color="red", icon=":material/alarm:")
    cols = st.columns(4)
    cols[0].metric("Signals", f"{int(i['alerts'])} alerts", ", ".join(k.replace("_", " ") for k in i["kinds"]),
                   delta_color="off")
    cols[1].metric("First post", f"{i['first_post_at']:%d %b %H:%M}" if pd.notna(i["first_post_at"]) else "—")
    cols[2].metric("Time to acknowledge", minutes(i["minutes_to_acknowledge"]) or "not yet")
    cols[3].metric("Time to first response", minutes(i["minutes_to_first_response"]) or "not yet")
    about = [("Watches", i["watches"]), ("Topics", i["topics"]), ("Claims", i["claim_ids"]),
             ("Platforms", i["platforms"])]
    st.caption(" · ".join(f"{name}: {', '.join(values)}" for name, values in about if len(values)))


def numbers(details: Any) -> str:
    """A detector event's headline numbers, e.g. 'posts 142 · ratio 6.3'."""
    try:
        found = json.loads(details) if isinstance(details, str) else {}
    except ValueError:
        found = {}
    return " · ".join(f"{k} {found[k]}" for k in NUMBERS if isinstance(found.get(k), int | float))


def timeline(incident_id: int) -> None:
    events = query("incident_timeline", incident_id=incident_id)
    events = events.assign(numbers=events["details"].map(numbers))
    signals = events[events["source"] != "incident"]
    st.markdown("**Timeline of its signals**")
    if not signals.empty:
        points = signals.assign(posts=[_posts(d) for d in signals["details"]]).dropna(subset=["posts"])
        chart = alt.Chart(points).mark_line(point=True).encode(
            x=alt.X("seen_at:T", title="detection step (engine clock)"), y=alt.Y("posts:Q", title="posts"),
            color=alt.Color("source:N", title="alert"), tooltip=["source", "detector", "event", "severity", "numbers"])
        st.altair_chart(chart.properties(height=220), width="stretch")
    st.dataframe(events[["changed_at", "seen_at", "source", "detector", "actor", "event", "severity", "numbers",
                         "note"]], hide_index=True, width="stretch",
                 column_config={"changed_at": st.column_config.DatetimeColumn("when", format="DD MMM HH:mm"),
                                "seen_at": st.column_config.DatetimeColumn("step", format="DD MMM HH:mm")})


def _posts(details: Any) -> float | None:
    try:
        value = json.loads(details).get("posts") if isinstance(details, str) else None
    except ValueError:
        return None
    return float(value) if isinstance(value, int | float) else None


def alerts(incident_id: int) -> None:
    found = query("incident_alerts", incident_id=incident_id)
    st.markdown("**Its alerts, and why each is here**")
    st.dataframe(found[["alert_id", "kind", "severity", "status", "title", "reason", "detail", "first_seen_at",
                        "last_seen_at"]], hide_index=True, width="stretch",
                 column_config={"first_seen_at": st.column_config.DatetimeColumn("first seen", format="DD MMM HH:mm"),
                                "last_seen_at": st.column_config.DatetimeColumn("last seen", format="DD MMM HH:mm")})
    for _, a in found.iterrows():
        with st.expander(f"Alert #{a['alert_id']} history: {a['title']}"):
            st.markdown(a["explanation"])
            st.dataframe(query("alert_history", alert_id=int(a["alert_id"])), hide_index=True, width="stretch")


def evidence(incident_id: int) -> None:
    st.markdown("**Evidence posts** (each once, with the alerts that show it)")
    st.dataframe(query("incident_evidence", incident_id=incident_id), hide_index=True, width="stretch",
                 column_config={"url": st.column_config.LinkColumn()})


def responses(i: pd.Series, user: Session) -> None:
    st.markdown("**What the agency posted**")
    found = query("incident_responses", incident_id=int(i["incident_id"]))
    if found.empty:
        st.caption("No response recorded yet.")
    else:
        st.dataframe(found, hide_index=True, width="stretch", column_config={"url": st.column_config.LinkColumn()})
    if user.can("work_alerts") and i["status"] != "merged":
        incidentwork.record_response(int(i["incident_id"]))
