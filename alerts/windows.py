"""The detection grid and seasonal baselines.

Detection evaluates windows that end on a grid of `step_minutes` of the engine clock; a pass evaluates every
grid step since the last pass, so a slow schedule (or the demo's 60x clock) delays an alert but never skips a
step. Baselines compare a window with the same local hour on past weeks (same weekday) or, while there are
too few weeks of history, on past days; windows before the stored history starts do not count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd


def floor_to(moment: datetime, minutes: int) -> datetime:
    seconds = minutes * 60
    epoch = int(moment.replace(tzinfo=UTC).timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC).replace(tzinfo=None)


def steps_between(last: datetime | None, now: datetime, minutes: int, limit: int,
                  catch_up: timedelta = timedelta(hours=24)) -> tuple[list[datetime], int]:
    """The oldest `limit` grid steps in (last, now] not older than `catch_up`, and how many older ones were skipped.

    After a pause (a restart, a slow pass) detection catches up step by step over the next passes, so no window is
    left unevaluated; only steps older than `catch_up` (days of downtime) are skipped. With no last step, or one
    ahead of `now` (the clock went back: a demo's simulated clock, then real time), only the newest step runs."""
    newest = floor_to(now, minutes)
    if last is None or last > newest:
        return [newest], 0
    step = timedelta(minutes=minutes)
    first = max(last + step, floor_to(newest - catch_up, minutes))
    skipped = max(int((first - last - step) / step), 0)
    count = int((newest - first) / step) + 1 if first <= newest else 0
    return [first + step * i for i in range(min(count, limit))], skipped


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone)


def shift_local(moment: datetime, zone: ZoneInfo, days: int) -> datetime:
    """The same local wall-clock time `days` earlier, in naive UTC (right across daylight-saving changes)."""
    wall = local(moment, zone).replace(tzinfo=None) - timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Baseline:
    basis: str  # weekly | daily | none
    windows: tuple[tuple[datetime, datetime], ...]  # (start, end) of each past window that counts


def seasonal(end: datetime, window: timedelta, zone: ZoneInfo, weeks: int, min_weeks: int, days: int,
             data_start: datetime | None) -> Baseline:
    """Past windows at the same local time: weeks when there are enough of them, else days."""
    def covered(lags: Iterable[int]) -> tuple[tuple[datetime, datetime], ...]:
        ends = [shift_local(end, zone, lag) for lag in lags]
        return tuple((e - window, e) for e in ends if data_start is not None and e - window >= data_start)

    weekly = covered(7 * k for k in range(1, weeks + 1))
    if weeks and len(weekly) >= min_weeks:
        return Baseline("weekly", weekly)
    daily = covered(range(1, days + 1))
    return Baseline("daily", daily) if daily else Baseline("none", ())


def typical(values: Sequence[float]) -> float:
    """Median of three or more past windows (one past incident does not move it), else their mean."""
    if not values:
        return math.nan
    return float(np.median(values)) if len(values) >= 3 else float(np.mean(values))


def merge_ranges(ranges: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching ranges merged, so no post is counted twice."""
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


class BucketSums:
    """Window sums over per-bucket counts of many series, by cumulative sums on a regular grid."""

    def __init__(self, frame: pd.DataFrame, keys: list[str], values: list[str], start: datetime, end: datetime,
                 bucket_minutes: int) -> None:
        self.start, self.step = start, timedelta(minutes=bucket_minutes)
        size = int((end - start) / self.step) + 1
        index = ((frame["bucket"] - start) / self.step).astype(int).to_numpy() if len(frame) else np.array([], int)
        self.series = sorted({tuple(k) for k in frame[keys].itertuples(index=False)}) if len(frame) else []
        column = {s: i for i, s in enumerate(self.series)}
        rows = np.array([column[tuple(k)] for k in frame[keys].itertuples(index=False)], dtype=int)
        self.cum: dict[str, np.ndarray] = {}
        for value in values:
            grid = np.zeros((size + 1, len(self.series)))
            np.add.at(grid, (index + 1, rows), frame[value].to_numpy(dtype=float) if len(frame) else [])
            self.cum[value] = grid.cumsum(axis=0)

    def total(self, value: str, lo: datetime, hi: datetime) -> np.ndarray:
        """Sum of `value` in [lo, hi) for every series (in `self.series` order)."""
        size = self.cum[value].shape[0] - 1
        a = min(max(int((lo - self.start) / self.step), 0), size)
        b = min(max(int((hi - self.start) / self.step), 0), size)
        return self.cum[value][b] - self.cum[value][a]
