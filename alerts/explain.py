"""Plain-language pieces of alert explanations: local times, counts, ratios, subjects, quoted snippets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.windows import local


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """'9:05 am' in the agency's time zone."""
    t = local(moment, zone)
    return f"{t.hour % 12 or 12}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"


def day_and_clock(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue 3 Nov, 9:05 am'."""
    t = local(moment, zone)
    return f"{t:%a} {t.day} {t:%b}, {clock(moment, zone)}"


def hour_phrase(moment: datetime, zone: ZoneInfo, weekly: bool) -> str:
    """'a Tuesday 9 am' (weekly baselines) or '9 am' (daily ones), for the hour a window ends in."""
    t = local(moment, zone)
    minutes = f":{t.minute:02d}" if t.minute else ""
    hour = f"{t.hour % 12 or 12}{minutes} {'am' if t.hour < 12 else 'pm'}"
    return f"a {t:%A} {hour}" if weekly else hour


def number(value: float) -> str:
    """Counts as integers, fractional expectations with one decimal."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def times(ratio: float) -> str:
    return f"{ratio:.1f}x"


def subject(dim: str, key: str) -> str:
    return {"all": "all posts", "watch": f"watch '{key}'", "topic": f"topic '{key}'"}.get(dim, key)


def minutes_phrase(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def snippet(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
