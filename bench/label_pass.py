"""One label pass at the soak's scale, alone: what `storage.labels.pending` (300 posts) and `storage.labels.write`
cost in CPU time (every thread of the process, DuckDB's workers included) and in wall time.

The database is the soak's after 10 minutes (1M posts over 10 days, then 2,000 posts/s for 10 minutes); before each
pass 2,000 new posts arrive, as in the soak. CPU time is what a pass takes from the readers on a busy machine, and
depends far less than wall time on what else the machine is doing.

Run: .venv/bin/python bench/label_pass.py [--passes 60]   (fixed seed; prints one line)
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.soak import INITIAL, LABEL_RATE, RATE, SENTIMENTS, START, TAGS, TOPICS
from bench.synthetic import posts_chunk
from storage import labels
from storage.db import Database


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], Any], into: dict[str, list[float]], name: str) -> Any:
    wall, used = time.perf_counter(), cpu()
    result = fn()
    into[f"{name} cpu"].append(cpu() - used)
    into[f"{name} wall"].append(time.perf_counter() - wall)
    return result


def label_rows(todo: list[dict[str, Any]], rng: np.random.Generator) -> list[dict[str, object]]:
    n = len(todo)
    return [{"platform": row["platform"], "post_id": row["post_id"], "created_at": row["created_at"], "lang": "en",
             "sentiment": str(s), "sentiment_score": 0.9, "topics": [{"name": str(t), "score": 0.8}],
             "misinfo_score": 0.1, "sentiment_model": TAGS.sentiment, "topics_model": TAGS.topics,
             "misinfo_model": TAGS.misinfo}
            for row, s, t in zip(todo, SENTIMENTS[rng.integers(0, 3, n)], TOPICS[rng.integers(0, 3, n)], strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=60)
    passes = parser.parse_args().passes
    rng, label_rng = np.random.default_rng(3), np.random.default_rng(5)
    times: dict[str, list[float]] = {f"{k} {u}": [] for k in ("pending", "write") for u in ("cpu", "wall")}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "labels.duckdb", memory_limit="1GB")
        for k in range(INITIAL // 100_000):
            db.write_posts_table(posts_chunk(rng, k * 100_000, 100_000, START + timedelta(days=k), timedelta(days=1)))
        now, next_id = START + timedelta(days=10), INITIAL
        for tick in range(600 + passes):
            db.write_posts_table(posts_chunk(rng, next_id, RATE, now, timedelta(seconds=1)))
            next_id, now = next_id + RATE, now + timedelta(seconds=1)
            if tick >= 600:
                since = now - timedelta(days=1)
                todo = timed(lambda since=since: labels.pending(db, TAGS, since, LABEL_RATE).to_pylist(),
                             times, "pending")
                rows = label_rows(todo, label_rng)
                timed(lambda rows=rows: labels.write(db, rows, []), times, "write")
        db.close()
    p50 = {k: float(np.median(v)) * 1000 for k, v in times.items()}
    posts = INITIAL + RATE * (600 + passes)
    print(f"label pass at soak scale ({posts:,} posts, {LABEL_RATE} labels, {passes} passes), "
          f"median: pending {p50['pending cpu']:.0f} ms CPU / {p50['pending wall']:.0f} ms wall, "
          f"write {p50['write cpu']:.0f} ms CPU / {p50['write wall']:.0f} ms wall")


if __name__ == "__main__":
    main()
