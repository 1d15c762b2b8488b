"""The run log as a typed store: every scheduled job's runs (started, finished, status, counts, error).

The runner (runner.py) is its one user; the rows stay those of the `runs` table the dashboard's Sources and
Admin pages and the `source_health` / `runs` queries read. The SQL is Database's (start_run / finish_run /
abandon_unfinished_runs), so another storage kind implements the same three methods.
"""

from __future__ import annotations

from core.runs import Run
from storage.db import Database


class RunLog:
    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, source: str, job: str) -> int:
        """A 'running' row; returns its id for `finish`."""
        return self._db.start_run(source, job)

    def finish(self, run_id: int, run: Run) -> None:
        self._db.finish_run(run_id, run.status, run.items, run.warnings, run.quarantined, run.error,
                            run.details or None)

    def abandon_unfinished(self) -> int:
        """Runs a crash left 'running' become 'interrupted' (their writes were rolled back whole)."""
        return self._db.abandon_unfinished_runs()
