"""The overview's live part: every query of one refresh fetched in parallel, then tiles and breakdowns drawn."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import alerting, incidenting
from dashboard.data import client
from dashboard.guard import loading
from storage.client import URL_ENV

BUCKET_MINUTES = {6: 15, 24: 60, 72: 180}


@dataclass(frozen=True)
class Live:
    tiles: pd.Series
    incidents: incidenting.Summary  # open ones, and the last 7 days' response figures
    breakdown: pd.DataFrame  # bucket, series (watch or topic), sentiment, posts
    topics: pd.DataFrame  # rising topics: 3 h against the 24 h before
    claims: pd.DataFrame  # known claims matched in 6 h
    narratives: pd.DataFrame  # narratives seen in 6 h


def requests(now: datetime, by: str, hours: int) -> dict[str, tuple[str, dict[str, Any]]]:
    since, bucket = now - timedelta(hours=hours), BUCKET_MINUTES.get(hours, 60)
    wanted: dict[str, tuple[str, dict[str, Any]]] = {
        "tiles": ("overview_tiles", {"now": now}),
        "breakdown": ("sentiment_volume" if by == "watch" else "topic_volume",
                      {"since": since, "until": now, "bucket_minutes": bucket}),
        "topics": ("rising_topics", {"now": now, "hours": 3, "baseline_hours": 24}),
        "claims": ("claim_activity", {"now": now, "hours": 6, "limit": 8}),
        "incidents_open": ("incidents", {"status": incidenting.OPEN, "limit": 500}),
        "incidents_week": ("incident_response_times", {"since": now - timedelta(days=7), "until": now}),
        "narratives": ("narratives", {"since": now - timedelta(hours=6), "until": now, "limit": 8}),
    }
    return wanted


@st.cache_data(ttl=30, show_spinner=False, max_entries=50)
def _fetch(url: str, wanted: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    """Concurrent requests: a refresh waits for the slowest query, not for their sum."""
    service = client()
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        futures = {key: pool.submit(service.query, name, **params) for key, (name, params) in wanted.items()}
        return {key: future.result() for key, future in futures.items()}


@loading
def fetch(now: datetime, by: str, hours: int) -> Live:
    got = _fetch(os.environ.get(URL_ENV, ""), requests(now, by, hours))
    return Live(got["tiles"].iloc[0], incidenting.summary_of(got["incidents_open"], got["incidents_week"]),
                got["breakdown"].rename(columns={by: "series"}), got["topics"], got["claims"],
                alerting.readable(got["narratives"]))


def tiles(live: Live) -> None:
    row = live.tiles
    posts, usual = int(row["posts_last_hour"]), row["usual_last_hour"]
    cols = st.columns(7)
    change = None if pd.isna(usual) else f"{posts - usual:+.0f} vs usual ({usual:.0f})"
    cols[0].metric("Posts in the last hour", f"{posts:,}", change, delta_color="off",
                   help=f"Usual: the mean of the same hour on the previous {int(row['usual_days'])} day(s) with data.")
    hour, day = row["negative_share_hour"], row["negative_share_day"]
    cols[1].metric("Change vs usual", "—" if pd.isna(usual) or not usual else f"{posts / usual - 1:+.0%}",
                   help="Posts in the last hour against the usual count for this hour of day.")
    cols[2].metric("Negative share (last hour)", "—" if pd.isna(hour) else f"{hour:.0%}",
                   None if pd.isna(hour) or pd.isna(day) else f"{(hour - day) * 100:+.0f} pts vs 24 h",
                   delta_color="inverse", help=f"Of {int(row['labelled_hour'])} labelled posts in the last hour.")
    summary = live.incidents
    late = [f"{summary.high} high" if summary.high else "", f"{summary.overdue} overdue" if summary.overdue else ""]
    cols[3].metric("Open incidents", summary.open, " · ".join(w for w in late if w) or None,
                   delta_color="inverse" if summary.high or summary.overdue else "off",
                   help="Each incident groups the alerts of one situation.")
    cols[4].metric("Median time to acknowledge", summary.median_ack or "—",
                   help="Over incidents of the last 7 days, from opening to the first action by staff.")
    cols[5].metric("Median time to first response", summary.median_response or "—",
                   help="Over incidents of the last 7 days, from opening to the agency's first recorded response.")
    share = summary.within.overall
    cols[6].metric("Within target", "—" if share is None else f"{share:.0%}",
                   help=f"Incidents of the last 7 days, {summary.within.text()} (targets in settings.toml "
                        "[incidents.targets]).")
