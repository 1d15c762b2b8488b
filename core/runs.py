"""What a scheduled job is, and what one run of it did: the records every area hands to the one runner (runner.py).

A `Job` names its run (the run log's `source` and `job` columns, shown on the dashboard's Sources and Admin pages),
its interval, an optional `due` check (False: nothing to do, and no run is recorded) and its `work`, which counts
what it did on a `Progress` as it goes: a run that fails half-way is recorded with the counts it reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Progress:
    """What a run has done so far: items (posts, labels, alerts, ...), warnings, quarantined rows, and details."""

    items: int = 0
    warnings: int = 0
    quarantined: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, items: int = 0, warnings: int = 0, quarantined: int = 0) -> None:
        self.items += items
        self.warnings += warnings
        self.quarantined += quarantined

    def note(self, details: dict[str, Any]) -> None:
        """Figures shown with the run (a later value of a key replaces the earlier one)."""
        self.details.update(details)

    def report(self, details: dict[str, Any], items: str, warnings: str = "failed") -> None:
        """A job that returns a dict of counts: `items` names the count shown as the run's items."""
        self.add(int(details.get(items, 0) or 0), int(details.get(warnings, 0) or 0))
        self.note(details)


def always() -> bool:
    return True


@dataclass(frozen=True)
class Job:
    name: str  # the scheduler's id, e.g. "collect:rss", "alerts:detect"
    source: str  # the run log's source column (a source's name, "classify", "alerts", ...)
    kind: str  # the run log's job column ("collect", "classify", "detect", ...)
    every: float  # seconds between runs
    work: Callable[[Progress], None]
    due: Callable[[], bool] = always  # checked first: False means nothing to do, and no run is recorded


@dataclass(frozen=True)
class Run:
    """One finished run, as recorded: status 'ok' or 'error' (with the message)."""

    source: str
    job: str
    status: str
    items: int = 0
    warnings: int = 0
    quarantined: int = 0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"
