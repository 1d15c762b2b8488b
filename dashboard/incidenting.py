"""The incidents area as the dashboard sees it: the queue, overdue incidents, the team's figures for Overview, and
each user's "since you were last here" (storage/incident_queries.py; targets from the settings the engine uses).

Targets are judged on the wall clock (they measure people); windows of incidents on the engine clock (simulated in
the demo), as their signals are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from alerts.incident_targets import Share, overdue, share_of
from dashboard.alerting import minutes
from dashboard.data import act, query, settings
from settings import IncidentTargets

OPEN = ["new", "acknowledged", "assigned"]
STATUSES = [*OPEN, "resolved", "dismissed", "merged"]
SEVERITIES = ["high", "medium", "low"]
VISIT_KEY = "civicradar_incidents_previous_visit"


def wall() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def targets() -> IncidentTargets:
    return settings().incidents.targets


def overdue_words(row: pd.Series | dict[str, Any], now: datetime | None = None) -> str:
    """'acknowledge, respond' for the targets an open incident has passed unmet; '' when none."""
    return ", ".join(d.target for d in overdue(row, targets(), now or wall()))


def with_overdue(frame: pd.DataFrame) -> pd.DataFrame:
    now = wall()
    return frame.assign(overdue=[overdue_words(r, now) for _, r in frame.iterrows()]) if len(frame) \
        else frame.assign(overdue=pd.Series(dtype=str))


def queue(statuses: list[str], severities: list[str], watch: str | None) -> pd.DataFrame:
    found = with_overdue(query("incidents", status=statuses or None, limit=500))
    if severities:
        found = found[found["severity"].isin(severities)]
    if watch:
        found = found[[watch in list(w if w is not None else []) for w in found["watches"]]]
    order = found["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return found.assign(_order=order).sort_values(["_order", "last_seen_at"], ascending=[True, False]).drop(
        columns="_order")


@dataclass(frozen=True)
class Summary:
    open: int
    high: int
    overdue: int
    median_ack: str | None  # over the last 7 days
    median_response: str | None  # opening to the first recorded response, over the last 7 days
    within: Share  # targets met over the last 7 days


def summary_of(open_now: pd.DataFrame, week: pd.DataFrame) -> Summary:
    """From `incidents` (open ones) and `incident_response_times` over the last 7 days."""
    late = sum(1 for _, r in open_now.iterrows() if overdue(r, targets(), wall()))
    ack, answered = (week[c].dropna() if len(week) else pd.Series(dtype=float)
                     for c in ("minutes_to_acknowledge", "minutes_to_first_response"))
    return Summary(len(open_now), int((open_now["severity"] == "high").sum()) if len(open_now) else 0, late,
                   minutes(float(ack.median())) if len(ack) else None,
                   minutes(float(answered.median())) if len(answered) else None, share_of(week, targets(), wall()))


def summary(engine_now: datetime) -> Summary:
    return summary_of(query("incidents", status=OPEN, limit=500),
                      query("incident_response_times", since=engine_now - timedelta(days=7), until=engine_now))


def previous_visit() -> datetime | None:
    """The signed-in user's visit before this session's first look at the page (recorded once per session)."""
    if VISIT_KEY not in st.session_state:
        done = act("incident_visit")
        previous = (done or {}).get("previous")
        st.session_state[VISIT_KEY] = datetime.fromisoformat(previous) if isinstance(previous, str) else None
    found: datetime | None = st.session_state[VISIT_KEY]
    return found


def since(previous: datetime | None) -> pd.DataFrame:
    """Incidents opened, escalated or overdue since `previous` (all open ones on a first visit), with why."""
    found = with_overdue(query("incidents", active_since=previous, limit=500))
    if previous is None:
        return found[found["status"].isin(OPEN)].assign(why="open")
    now, reasons = wall(), []
    for _, r in found.iterrows():
        why = [w for w, hit in (("opened", _after(r["opened_at"], previous)),
                                ("escalated", _after(r["escalated_at"], previous)),
                                ("overdue", any(d.deadline >= previous for d in overdue(r, targets(), now))))
               if hit]
        reasons.append(", ".join(why))
    found = found.assign(why=reasons)
    return found[found["why"] != ""]


def _after(value: Any, moment: datetime) -> bool:
    return value is not None and not pd.isna(value) and pd.Timestamp(value).to_pydatetime() >= moment


def with_incident(alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts with a link to the incident each is in (empty for alerts raised before incidents existed)."""
    if alerts.empty:
        return alerts.assign(incident=None)
    placed = query("alert_incident").set_index("alert_id")["incident_id"]
    return alerts.assign(incident=[f"incidents?incident={int(placed[a])}" if a in placed.index else None
                                   for a in alerts["alert_id"]])


def incident_line(alert_id: int) -> str | None:
    """'Part of incident #N: why', as markdown with a link, for an opened alert."""
    found = query("alert_incident", alert_id=alert_id)
    if found.empty:
        return None
    row = found.iloc[0]
    n = int(row["incident_id"])
    return (f"Part of [incident #{n}: {row['headline']}](incidents?incident={n}) ({row['incident_status']}). "
            f"Why here: {row['detail']}.")
