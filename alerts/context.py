"""What every detector gets for one pass: a read-only store, the steps to evaluate, the settings and the zone."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TypeVar
from zoneinfo import ZoneInfo

import pandas as pd

from alerts import registry
from alerts.model import Evidence
from settings import AlertSettings, StrictModel
from storage.alert_stores import AlertReader

EVIDENCE_POSTS = 5
M = TypeVar("M", bound=StrictModel)


@dataclass(frozen=True)
class Context:
    reader: AlertReader  # read-only: the detectors' scans, never a connection
    steps: tuple[datetime, ...]  # window ends to evaluate, oldest first (engine clock, naive UTC)
    settings: AlertSettings
    zone: ZoneInfo
    data_start: datetime | None  # the oldest stored post: earlier baseline windows are missing, not quiet

    @cached_property
    def rules(self) -> registry.Rules:
        return registry.Rules(self.settings)

    def rule(self, model: type[M]) -> M:
        """A detector's settings: `ctx.rule(VolumeRule)` is [alerts.volume], typed."""
        return self.rules(model)

    @property
    def bucket_minutes(self) -> int:
        """The coarsest bucket that every registered detector's windows and the step are a whole number of."""
        windows = [w for d in registry.detectors() for w in d.windows(self.rules)]
        return math.gcd(*windows, self.settings.step_minutes, 60)


def evidence_from(frame: pd.DataFrame, note: str | None = None, limit: int = EVIDENCE_POSTS) -> tuple[Evidence, ...]:
    """Rows with platform, post_id, created_at, text (and url) as evidence records."""
    rows = frame.head(limit).to_dict("records")
    return tuple(
        Evidence(str(r["platform"]), str(r["post_id"]), _moment(r.get("created_at")), str(r.get("text") or ""),
                 None if pd.isna(r.get("url")) else str(r.get("url")), note)
        for r in rows
    )


def _moment(value: object) -> datetime | None:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return None
    return pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]
