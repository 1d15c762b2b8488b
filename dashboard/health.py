"""Source health from run records: status, counts, rate-limit waits, and X spend against its cap."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from core.run_details import CAP_USD, SPEND_USD

STATUS_ICON = {"ok": "✓ ok", "running": "… running", "error": "✗ error", "interrupted": "! interrupted"}


def details(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def number(found: dict[str, Any], key: str) -> float | None:
    """A figure of a run's details (core.run_details names them), or None where the source writes none."""
    value = found.get(key)
    return float(value) if isinstance(value, int | float) else None


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
        "spend (USD)": parsed.map(lambda d: number(d, SPEND_USD)),
        "cap (USD)": parsed.map(lambda d: number(d, CAP_USD)),
        "last error": overview["last_error"],
    })
