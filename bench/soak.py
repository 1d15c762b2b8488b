"""Soak: the storage service under 16 concurrent readers while ingesting 2,000 posts/s and labelling 300 posts/s
for 10 minutes.

The labeller does what the label job does each second, with synthetic labels instead of the models (which manage
~300 posts/s on these two cores, bench/classify.py): it asks for the posts still unlabelled (`storage.labels.pending`)
and writes their labels (`storage.labels.write`, which moves each post between sentiments and topics in the rollups).
Readers ask for 24-hour windows: hourly and 15-minute volume, the window's totals, sentiment volume and topic volume
(all from the 5-minute rollups).

Reports read latency p50 / p95 / p99 (and p95 per query), write lag (how far the writer falls behind its schedule),
the label pass's p95 and memory growth (slope of RSS over the second half of the run; no trend means ~0 MB/min).

Run: .venv/bin/python bench/soak.py [--seconds 600]   (fixed seed; prints one line)
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import posts_chunk
from storage import labels
from storage.client import StorageClient
from storage.db import Database
from storage.labels import ModelTags
from storage.service import Service, create_app

READERS, RATE, LABEL_RATE, INITIAL = 16, 2_000, 300, 1_000_000
TAGS = ModelTags("sentiment@soak", "topics@soak", "misinfo@soak")
SENTIMENTS, TOPICS = np.array(["negative", "neutral", "positive"]), np.array(["vaccination", "testing", "schools"])
START = datetime(2026, 11, 1)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


class Soak:
    def __init__(self, db: Database, port: int, seconds: float) -> None:
        self.db, self.seconds, self.stop = db, seconds, threading.Event()
        self.url = f"http://127.0.0.1:{port}"
        self.latencies: list[float] = []
        self.by_query: dict[str, list[float]] = {}
        self.lags: list[float] = []
        self.label_passes: list[float] = []
        self.memory: list[tuple[float, float]] = []
        self.now = START + timedelta(days=10)

    def reader(self, k: int) -> None:
        client = StorageClient(self.url, "soak")
        queries = [("volume", {"bucket_minutes": 60}), ("window_totals", {}), ("volume", {"bucket_minutes": 15}),
                   ("sentiment_volume", {"bucket_minutes": 60}), ("topic_volume", {"bucket_minutes": 60})]
        while not self.stop.is_set():
            name, extra = queries[k % len(queries)]
            started = time.perf_counter()
            client.query(name, since=self.now - timedelta(hours=24), until=self.now, **extra)
            took = time.perf_counter() - started
            self.latencies.append(took)
            self.by_query.setdefault(f"{name}/{extra.get('bucket_minutes', '')}".rstrip("/"), []).append(took)
            k += 1

    def writer(self) -> None:
        rng, next_id, began = np.random.default_rng(11), INITIAL, time.perf_counter()
        tick = 0
        while not self.stop.is_set():
            due = began + tick  # one batch of RATE posts per second, on schedule
            time.sleep(max(0.0, due - time.perf_counter()))
            chunk = posts_chunk(rng, next_id, RATE, self.now, timedelta(seconds=1))
            self.db.write_posts_table(chunk)
            self.lags.append(time.perf_counter() - due)
            next_id, tick, self.now = next_id + RATE, tick + 1, self.now + timedelta(seconds=1)

    def labeller(self) -> None:
        rng, began, tick = np.random.default_rng(5), time.perf_counter(), 1
        while not self.stop.wait(max(0.0, began + tick - time.perf_counter())):  # a pass a second, on schedule
            started, tick = time.perf_counter(), tick + 1
            todo = labels.pending(self.db, TAGS, self.now - timedelta(days=1), LABEL_RATE).to_pylist()
            n = len(todo)
            sentiments, topics, scores = SENTIMENTS[rng.integers(0, 3, n)], TOPICS[rng.integers(0, 3, n)], rng.random(n)
            labels.write(self.db, [
                {"platform": row["platform"], "post_id": row["post_id"], "created_at": row["created_at"], "lang": "en",
                 "sentiment": str(sentiment), "sentiment_score": 0.9, "topics": [{"name": str(topic), "score": 0.8}],
                 "misinfo_score": float(score), "sentiment_model": TAGS.sentiment, "topics_model": TAGS.topics,
                 "misinfo_model": TAGS.misinfo}
                for row, sentiment, topic, score in zip(todo, sentiments, topics, scores, strict=True)], [])
            self.label_passes.append(time.perf_counter() - started)

    def sampler(self) -> None:
        began = time.perf_counter()
        while not self.stop.wait(5):
            self.memory.append((time.perf_counter() - began, rss_mb()))

    def run(self) -> None:
        threads = [threading.Thread(target=t) for t in (self.writer, self.labeller, self.sampler)]
        threads += [threading.Thread(target=self.reader, args=(k,)) for k in range(READERS)]
        for t in threads:
            t.start()
        time.sleep(self.seconds)
        self.stop.set()
        for t in threads:
            t.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "soak.duckdb", memory_limit="1GB")
        rng = np.random.default_rng(3)
        for k in range(INITIAL // 100_000):
            db.write_posts_table(posts_chunk(rng, k * 100_000, 100_000, START + timedelta(days=k), timedelta(days=1)))
        service = Service(create_app(db, "soak", lambda: (START, False)), "127.0.0.1", 0)
        service.start()
        soak = Soak(db, service.server.servers[0].sockets[0].getsockname()[1], seconds)
        soak.run()
        service.stop()
        db.close()
    p50, p95, p99 = (float(np.percentile(soak.latencies, q)) * 1000 for q in (50, 95, 99))
    half = [m for m in soak.memory if m[0] >= seconds / 2] or soak.memory
    slope = float(np.polyfit([t / 60 for t, _ in half], [m for _, m in half], 1)[0]) if len(half) > 1 else 0.0
    print(f"soak {seconds:.0f} s, {READERS} readers, {RATE:,} posts/s, labels {LABEL_RATE} posts/s: "
          f"read p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms over {len(soak.latencies):,} reads; "
          f"write lag p95 {np.percentile(soak.lags, 95):.2f} s, max {max(soak.lags):.2f} s; "
          f"label pass p95 {np.percentile(soak.label_passes, 95):.2f} s; "
          f"RSS {soak.memory[-1][1]:.0f} MB, trend {slope:+.1f} MB/min (second half); p95 by query: "
          + ", ".join(f"{k} {np.percentile(v, 95) * 1000:.0f}" for k, v in sorted(soak.by_query.items())) + " ms")


if __name__ == "__main__":
    main()
