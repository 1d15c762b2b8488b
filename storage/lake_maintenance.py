"""Lake maintenance, a scheduled job of the engine (the one writer): small commits' inlined rows flushed to Parquet,
adjacent small files merged, old snapshots expired, and files no snapshot needs deleted, with the orphans that a
killed write leaves behind. Each pass is a job of the one runner (runner.py), recorded as a run (source "lake",
job "lake_maintenance").

DuckLake's maintenance functions are its own (ducklake.select/docs: maintenance). Expiry keeps `keep` of history,
longer than any replica's read; files are deleted only once `delete_after` old, so a reader still scanning a merged
file keeps it.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from core.runs import Job, Progress
from settings import Settings
from storage.db import Database, StorageError
from storage.lake import ALIAS

STEPS = {  # name -> the table function, counted; {older} is a TIMESTAMPTZ expression
    "flushed": f"ducklake_flush_inlined_data('{ALIAS}')",
    "merged": f"ducklake_merge_adjacent_files('{ALIAS}')",
    "expired_snapshots": f"ducklake_expire_snapshots('{ALIAS}', older_than => {{keep}})",
    "deleted_files": f"ducklake_cleanup_old_files('{ALIAS}', older_than => {{delete}})",
    "deleted_orphans": f"ducklake_delete_orphaned_files('{ALIAS}', older_than => {{delete}})",
}


def _before(age: timedelta) -> str:
    return f"now() - to_microseconds({int(age.total_seconds() * 1_000_000)})"


def maintain(con: duckdb.DuckDBPyConnection, keep: timedelta, delete_after: timedelta) -> dict[str, int]:
    """One pass of every step, in order; returns how many rows (files, snapshots) each step reported."""
    done = {}
    for name, call in STEPS.items():
        sql = f"SELECT count(*) FROM {call.format(keep=_before(keep), delete=_before(delete_after))}"
        rows = con.execute(sql).fetchall()  # consumed whole: an unfinished result's autocommit never commits
        done[name] = int(rows[0][0]) if rows else 0
    return done


def job(db: Database, keep: timedelta, delete_after: timedelta, every_seconds: float = 0.0) -> Job:
    """A pass as a job of the one runner (runner.py): a recorded run, source "lake", job "lake_maintenance"."""
    return Job("lake_maintenance", "lake", "lake_maintenance", every_seconds,
               lambda progress: work(db, keep, delete_after, progress))


def work(db: Database, keep: timedelta, delete_after: timedelta, progress: Progress) -> None:
    """One pass under the writer's lock (one writer: never beside a batch's commit); each step's count a detail."""
    try:
        done = db.exclusive(lambda con: maintain(con, keep, delete_after))
    except duckdb.Error as e:
        raise StorageError(f"lake maintenance failed: {str(e).splitlines()[0]}. The lake's data is unchanged by a "
                           "failed step; the next pass tries again") from e
    progress.add(sum(done.values()))
    progress.note(done)


def maintenance_jobs(db: Database, s: Settings) -> list[Job]:
    """The engine's scheduled lake job (none for the embedded DuckDB file)."""
    if db.lake is None:
        return []
    lk = s.storage.lake
    keep, delete_after = timedelta(hours=lk.keep_snapshots_hours), timedelta(hours=lk.delete_files_after_hours)
    return [job(db, keep, delete_after, lk.maintain_every_hours * 3600)]
