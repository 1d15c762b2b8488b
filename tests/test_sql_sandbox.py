"""Analysts' read-only SQL: every escape we could think of is refused, and the database is unchanged."""

import pytest

from collectors.base import Batch
from helpers import make_post
from storage import sandbox
from storage.db import Database


@pytest.fixture
def locked_db(fresh_db: Database, tmp_path) -> Database:
    fresh_db.write_batch("s", Batch([make_post(i) for i in range(10)], "c"))
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    fresh_db.lock_down()
    return fresh_db


def run(db: Database, sql: str, limit: int = 100, timeout: float = 5.0) -> sandbox.SqlResult:
    return sandbox.run(db, sql, limit, timeout)


ESCAPES = [
    ("DELETE FROM posts", "only read queries"),
    ("UPDATE posts SET text = 'x'", "only read queries"),
    ("INSERT INTO posts (platform, post_id) VALUES ('x', 'y')", "only read queries"),
    ("DROP TABLE posts", "only read queries"),
    ("CREATE TABLE evil AS SELECT 1", "only read queries"),
    ("ATTACH '/tmp/other.duckdb' AS other", "only read queries"),
    ("ATTACH ':memory:' AS m", "only read queries"),
    ("COPY posts TO '/tmp/leak.csv'", "only read queries"),
    ("EXPORT DATABASE '/tmp/leak'", "only read queries"),
    ("INSTALL httpfs", "only read queries"),
    ("LOAD httpfs", "only read queries"),
    ("PRAGMA enable_profiling", "only read queries"),
    ("SET enable_external_access = true", "only read queries"),
    ("RESET lock_configuration", "only read queries"),
    ("CHECKPOINT", "only read queries"),
    ("CALL pragma_version()", "only read queries"),
    ("SELECT 1; DROP TABLE posts", "exactly one statement"),
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ("SELECT * FROM read_text('/etc/hostname')", "disabled by configuration"),
    ("SELECT * FROM read_blob('/etc/hostname')", "disabled by configuration"),
    ("SELECT * FROM glob('/*')", "disabled by configuration"),
    ("SELECT * FROM '/etc/passwd'", "does not exist"),  # file replacement scans are off
    ("SELECT * FROM read_parquet('https://example.com/x.parquet')", "disabled by configuration"),
    ("SELECT * FROM read_json_auto('s3://bucket/x.json')", "disabled by configuration"),
    ("SELECT nextval('run_ids')", "read-only"),
    ("SELECT * FROM nonexistent_table", "does not exist"),
    ("this is not sql", "syntax error"),
]


@pytest.mark.parametrize("sql, reason", ESCAPES, ids=[e[0][:40] for e in ESCAPES])
def test_escape_is_refused_and_nothing_changes(locked_db, sql, reason):
    with pytest.raises(sandbox.SqlRejected, match=f"(?i){reason}"):
        run(locked_db, sql)
    assert locked_db.reader().execute("SELECT count(*) FROM posts").fetchall() == [(10,)]
    setting = locked_db.reader().execute("SELECT current_setting('enable_external_access')").fetchall()
    assert setting == [(False,)]


def test_csv_file_in_the_data_folder_is_not_readable_either(locked_db, tmp_path):
    with pytest.raises(sandbox.SqlRejected, match="disabled by configuration"):
        run(locked_db, f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')")


def test_ordinary_analysis_works(locked_db):
    result = run(locked_db, "WITH t AS (SELECT platform, count(*) n FROM posts GROUP BY 1) SELECT * FROM t")
    assert result.table.to_pylist() == [{"platform": "x", "n": 10}] and not result.truncated


def test_time_limit_stops_a_runaway_query(locked_db):
    with pytest.raises(sandbox.SqlRejected, match=r"longer than the 0\.5 s limit"):
        run(locked_db, "SELECT count(*) FROM range(1000000000000) a, range(1000) b", timeout=0.5)
    assert run(locked_db, "SELECT 1 AS one").table.to_pylist() == [{"one": 1}]  # the cursor is usable after


def test_row_limit(locked_db):
    result = run(locked_db, "SELECT * FROM range(1000)", limit=10)
    assert result.table.num_rows == 10 and result.truncated
