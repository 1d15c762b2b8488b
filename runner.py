"""The one way a scheduled job runs: a recorded run around its work, errors translated at this boundary.

Every job of the engine (collect, classify, detect, incidents, notify, digest, retention, ...) is a `core.runs.Job`
and goes through `Runner.run`: when the job is due, a run is started in the run log (storage.runs.RunLog), the job's
work counts what it does on a `Progress`, and the run is finished with its status, counts, warnings and details.
A `CivicRadarError` is recorded with its own message (it says what to do); anything else is a bug, logged with its
traceback and recorded as such. Either way the run is recorded, nothing is raised, and the schedule keeps going.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from core.errors import CivicRadarError
from core.runs import Job, Progress, Run
from storage.runs import RunLog

log = logging.getLogger("civicradar.runner")
Scheduled = tuple[str, Callable[[], Run | None], float]  # (scheduler id, function, interval seconds)


class Runner:
    def __init__(self, runs: RunLog) -> None:
        self.runs = runs

    def run(self, job: Job) -> Run | None:
        """One run of `job` if it is due (None if not): recorded, never raising."""
        if not _due(job):
            return None
        try:
            run_id = self.runs.start(job.source, job.kind)
        except CivicRadarError as e:  # e.g. the disk is full: nothing can be recorded; the next run tries again
            log.error("%s: could not start a run: %s", job.name, e)
            return _ended(job, Progress(), str(e))
        progress = Progress()
        try:
            job.work(progress)
            run = Run(job.source, job.kind, "ok", progress.items, progress.warnings, progress.quarantined, None,
                      progress.details)
        except CivicRadarError as e:
            log.error("%s: %s", job.name, e)
            run = _ended(job, progress, str(e))
        except Exception as e:  # a bug must not stop the schedule: recorded loudly
            log.exception("%s: unexpected failure", job.name)
            run = _ended(job, progress, f"unexpected {type(e).__name__}: {e} (a bug; see the log)")
        self._finish(run_id, job, run)
        return run

    def _finish(self, run_id: int, job: Job, run: Run) -> None:
        try:
            self.runs.finish(run_id, run)
        except CivicRadarError as e:  # still no space: the row stays 'running', marked interrupted on restart
            log.error("%s: could not record the run: %s", job.name, e)

    def scheduled(self, jobs: Iterable[Job]) -> list[Scheduled]:
        """(id, function, interval) for the scheduler: each call is one `run` of the job."""
        return [(job.name, _bound(self.run, job), job.every) for job in jobs]


def _due(job: Job) -> bool:
    """A check that fails counts as due: the work meets the same problem, and its run records it."""
    try:
        return job.due()
    except Exception:
        log.warning("%s: the check whether it is due failed; running it", job.name, exc_info=True)
        return True


def _ended(job: Job, progress: Progress, error: str) -> Run:
    return Run(job.source, job.kind, "error", progress.items, progress.warnings, progress.quarantined, error,
               progress.details)


def _bound(run: Callable[[Job], Run | None], job: Job) -> Callable[[], Run | None]:
    return lambda: run(job)
