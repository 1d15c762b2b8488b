"""Seconds for one detection pass over 30 days of 5M posts (every detector, one 5-minute step).

    .venv/bin/python bench/detect.py [--posts 5000000] [--days 30] [--db PATH] [--rebuild]

The database (fixed seed; built once, then reused from PATH): `bench.synthetic` posts written through
`Database.write_posts_table` in time order, every post labelled (sentiment, topics, a claim match for 0.5 %)
through `storage.labels.write` except the last 10 minutes (the labeller's lag: those go through the lexical
fallback), 384-d embeddings for the last 2 hours, three false claims, and an event in the last half hour
(1,500 posts on a usually quiet watch, 30 accounts posting one text) so alerts are raised and evidence fetched.
Printed: the median of 3 passes re-evaluating the newest step (the cursor is moved back between passes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import settings
from alerts.detect import run_pass
from bench.synthetic import posts_chunk
from collectors.base import Batch, Claim
from storage import alert_store, labels
from storage.db import Database

SEED = 20261123
END = datetime(2026, 11, 30, 12, 0)
CHUNK = 500_000
TOPICS = ["testing access", "vaccination", "case numbers"]
CLAIMS = [Claim("B-1", "Salt water cures the virus. Official fact: it does not.", "False"),
          Claim("B-2", "The clinic is closed for good. Official fact: it is open.", "False"),
          Claim("B-3", "Vaccine boosters cause the disease.", "Misleading")]


def build(path: Path, posts: int, days: int) -> None:
    rng = np.random.default_rng(SEED)
    db = Database(path)
    start, span = END - timedelta(days=days), timedelta(days=days) * CHUNK / posts
    recent = []
    for i, first in enumerate(range(0, posts, CHUNK)):
        chunk = posts_chunk(rng, first, min(CHUNK, posts - first), start + i * span, span)
        db.write_posts_table(chunk)
        label(db, rng, chunk.filter(pc.less(chunk["created_at"], pa.scalar(END - timedelta(minutes=10)))))
        recent.append(chunk.filter(pc.greater_equal(chunk["created_at"], pa.scalar(END - timedelta(hours=2)))))
        print(f"  built {first + chunk.num_rows:,} posts", file=sys.stderr, flush=True)
    embed(db, rng, pa.concat_tables([*recent, event(db, rng)]))
    db.write_batch("claims", Batch([], None, claims=CLAIMS))
    db.close()


def label(db: Database, rng: np.random.Generator, chunk: pa.Table) -> None:
    n = chunk.num_rows
    topic = rng.integers(0, len(TOPICS) + 1, n)
    claim = ["B-1" if hit else None for hit in rng.random(n) < 0.005]
    rows = [{"platform": p, "post_id": i, "created_at": c, "lang": "en", "sentiment": s, "sentiment_score": 0.9,
             "topics": [] if t == len(TOPICS) else [{"name": TOPICS[t], "score": 0.8}], "misinfo_score": 0.1,
             "matched_claim_id": m, "matched_claim_score": 0.9 if m else None, "sentiment_model": "bench@1",
             "topics_model": "bench@1", "misinfo_model": "bench@1"}
            for p, i, c, s, t, m in zip(chunk["platform"].to_pylist(), chunk["post_id"].to_pylist(),
                                        chunk["created_at"].to_pylist(),
                                        np.where(rng.random(n) < 0.25, "negative", "neutral"), topic, claim,
                                        strict=True)]
    labels.write(db, rows, [])


def event(db: Database, rng: np.random.Generator) -> pa.Table:
    """1,500 posts on a usually quiet watch in the last half hour, and 30 accounts posting one text."""
    burst = posts_chunk(rng, 10**9, 1_500, END - timedelta(minutes=30), timedelta(minutes=30))
    burst = burst.set_column(burst.schema.get_field_index("watches"), "watches",
                             pa.array([["water quality"]] * 1_500, pa.list_(pa.string())))
    copies = posts_chunk(rng, 2 * 10**9, 30, END - timedelta(minutes=12), timedelta(minutes=10))
    text = pa.array(["Everyone share: the fairgrounds testing site is closed for good, the county is hiding it"] * 30)
    both = pa.concat_tables([burst, copies.set_column(copies.schema.get_field_index("text"), "text", text)])
    db.write_posts_table(both)
    return both


def embed(db: Database, rng: np.random.Generator, keys: pa.Table) -> None:
    vectors = rng.normal(size=(keys.num_rows, 384)).astype(np.float32)
    rows = [{"platform": p, "post_id": i, "created_at": c, "model": "bench-encoder", "vector": v}
            for p, i, c, v in zip(keys["platform"].to_pylist(), keys["post_id"].to_pylist(),
                                  keys["created_at"].to_pylist(), vectors, strict=True)]
    labels.write(db, [], rows)


def one_pass(db: Database, s: settings.Settings) -> float:
    db.write(lambda con: alert_store.set_detect_cursor(con, END - timedelta(minutes=5), END))
    started = time.perf_counter()
    result = run_pass(db, s, END)
    elapsed = time.perf_counter() - started
    kinds = sorted(r.finding.kind for r in result.recorded)
    print(f"  pass: {elapsed:.2f} s, {result.counts()['steps']} step, findings: {kinds}", file=sys.stderr, flush=True)
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--posts", type=int, default=5_000_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--db", type=Path, help="database to build once and reuse (default: in the temp folder)")
    p.add_argument("--rebuild", action="store_true")
    args = p.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"civicradar-bench-detect-{args.posts}-{args.days}.duckdb"
    if args.rebuild or not path.exists():
        path.unlink(missing_ok=True)
        build(path, args.posts, args.days)
    s = settings.load(Path(__file__).resolve().parents[1] / "settings.toml")
    db = Database(path)
    try:
        seconds = statistics.median(one_pass(db, s) for _ in range(3))
    finally:
        db.close()
    print(f"detection pass over {args.posts:,} posts / {args.days} days: {seconds:.2f} s")


if __name__ == "__main__":
    main()
