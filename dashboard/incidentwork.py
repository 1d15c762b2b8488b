"""Working an incident: acknowledge, assign, resolve, dismiss, reopen; record a response; merge and split.

Every button goes through `dashboard.data.act` (the role is checked in this server process, the service audits the
action) and reruns the page with the outcome on top.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard.auth import Session
from dashboard.data import act, flash, query
from dashboard.incidenting import OPEN
from dashboard.signin import store

CHANNELS = ["x", "bluesky", "mastodon", "facebook", "instagram", "sms", "email", "web", "press", "other"]


def acknowledge(incident_id: int) -> None:
    if act("incident_acknowledge", incident_id=incident_id):
        flash(f"Incident #{incident_id} acknowledged.")


def assign(incident_id: int, who: str) -> None:
    user = store().users().get(who)
    email = user.email if user is not None and user.email else None
    if act("incident_assign", incident_id=incident_id, assignee=who, assignee_email=email):
        flash(f"Incident #{incident_id} assigned to {who}.")


def workflow(i: pd.Series, user: Session) -> None:
    incident_id, status = int(i["incident_id"]), i["status"]
    if status in ("resolved", "dismissed"):
        if st.button("Reopen", icon=":material/undo:", key=f"reopen-{incident_id}") \
                and act("incident_reopen", incident_id=incident_id):
            flash(f"Incident #{incident_id} reopened.")
        return
    ack, mine, assign_to, resolve, dismiss = st.columns(5)
    if status == "new" and ack.button("Acknowledge", type="primary", icon=":material/check:",
                                      key=f"ack-{incident_id}"):
        acknowledge(incident_id)
    if i["assignee"] != user.username and mine.button("Assign to me", icon=":material/person:",
                                                      key=f"mine-{incident_id}"):
        assign(incident_id, user.username)
    with assign_to.popover("Assign", icon=":material/person_add:"):
        staff = sorted(u.username for u in store().users().values() if u.can("work_alerts"))
        who = st.selectbox("Assign to", staff, key=f"assignee-{incident_id}")
        if st.button("Assign", key=f"assign-{incident_id}"):
            assign(incident_id, who)
    with resolve.popover("Resolve", icon=":material/task_alt:"):
        note = st.text_area("What was done", key=f"note-{incident_id}")
        if st.button("Resolve", key=f"resolve-{incident_id}") and act("incident_resolve", incident_id=incident_id,
                                                                      note=note):
            flash(f"Incident #{incident_id} resolved; its alerts with it.")
    if dismiss.button("Dismiss as noise", icon=":material/block:", key=f"dismiss-{incident_id}") \
            and act("incident_dismiss", incident_id=incident_id, note="dismissed as noise"):
        flash(f"Incident #{incident_id} dismissed as noise; its alerts with it.")


def record_response(incident_id: int) -> None:
    """'We responded': channel, link and time, kept with the incident (its first response sets the figure)."""
    with st.popover("Record a response", icon=":material/campaign:"):
        channel = st.selectbox("Channel", CHANNELS, key=f"channel-{incident_id}")
        url = st.text_input("Link to the post (optional)", key=f"url-{incident_id}")
        note = st.text_input("Note (optional)", key=f"rnote-{incident_id}")
        now = datetime.now(UTC)
        day = st.date_input("Posted on (UTC)", now.date(), key=f"rday-{incident_id}")
        clock = st.time_input("at (UTC)", now.time().replace(second=0, microsecond=0), key=f"rtime-{incident_id}")
        if st.button("Record", key=f"record-{incident_id}") and act(
                "incident_record_response", incident_id=incident_id, channel=channel, url=url or None,
                note=note or None, posted_at=datetime.combine(day, clock).isoformat()):
            flash(f"Response on {channel} recorded for incident #{incident_id}.")


def regroup(i: pd.Series) -> None:
    """Correct the grouping: merge another incident into this one, or split some alerts off."""
    incident_id = int(i["incident_id"])
    with st.expander("Correct the grouping (merge, split)"):
        others = query("incidents", status=OPEN, limit=200)
        others = others[others["incident_id"] != incident_id]
        left, right = st.columns(2)
        if others.empty:
            left.caption("No other open incident to merge in.")
        else:
            names: dict[int, str] = {int(r["incident_id"]): f"#{r['incident_id']} {r['headline']}"
                                     for _, r in others.iterrows()}
            other = left.selectbox("Merge into this one", list(names), format_func=lambda n: names[n],
                                   key=f"merge-{incident_id}")
            why = left.text_input("Why (optional)", key=f"merge-why-{incident_id}")
            if other is not None and left.button("Merge", key=f"merge-go-{incident_id}") and act(
                    "incident_merge", incident_id=incident_id, other_id=int(other), note=why or None):
                flash(f"Incident #{other} merged into #{incident_id}.")
        held = [int(a["alert_id"]) for a in i["alert_list"]]
        titles: dict[int, str] = {int(a["alert_id"]): f"#{a['alert_id']} {a['title']}" for a in i["alert_list"]}
        picked = right.multiselect("Split these alerts off", held, format_func=lambda n: titles[n],
                                   key=f"split-{incident_id}")
        why = right.text_input("Why (optional)", key=f"split-why-{incident_id}")
        if right.button("Split off", key=f"split-go-{incident_id}", disabled=not picked):
            done = act("incident_split", incident_id=incident_id, alert_ids=[str(a) for a in picked], note=why or None)
            if done:
                flash(f"Alerts split off into incident #{done['new_incident_id']}.")


def one_click(row: pd.Series, user: Session) -> None:
    """The 'since you were last here' buttons: acknowledge, or take it, in one click."""
    incident_id = int(row["incident_id"])
    ack, mine = st.columns(2)
    if row["status"] == "new" and ack.button("Acknowledge", key=f"since-ack-{incident_id}", type="primary"):
        acknowledge(incident_id)
    if row["status"] in OPEN and row["assignee"] != user.username and mine.button(
            "Assign to me", key=f"since-mine-{incident_id}"):
        assign(incident_id, user.username)
