"""The digest's inbox lines: per channel, what residents sent in the day, the share answered (of what needed an
answer) and the median time to answer (from `inbox_stats`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from alerts.digest_incidents import duration

NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon", "reddit": "Reddit", "email": "E-mail",
         "webform": "Web form", "sms": "SMS", "open311": "311", "facebook": "Facebook", "instagram": "Instagram"}


def rows(stats: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per channel, busiest first, with the figures as text."""
    return [{"channel": NAMES.get(r["channel"], r["channel"]), "received": int(r["items"]), "open": int(r["open"]),
             "answered": int(r["answered"]),
             "share": "n/a" if pd.isna(r["share_answered"]) else f"{100 * r['share_answered']:.0f} %",
             "median": duration(r["median_minutes_to_answer"])} for r in stats.to_dict("records")]
