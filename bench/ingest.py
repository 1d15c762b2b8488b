"""Posts/s written through the storage write path (Post records -> Arrow -> DuckDB upsert), 1M synthetic posts,
including the final checkpoint of the write-ahead log.

Run: .venv/bin/python bench/ingest.py   (fixed seed; prints one figure)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import WORDS
from collectors.base import Batch, Post
from storage.db import Database

TOTAL, BATCH = 1_000_000, 50_000


def synthetic(start: int, rng: random.Random) -> list[Post]:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        Post(
            platform=rng.choice(("x", "bluesky", "mastodon", "reddit")),
            post_id=str(i),
            text=" ".join(rng.choices(WORDS, k=14)),
            created_at=base + timedelta(seconds=i),
            author_id=f"u{rng.randrange(50_000)}",
            author_handle=f"user{rng.randrange(50_000)}",
            lang="en",
            watches=("covid-19",),
            like_count=rng.randrange(100),
            raw={"id": i},
        )
        for i in range(start, start + BATCH)
    ]


def main() -> None:
    rng = random.Random(42)
    elapsed = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.duckdb")
        for n, start in enumerate(range(0, TOTAL, BATCH)):
            batch = Batch(synthetic(start, rng), f"cursor-{n}")  # made outside the clock, as a collector would
            started = time.perf_counter()
            db.write_batch("bench", batch)
            elapsed += time.perf_counter() - started
        started = time.perf_counter()
        db.reader().execute("CHECKPOINT")  # what the write-ahead log still holds is written out, on the clock
        elapsed += time.perf_counter() - started
        stored = db.reader().execute("SELECT count(*) FROM posts").fetchone()
        db.close()
    assert stored == (TOTAL,)
    print(f"ingest: {TOTAL / elapsed:,.0f} posts/s ({TOTAL:,} posts in {elapsed:.1f} s, batches of {BATCH:,})")


if __name__ == "__main__":
    main()
