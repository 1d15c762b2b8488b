"""The alerts area as the dashboard sees it: its named queries (storage/alert_queries.py) and narratives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import query

OPEN = ["new", "acknowledged", "assigned"]
STATUSES = [*OPEN, "resolved", "dismissed"]
SEVERITIES = ["high", "medium", "low"]


@dataclass(frozen=True)
class Summary:
    open: int
    high: int
    median_ack: str | None


def minutes(value: float | None) -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{value:.0f} min" if value < 90 else f"{value / 60:.1f} h"


def summary(now: datetime) -> Summary:
    """Open alerts (all), high-severity open ones, and the median time to acknowledge over 7 days."""
    return summary_of(query("alert_team_response"),
                      query("alert_team_response", since=now - timedelta(days=7), until=now))


def summary_of(everything: pd.DataFrame, week: pd.DataFrame) -> Summary:
    """From `alert_team_response` over all time and over the last 7 days."""
    everything, week = everything.set_index("severity"), week.set_index("severity")
    high = int(everything.at["high", "open"]) if "high" in everything.index else 0
    median = week.at["all", "median_minutes_to_acknowledge"] if "all" in week.index else None
    return Summary(int(everything.at["all", "open"]) if "all" in everything.index else 0, high, minutes(median))


def queue(statuses: list[str], severities: list[str], watch: str | None) -> pd.DataFrame:
    found = query("alerts", status=statuses or None, limit=500)
    if severities:
        found = found[found["severity"].isin(severities)]
    if watch:
        found = found[found["watch"] == watch]
    order = found["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return found.assign(_order=order).sort_values(["_order", "last_seen_at"], ascending=[True, False]).drop(
        columns="_order")


def platforms_text(raw: object) -> str:
    try:
        counts = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        counts = {}
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def narratives_frame(now: datetime, hours: int, limit: int = 20) -> pd.DataFrame:
    return readable(query("narratives", since=now - timedelta(hours=hours), until=now, limit=limit))


def readable(narratives: pd.DataFrame) -> pd.DataFrame:
    return narratives.assign(platforms=narratives["platforms"].map(platforms_text))


def narratives(now: datetime, hours: int) -> None:
    """Emerging narratives (near-duplicate bursts) come from the alerts area's narrative detector."""
    found = narratives_frame(now, hours)
    if found.empty:
        st.info(f"No emerging narrative in the last {hours} hours.")
        return
    chart, table = st.columns([2, 3])
    chart.altair_chart(charts.styled(charts.growth_bars(found.assign(recent_posts=found["posts"]), "title")),
                       width="stretch")
    table.dataframe(found[["alert_id", "title", "severity", "status", "posts", "accounts", "growth", "platforms",
                           "first_seen_at"]], hide_index=True, width="stretch",
                    column_config={"growth": st.column_config.NumberColumn(format="%.1f×")})
