"""Analysts' read-only SQL: one SELECT, a row limit, a time limit, nothing outside the database.

The engine's DuckDB instance runs with `enable_external_access = false` and `lock_configuration = true`
(see `Database.lock_down`), so no statement can read local files or URLs, attach databases, install or load
extensions, or change settings. Here we also accept only a single SELECT, run it in a transaction that is
always rolled back (so even `nextval` leaves no trace), stop it at the time limit and cut it at the row limit.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from core.errors import CivicRadarError
from storage.db import Database


class SqlRejected(CivicRadarError, ValueError):
    """The statement is not allowed; the message says why."""


@dataclass(frozen=True)
class SqlResult:
    table: pa.Table
    truncated: bool


def check(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise SqlRejected(f"could not parse the statement: {e}") from e
    if len(statements) != 1:
        raise SqlRejected(f"send exactly one statement (got {len(statements)})")
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name
        raise SqlRejected(f"only read queries (SELECT / WITH ... SELECT) may run here, not {kind}")


def run(db: Database, sql: str, row_limit: int, timeout_seconds: float) -> SqlResult:
    check(sql)
    cursor = db.new_cursor()
    timer = threading.Timer(timeout_seconds, cursor.interrupt)
    timer.start()
    try:
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        reader = cursor.sql(sql).to_arrow_reader(batch_size=min(row_limit + 1, 100_000))
        batches, rows = [], 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if rows > row_limit:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema)
    except duckdb.InterruptException as e:
        raise SqlRejected(f"the query ran longer than the {timeout_seconds:g} s limit and was stopped") from e
    except duckdb.Error as e:
        raise SqlRejected(str(e).splitlines()[0]) from e
    finally:
        timer.cancel()
        with contextlib.suppress(duckdb.Error):  # the transaction may already be aborted by an error above
            cursor.execute("ROLLBACK")
        cursor.close()
    return SqlResult(table.slice(0, row_limit), table.num_rows > row_limit)
