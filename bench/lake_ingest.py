"""Lake ingest as the lake grows: ms per batch of new posts through the write path (the key check against every
stored key, the insert, the rollups), at several lake sizes, on one lake. The key check joins the batch with all of
`post_keys` (README, DuckLake storage): this measures what that costs as history grows.

One lake: a PostgreSQL catalog started here (as tests/lake_helpers.py), Parquet in a folder. The lake is filled to
each size in 100,000-post chunks, then maintained as the engine's scheduled job would (inlined rows flushed, small
files merged), then --batches batches of --batch new posts (ids continuing, created in the following seconds, one
in ten re-collected from the batch before, as a re-poll does) are written and timed one by one.

    nice -n 10 .venv/bin/python bench/lake_ingest.py [--sizes 1000000,4000000] [--batch 2000] [--batches 20]
    (needs the lake extra and PostgreSQL; fixed seed; prints one line)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))  # lake_helpers: the tests' PostgreSQL start

from bench.synthetic import posts_chunk
from storage import lake_maintenance
from storage.db import Database
from storage.lake import LakeConfig

START = datetime(2026, 11, 1)
CHUNK = 100_000


def fill(db: Database, rng: np.random.Generator, first_id: int, count: int) -> None:
    for k in range(first_id, first_id + count, CHUNK):
        n = min(CHUNK, first_id + count - k)
        db.write_posts_table(posts_chunk(rng, k, n, START + timedelta(seconds=k / 50), timedelta(seconds=n / 50)))
        print(f"  filled ids up to {k + n:,}", file=sys.stderr, flush=True)


def timed_batches(db: Database, rng: np.random.Generator, first_id: int, batch: int, count: int) -> list[float]:
    times, previous = [], None
    at = START + timedelta(seconds=first_id / 50)
    for b in range(count):
        table = posts_chunk(rng, first_id + b * batch, batch, at + timedelta(seconds=b), timedelta(seconds=1))
        if previous is not None:  # a re-poll: a tenth of the batch is posts stored a second ago
            table = pa.concat_tables([table.slice(0, batch - batch // 10), previous.slice(0, batch // 10)])
        started = time.perf_counter()
        db.write_posts_table(table)
        times.append(time.perf_counter() - started)
        previous = table
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,4000000", help="lake sizes (posts) to measure at, ascending")
    parser.add_argument("--batch", type=int, default=2000, help="posts per batch (2,000: one second at 2,000/s)")
    parser.add_argument("--batches", type=int, default=20, help="timed batches at each size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    from lake_helpers import start_postgres, stop_postgres

    root = Path(tempfile.mkdtemp(prefix="civicradar-lake-ingest-"))
    os.chmod(root, 0o755)
    pg = start_postgres(root)
    results: list[str] = []
    try:
        catalog = pg.create_database("bench")
        db = Database(root / "lake.name", "2GB", lake=LakeConfig(catalog, f"{root}/lake/", 10))
        rng, stored, next_id = np.random.default_rng(17), 0, 0
        for size in sizes:
            fill(db, rng, next_id, size - stored)
            next_id, stored = next_id + size - stored, size
            db.exclusive(lambda con: lake_maintenance.maintain(con, timedelta(0), timedelta(0)))
            times = timed_batches(db, rng, next_id, args.batch, args.batches)
            next_id += args.batch * args.batches
            stored += args.batch + (args.batches - 1) * (args.batch - args.batch // 10)
            median, p95 = np.median(times) * 1000, np.percentile(times, 95) * 1000
            results.append(f"{size / 1e6:g}M posts: median {median:.0f} ms, p95 {p95:.0f} ms "
                           f"({args.batch / np.median(times):,.0f} posts/s)")
            print(f"  {results[-1]}", file=sys.stderr, flush=True)
        db.close()
    finally:
        stop_postgres(pg, root)
    shutil.rmtree(root, ignore_errors=True)
    print(f"lake ingest, {args.batch:,}-post batches (key check, insert, rollups; one tenth re-collected): "
          + "; ".join(results))


if __name__ == "__main__":
    main()
