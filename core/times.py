"""Time values as the project reads them: aware UTC, parsed from whatever a platform or file sent."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from dateutil import parser as dateparser


def utc(value: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(value: Any) -> datetime:
    """ISO 8601, RFC 2822, most human formats, or a Unix epoch in seconds / milliseconds; naive means UTC."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"not a time: {value!r}")
        return datetime.fromtimestamp(number / 1000 if abs(number) > 1e11 else number, UTC)
    if isinstance(value, str):
        return utc(dateparser.parse(value))
    raise ValueError(f"not a time: {value!r}")
