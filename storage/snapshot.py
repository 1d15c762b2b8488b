"""Analysts' offline copy: every table as Parquet, read in one transaction, so the copy is consistent.

The engine's DuckDB runs with `enable_external_access = false`, so SQL cannot write files (no COPY / EXPORT);
rows stream out through Arrow and pyarrow writes the files. A snapshot folder holds one `<table>.parquet`
per table, `load.sql` and `README.txt`. To open it in your own DuckDB:

    cd data/snapshots/20261102T080000Z && duckdb analysis.duckdb < load.sql

(or `CREATE VIEW posts AS FROM 'posts.parquet'` to query the files in place). The folder appears complete or
not at all: it is written under a temporary name and renamed at the end.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from storage.db import Database

README = """CivicRadar snapshot taken {taken_at} UTC: a consistent copy of every table (one read transaction).
Times are naive UTC. Posts are keyed by (platform, post_id), the platforms' own stable ids.

Open in DuckDB:   cd {name} && duckdb analysis.duckdb < load.sql
Query in place:   SELECT * FROM 'posts.parquet' LIMIT 10;
Tables and rows:  see manifest.json
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_snapshot(db: Database, folder: Path, batch_rows: int = 100_000) -> dict[str, Any]:
    taken_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    name = taken_at.strftime("%Y%m%dT%H%M%SZ")
    suffix = 1
    while (folder / name).exists() or (folder / f".{name}.partial").exists():
        suffix += 1
        name = f"{taken_at:%Y%m%dT%H%M%SZ}-{suffix}"
    final, partial = folder / name, folder / f".{name}.partial"
    partial.mkdir(parents=True, exist_ok=False)
    cursor = db.new_cursor()
    counts: dict[str, int] = {}
    try:
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        tables = [row[0] for row in cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        for table in tables:
            reader = cursor.sql(f"SELECT * FROM {_quote(table)}").to_arrow_reader(batch_size=batch_rows)
            rows = 0
            with pq.ParquetWriter(partial / f"{table}.parquet", reader.schema, compression="zstd") as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
            counts[table] = rows
        cursor.execute("ROLLBACK")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        cursor.close()
    load = "".join(f"CREATE OR REPLACE TABLE {_quote(t)} AS FROM '{t}.parquet';\n" for t in counts)
    (partial / "load.sql").write_text(load, encoding="utf-8")
    (partial / "README.txt").write_text(README.format(taken_at=taken_at, name=name), encoding="utf-8")
    manifest = {"taken_at": taken_at.isoformat(), "tables": counts}
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    partial.rename(final)
    return {"path": str(final), **manifest}
