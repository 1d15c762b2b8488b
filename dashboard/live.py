"""The overview's live parts: tiles and breakdowns, each from one or two named queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from dashboard import alerting
from dashboard.data import query

BUCKET_MINUTES = {6: 15, 24: 60, 72: 180}


def tiles(now: datetime) -> None:
    row = query("overview_tiles", now=now).iloc[0]
    posts, usual = int(row["posts_last_hour"]), row["usual_last_hour"]
    cols = st.columns(5)
    change = None if pd.isna(usual) else f"{posts - usual:+.0f} vs usual ({usual:.0f})"
    cols[0].metric("Posts in the last hour", f"{posts:,}", change, delta_color="off",
                   help=f"Usual: the mean of the same hour on the previous {int(row['usual_days'])} day(s) with data.")
    hour, day = row["negative_share_hour"], row["negative_share_day"]
    cols[1].metric("Change vs usual", "—" if pd.isna(usual) or not usual else f"{posts / usual - 1:+.0%}",
                   help="Posts in the last hour against the usual count for this hour of day.")
    cols[2].metric("Negative share (last hour)", "—" if pd.isna(hour) else f"{hour:.0%}",
                   None if pd.isna(hour) or pd.isna(day) else f"{(hour - day) * 100:+.0f} pts vs 24 h",
                   delta_color="inverse", help=f"Of {int(row['labelled_hour'])} labelled posts in the last hour.")
    summary = alerting.summary(now)
    if summary is None:
        cols[3].metric("Open alerts", "—", help="Alerts are not available from this engine yet.")
        cols[4].metric("Median time to acknowledge", "—", help="Alerts are not available from this engine yet.")
        return
    cols[3].metric("Open alerts", summary.open, f"{summary.high} high or critical" if summary.high else None,
                   delta_color="inverse" if summary.high else "off")
    cols[4].metric("Median time to acknowledge", summary.median_ack or "—",
                   help="Over alerts acknowledged in the last 7 days.")


def breakdown(by: str, since: datetime, until: datetime, bucket_minutes: int) -> pd.DataFrame:
    """Posts per bucket, series (watch or topic) and sentiment."""
    name = "sentiment_volume" if by == "watch" else "topic_volume"
    return query(name, since=since, until=until, bucket_minutes=bucket_minutes).rename(columns={by: "series"})


def rising(now: datetime) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Rising topics (3 h against the 24 h before), claims matched in 6 h, narratives seen in 6 h (None: no alerts)."""
    topics = query("rising_topics", now=now, hours=3, baseline_hours=24)
    claims = query("claim_activity", now=now, hours=6, limit=8)
    return topics, claims, alerting.narratives_frame(now, 6, limit=8)


def window(now: datetime, hours: int) -> tuple[datetime, int]:
    return now - timedelta(hours=hours), BUCKET_MINUTES.get(hours, 60)
