"""p95 latency of the storage service for the dashboard's 24-hour volume query over 5M posts,
with 4 concurrent readers while the engine ingests 2,000 posts/s.

Run: .venv/bin/python bench/service.py   (fixed seed; prints one figure)
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import posts_chunk
from storage.client import StorageClient
from storage.db import Database
from storage.service import Service, create_app

TOTAL, CHUNK, READERS, SECONDS, INGEST_PER_S = 5_000_000, 250_000, 4, 30, 2_000
END = datetime(2026, 11, 30)
START = END - timedelta(days=30)


def load(db: Database, rng: np.random.Generator) -> None:
    span = (END - START) / (TOTAL // CHUNK)
    for k in range(TOTAL // CHUNK):
        db.write_posts_table(posts_chunk(rng, k * CHUNK, CHUNK, START + k * span, span))
        print(f"  loaded {(k + 1) * CHUNK:,} posts", end="\r", file=sys.stderr)


def reader(client: StorageClient, stop: threading.Event, latencies: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        client.query("volume", since=END - timedelta(hours=24), until=END, bucket_minutes=60)
        latencies.append(time.perf_counter() - started)


def ingest(db: Database, rng: np.random.Generator, stop: threading.Event) -> None:
    next_id = TOTAL
    while not stop.is_set():
        tick = time.perf_counter()
        db.write_posts_table(posts_chunk(rng, next_id, INGEST_PER_S, END - timedelta(seconds=1), timedelta(seconds=1)))
        next_id += INGEST_PER_S
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))


def main() -> None:
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.duckdb")
        load(db, rng)
        service = Service(create_app(db, "bench", lambda: (END, False)), "127.0.0.1", 0)
        service.start()
        port = service.server.servers[0].sockets[0].getsockname()[1]
        stop, latencies = threading.Event(), []  # type: ignore[var-annotated]
        threads = [threading.Thread(target=ingest, args=(db, rng, stop))]
        threads += [threading.Thread(target=reader, args=(StorageClient(f"http://127.0.0.1:{port}", "bench"), stop,
                                                          latencies)) for _ in range(READERS)]
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join()
        service.stop()
        db.close()
    p95 = float(np.percentile(latencies, 95)) * 1000
    print(f"service: p95 {p95:.0f} ms for the 24-hour volume query over 5M posts "
          f"({READERS} readers, {len(latencies)} queries in {SECONDS} s, ingesting {INGEST_PER_S:,} posts/s)")


if __name__ == "__main__":
    main()
