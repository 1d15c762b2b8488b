"""Source health from run records: status, counts, rate-limit waits, and X spend against its cap."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

STATUS_ICON = {"ok": "✓ ok", "running": "… running", "error": "✗ error", "interrupted": "! interrupted"}
# run-record keys (runs.details) the collectors write for paid APIs: spend so far this month and the cap
SPEND_KEYS, CAP_KEYS = ("spend_usd", "month_spend_usd"), ("cap_usd", "monthly_cap_usd", "spend_cap_usd")


def details(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def first(found: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        if isinstance(found.get(key), int | float):
            return float(found[key])
    return None


def table(overview: pd.DataFrame) -> pd.DataFrame:
    """One row per source and job, ready to show."""
    parsed = overview["last_details"].map(details)
    return pd.DataFrame({
        "source": overview["source"], "job": overview["job"],
        "status": overview["last_status"].map(lambda s: STATUS_ICON.get(s, s)),
        "last run": overview["last_run"], "items (last run)": overview["last_items"],
        "runs (24 h)": overview["runs"], "failed (24 h)": overview["failed_runs"], "items (24 h)": overview["items"],
        "warnings (24 h)": overview["warnings"], "quarantined (24 h)": overview["quarantined"],
        "rate-limit waits (24 h)": overview["rate_limit_waits"],
        "waited s (24 h)": overview["rate_limit_wait_seconds"],
        "spend (USD)": parsed.map(lambda d: first(d, SPEND_KEYS)),
        "cap (USD)": parsed.map(lambda d: first(d, CAP_KEYS)),
        "last error": overview["last_error"],
    })
