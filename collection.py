"""Collection as scheduled jobs: one job per enabled source, run through the one runner (runner.py).

A run pages until the source has nothing more (or `MAX_PAGES_PER_RUN`), each page committed with its cursor in one
transaction; what it stored, quarantined and warned about is counted on the run, with the source's own figures
(`Batch.stats`) and its rate-limit waits as details. A source whose collector cannot be built records a failed run
each time it is due, with the reason; one bad source never stops the others.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from collectors import registry
from collectors.accounts import with_directions
from collectors.base import Batch, Collector, CollectorError, Watch, WatchMatcher
from core.runs import Job, Progress, Run
from settings import Settings, SettingsError
from storage.db import Database

MAX_PAGES_PER_RUN = 100
CLAIMS_STORED = "claims_stored"  # a run's detail: fact-check claims stored (the rest of its items are posts)


@dataclass(frozen=True)
class RunSummary:
    """One collection run, as `civicradar collect` prints it."""

    source: str
    status: str
    posts: int = 0
    quarantined: int = 0
    warnings: int = 0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    claims: int = 0

    @classmethod
    def of(cls, run: Run) -> RunSummary:
        claims = int(run.details.get(CLAIMS_STORED, 0))
        return cls(run.source, run.status, run.items - claims, run.quarantined, run.warnings, run.error,
                   run.details, claims)

    def line(self) -> str:
        if self.status != "ok":
            return f"{self.source}: {self.status}: {self.error}"
        claims = f"{self.claims} claims, " if self.claims else ""
        return f"{self.source}: {self.posts} posts, {claims}{self.quarantined} quarantined, {self.warnings} warnings"


class Collection:
    """The enabled sources' collectors, built once; `job(name)` is a source's scheduled job."""

    def __init__(self, s: Settings, db: Database, stopping: threading.Event) -> None:
        self.settings, self.db, self.stopping = s, db, stopping
        watches = tuple(Watch(**w.model_dump()) for w in s.watches)
        self.matcher = WatchMatcher(watches)
        self.context = registry.Context(base_dir=s.base_dir, watches=watches,
                                        contact_key=s.local_secret("pseudonym.key").encode(), accounts=s.accounts)
        self.collectors: dict[str, Collector] = {}
        self.broken: dict[str, str] = {}
        for name, source in s.enabled_sources().items():
            try:
                self.collectors[name] = registry.build(name, source, self.context)
            except (CollectorError, SettingsError) as e:
                self.broken[name] = str(e)  # one bad source never stops the others; shown in the run log

    def jobs(self) -> list[Job]:
        return [self.job(name) for name in (*self.collectors, *self.broken)]

    def job(self, name: str) -> Job:
        return Job(f"collect:{name}", name, "collect", self.settings.sources[name].every_seconds,
                   lambda progress: self.work(name, progress))

    def work(self, name: str, progress: Progress) -> None:
        """Pages until the source has nothing more; a failure keeps the pages already committed, and their counts."""
        if name in self.broken:
            raise CollectorError(self.broken[name])
        collector = self.collectors[name]
        waited = rate_limit_counters(collector)
        try:
            for _ in range(MAX_PAGES_PER_RUN):
                if not self._page(name, collector, progress) or self.stopping.is_set():
                    break
        finally:
            waits, seconds = (a - b for a, b in zip(rate_limit_counters(collector), waited, strict=True))
            if waits:  # shown on the dashboard's Sources page
                progress.note({"rate_limit_waits": int(waits), "rate_limit_seconds": round(seconds, 1)})

    def _page(self, name: str, collector: Collector, progress: Progress) -> bool:
        """One page fetched and stored with its cursor; True if the source has more."""
        batch = collector.fetch(self.db.get_cursor(name))
        batch.posts = with_directions(self._with_watches(batch), self.settings.accounts)
        written = self.db.write_batch(name, batch)
        progress.add(written.posts + written.claims, len(batch.warnings), written.quarantined)
        progress.note(batch.stats)
        if written.claims:
            progress.note({CLAIMS_STORED: int(progress.details.get(CLAIMS_STORED, 0)) + written.claims})
        return batch.more

    def _with_watches(self, batch: Batch) -> list[Any]:
        return [p if p.watches else replace(p, watches=self.matcher.match(p.text, p.author_handle))
                for p in batch.posts]


def rate_limit_counters(collector: Collector) -> tuple[float, float]:
    """Waits and seconds waited on rate limits so far (collectors built on BaseCollector count them)."""
    return float(getattr(collector, "rate_limit_waits", 0)), float(getattr(collector, "rate_limit_seconds", 0.0))
