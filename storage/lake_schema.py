"""The migrations as DuckLake takes them: one transformation, in one place, instead of forked migrations.

DuckLake 1.0 (the ducklake extension for DuckDB 1.5.5) refuses PRIMARY KEY / UNIQUE constraints, indexes and
sequences, and cannot SET NOT NULL on a table changed in the same transaction. So on the lake:
- keys are kept unique by the write path itself (one writer; anti-joins / MERGE on the key inside the same
  transaction as the cursor: `storage.db`);
- ids that a sequence gave come from max + 1 under the one writer (`next_id`; `new_id` decides by kind);
- posts.direction stays nullable in the schema; every write fills it (`storage.db.posts_table`).
"""

from __future__ import annotations

import re

import duckdb

_DROP = [
    re.compile(r"--[^\n]*"),  # comments first: they mention keys and indexes in prose
    re.compile(r"CREATE\s+SEQUENCE\s+[^;]*;", re.I),
    re.compile(r"CREATE\s+(UNIQUE\s+)?INDEX\s+[^;]*;", re.I),
    re.compile(r"ALTER\s+TABLE\s+\w+\s+ALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL\s*;", re.I),
    re.compile(r",\s*PRIMARY\s+KEY\s*\([^)]*\)", re.I),  # a table's key: (a, b)
    re.compile(r"\s+DEFAULT\s+nextval\s*\(\s*'[^']*'\s*\)", re.I),
    re.compile(r"\s+PRIMARY\s+KEY\b", re.I),  # a column's key
    re.compile(r"\s+UNIQUE\b", re.I),
]
REFUSED = re.compile(r"PRIMARY\s+KEY|UNIQUE|SEQUENCE|nextval|\bINDEX\b", re.I)


def ddl(sql: str) -> str:
    """`sql` (a migration) without what DuckLake refuses; anything else is left exactly as written."""
    for pattern in _DROP:
        sql = pattern.sub("", sql)
    return sql


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    """The id a sequence would give next, on the lake: max + 1 (sound with one writer, inside its transaction)."""
    row = con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


# The tables whose ids a sequence gives on the DuckDB file: (id column, sequence).
SEQUENCES = {"alerts": ("alert_id", "alert_ids"), "deliveries": ("delivery_id", "delivery_ids"),
             "incidents": ("incident_id", "incident_ids")}


def on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` works in a DuckLake (the engine's connection with [storage] kind = "ducklake")."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row is not None and row[0] == "ducklake"


def new_id(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The id of a new row of `table`, inside the writer's transaction: its sequence's next value on the DuckDB
    file (as the column's default gave before), max + 1 on the lake (no sequences there; one writer)."""
    column, sequence = SEQUENCES[table]
    if on_lake(con):
        return next_id(con, table, column)
    row = con.execute(f"SELECT nextval('{sequence}')").fetchone()
    assert row is not None
    return int(row[0])
