"""The alerts area as the dashboard sees it: its named queries and actions (storage/alert_queries.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.data import available


@dataclass(frozen=True)
class Summary:
    open: int
    high: int
    median_ack: str | None


def ready() -> bool:
    return available("alerts")


def summary(now: datetime) -> Summary | None:
    """Open alerts and the median time to acknowledge, or None while the engine serves no alerts."""
    if not ready():
        return None
    return None


def narratives(now: datetime, hours: int) -> None:
    """Emerging narratives (near-duplicate bursts) come from the alerts area's detectors."""
    import streamlit as st

    if not ready():
        st.info("Emerging narratives come from the alert detectors, which this engine does not run yet. "
                "Known claims below are matched by the classifiers.")
        return
