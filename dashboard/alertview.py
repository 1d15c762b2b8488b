"""One alert opened: explanation, a chart of its subject around it, evidence posts, history, and the workflow."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Literal

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.alerting import minutes
from dashboard.auth import Session
from dashboard.data import act, flash, query, text
from dashboard.incidenting import incident_line
from dashboard.signin import store

BadgeColor = Literal["red", "orange", "green", "gray"]
SEVERITY_COLOR: dict[str, BadgeColor] = {"high": "red", "medium": "orange", "low": "green"}


def show(alert_id: int, user: Session, wall: bool = False) -> None:
    found = query("alert", alert_id=alert_id)
    if found.empty:
        st.info(f"Alert #{alert_id} no longer exists.")
        return
    alert = found.iloc[0]
    st.subheader(f"#{alert_id} {alert['title']}")
    badges = st.container(horizontal=True)
    badges.badge(f"{alert['severity']} severity", color=SEVERITY_COLOR.get(alert["severity"], "gray"),
                 icon=":material/warning:")
    badges.badge(alert["status"], color="blue", icon=":material/flag:")
    if text(alert["assignee"]):
        badges.badge(f"assigned to {alert['assignee']}", color="violet", icon=":material/person:")
    badges.badge(alert["kind"].replace("_", " "), color="gray")
    cols = st.columns(3)
    cols[0].metric("Seen", f"{alert['occurrences']}×", f"since {alert['first_seen_at']:%d %b %H:%M}",
                   delta_color="off")
    cols[1].metric("Last seen", f"{alert['last_seen_at']:%d %b %H:%M}")
    cols[2].metric("Time to acknowledge", minutes(alert["minutes_to_acknowledge"]) or "not yet")
    st.markdown(alert["explanation"])
    part_of = incident_line(alert_id)
    if part_of:
        st.info(part_of + " Work the incident: its workflow covers this alert.", icon=":material/crisis_alert:")
    for link in json.loads(text(alert["links"]) or "[]"):
        st.markdown(f"- [{link['title']}]({link['url']})")
    if user.can("work_alerts"):
        workflow(alert)
    st.altair_chart(charts.styled(context_chart(alert), wall), width="stretch")
    evidence = query("alert_evidence", alert_id=alert_id)
    st.markdown("**Evidence posts**")
    st.dataframe(evidence, hide_index=True, width="stretch", column_config={"url": st.column_config.LinkColumn()})
    st.markdown("**History**")
    st.dataframe(query("alert_history", alert_id=alert_id), hide_index=True, width="stretch")


def context_chart(alert: pd.Series) -> alt.LayerChart:
    """The alert's subject over the 12 hours before it until now, the alert's span shaded."""
    since, until = alert["first_seen_at"] - timedelta(hours=12), alert["last_seen_at"] + timedelta(hours=1)
    topic, watch = text(alert["topic"]), text(alert["watch"])
    if topic:
        frame = query("topic_volume", since=since, until=until, bucket_minutes=30)
        frame = frame[frame["topic"] == topic]
    else:
        frame = query("sentiment_volume", since=since, until=until, bucket_minutes=30)
        frame = frame[frame["watch"] == watch] if watch else frame
    frame = frame.groupby(["bucket", "sentiment"], as_index=False)["posts"].sum()
    span = pd.DataFrame({"start": [alert["first_seen_at"]], "end": [alert["last_seen_at"]]})
    shade = alt.Chart(span).mark_rect(opacity=0.15, color=charts.SEVERITY.get(alert["severity"], "#999")).encode(
        x="start:T", x2="end:T")
    subject = topic or watch or "all posts"
    return (shade + charts.timeline(frame)).properties(title=f"{subject}, by sentiment (alert span shaded)")


def workflow(alert: pd.Series) -> None:
    """Acknowledge, assign, resolve with a note, dismiss as noise, reopen: each recorded with who and when."""
    alert_id, status = int(alert["alert_id"]), alert["status"]
    if status in ("resolved", "dismissed"):
        if st.button("Reopen", icon=":material/undo:") and act("alert_reopen", alert_id=alert_id):
            flash(f"Alert #{alert_id} reopened.")
        return
    ack, assign, resolve, dismiss = st.columns(4)
    if status == "new" and ack.button("Acknowledge", type="primary", icon=":material/check:") \
            and act("alert_acknowledge", alert_id=alert_id):
        flash(f"Alert #{alert_id} acknowledged.")
    with assign.popover("Assign", icon=":material/person_add:"):
        staff = sorted(u.username for u in store().users().values() if u.can("work_alerts"))
        who = st.selectbox("Assign to", staff, key=f"assignee-{alert_id}")
        if st.button("Assign", key=f"assign-{alert_id}") and act("alert_assign", alert_id=alert_id, assignee=who):
            flash(f"Alert #{alert_id} assigned to {who}.")
    with resolve.popover("Resolve", icon=":material/task_alt:"):
        note = st.text_area("What was done", key=f"note-{alert_id}")
        url = st.text_input("Link to the response (optional)", key=f"url-{alert_id}")
        if st.button("Resolve", key=f"resolve-{alert_id}") and act("alert_resolve", alert_id=alert_id, note=note,
                                                                   response_url=url or None):
            flash(f"Alert #{alert_id} resolved.")
    if dismiss.button("Dismiss as noise", icon=":material/block:") and act("alert_dismiss", alert_id=alert_id,
                                                                          note="dismissed as noise"):
        flash(f"Alert #{alert_id} dismissed as noise.")
