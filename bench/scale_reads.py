"""Read p95 with 16 readers on 2 read replicas against 16 readers on the engine alone, while the engine writes to the
lake; and each replica's lag (the age of the newest snapshot it reads). Goal (issue 17): replica p95 <= 100 ms.

One run, one lake: a PostgreSQL catalog started here (Debian's binaries, as tests/lake_helpers.py), Parquet in a
folder, --initial posts seeded, then the engine (this process: the lake's one writer and its storage service)
writes --rate posts a second in one-second batches throughout. Phase 1: the readers ask the engine. Phase 2: the
same readers, half on each of two `civicradar serve` replicas (their own processes, one DuckDB thread each: the
default replica_threads = 1), the engine only writing, the replicas' result cache off: the per-read cost. Phase 3:
as phase 2 on two fresh replicas with the result cache on (storage/replica_cache.py: exact per snapshot; the engine
commits once a second, so each replica misses once a second per query); the hit rate is printed beside its p95, so
that a cache-hit figure is never read as the per-read cost. Readers are 16 threads in a process of their own,
asking the soak's rollup queries in turn over the 24 hours up to the writer's clock rounded down to 5 s (what
the dashboard asks: screens refreshed within the same 5 s share parameters; the window holds the newest posts).

    nice -n 10 .venv/bin/python bench/scale_reads.py [--seconds 60] [--rate 2000] [--initial 1000000]
    (needs the lake extra and PostgreSQL; fixed seed; prints one line)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tests"))  # lake_helpers: the tests' PostgreSQL start

from bench.synthetic import posts_chunk
from storage.client import StorageClient
from storage.db import Database
from storage.lake import LakeConfig
from storage.service import Service, create_app

STEP = 5  # seconds: the dashboard's default refresh_seconds
READERS, TOKEN, TOKEN_ENV = 16, "scale-reads-bench-token", "CIVICRADAR_BENCH_TOKEN"
START = datetime(2026, 11, 1)
QUERIES = [("volume", {"bucket_minutes": 60}), ("window_totals", {}), ("volume", {"bucket_minutes": 15}),
           ("sentiment_volume", {"bucket_minutes": 60}), ("topic_volume", {"bucket_minutes": 60})]


def read_for(urls: list[str], seconds: float, until: datetime, clock_start: float) -> tuple[list[float], int]:
    """READERS threads, spread over `urls`, each asking QUERIES in turn for `seconds`: latencies (s) and errors.
    Each read's window ends at the writer's clock (`until` when it started at `clock_start`, time.time()) rounded
    down to STEP seconds, as the dashboard rounds its clock to the refresh interval (dashboard/data.py `now`): the
    window holds the newest posts, and its parameters change every STEP seconds."""
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds

    def reader(k: int) -> None:
        client = StorageClient(urls[k % len(urls)], TOKEN, timeout=60, client="bench")
        while time.monotonic() < deadline:
            name, extra = QUERIES[k % len(QUERIES)]
            moment = until + timedelta(seconds=(time.time() - clock_start) // STEP * STEP)
            started = time.perf_counter()
            try:
                client.query(name, since=moment - timedelta(hours=24), until=moment, **extra)
                latencies.append(time.perf_counter() - started)
            except Exception:  # counted and reported: a failed read is a finding, not a crash
                errors[0] += 1
            k += 1
        client.close()

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


class Writer(threading.Thread):
    """The engine's writes: `rate` posts a second, one batch a second, on schedule; commit times kept."""

    def __init__(self, db: Database, rate: int, first_id: int, now: datetime) -> None:
        super().__init__(daemon=True)
        self.db, self.rate, self.next_id, self.now = db, rate, first_id, now
        self.stop = threading.Event()
        self.commits: list[float] = []
        self.rng = np.random.default_rng(11)

    def run(self) -> None:
        began, tick = time.perf_counter(), 0
        while not self.stop.wait(max(0.0, began + tick - time.perf_counter())):
            started = time.perf_counter()
            self.db.write_posts_table(posts_chunk(self.rng, self.next_id, self.rate, self.now, timedelta(seconds=1)))
            self.commits.append(time.perf_counter() - started)
            self.next_id, self.now, tick = self.next_id + self.rate, self.now + timedelta(seconds=1), tick + 1


def sample_lag(urls: list[str], stop: threading.Event) -> dict[str, list[float]]:
    """Each replica's lag (GET /v1/storage) every half second until `stop`."""
    lags: dict[str, list[float]] = {u: [] for u in urls}
    clients = {u: StorageClient(u, TOKEN, timeout=30, client="bench") for u in urls}
    while not stop.wait(0.5):
        for url, client in clients.items():
            lags[url].append(float(client.storage_state()["lag_seconds"]))
    return lags


def start_replicas(root: Path, catalog: str, count: int,
                   cache_entries: int) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    from helpers import free_port

    settings = root / f"replica-cache-{cache_entries}" / "settings.toml"  # its data folder (audit file) beside it
    settings.parent.mkdir()
    settings.write_text(f'[storage]\nkind = "ducklake"\n[storage.lake]\ncatalog = "{catalog}"\n'
                        f'data_path = "{root}/lake/"\nreplica_cache_entries = {cache_entries}\n'
                        f'[server]\ntoken = {{ env = "{TOKEN_ENV}" }}\n'
                        "[classify]\nenabled = false\n[alerts]\nenabled = false\n")  # the lake's settings check
    ports = [free_port() for _ in range(count)]
    env = {**os.environ, TOKEN_ENV: TOKEN}
    logs = [(settings.parent / f"replica-{p}.log").open("w") for p in ports]
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "civicradar"), "--settings", str(settings), "serve",
                               "--port", str(p)], env=env, stdout=log, stderr=subprocess.STDOUT)
             for p, log in zip(ports, logs, strict=True)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    for url in urls:
        wait_until_serving(url)
    return procs, urls


def wait_until_serving(url: str, timeout: float = 180) -> None:
    client, deadline = StorageClient(url, TOKEN, timeout=10, client="bench"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.storage_state()
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"the replica at {url} did not start in {timeout:.0f} s (its log: replica-cache-*/replica-*.log)")


def stop_replicas(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def cache_counts(urls: list[str]) -> tuple[int, int]:
    """The replicas' result-cache reads and hits so far (GET /v1/storage), summed."""
    reads = hits = 0
    for url in urls:
        client = StorageClient(url, TOKEN, timeout=30, client="bench")
        state = client.storage_state()
        reads, hits = reads + int(state.get("cache_reads", 0)), hits + int(state.get("cache_hits", 0))
        client.close()
    return reads, hits


def seed(db: Database, initial: int) -> datetime:
    rng = np.random.default_rng(3)
    step = min(initial, 100_000)
    for k in range(0, initial, step):
        db.write_posts_table(posts_chunk(rng, k, step, START + timedelta(hours=k // step), timedelta(hours=1)))
    return START + timedelta(hours=max(initial // step, 1))


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) * 1000 if values else float("nan")


def replica_phase(pool: ProcessPoolExecutor, root: Path, catalog: str, cache_entries: int, seconds: float,
                  until: datetime, clock_start: float) -> dict[str, Any]:
    """Two replicas with `cache_entries` (0: no result cache) serving the readers for `seconds`, their lag sampled;
    then stopped. Latencies, errors, lags, and the replicas' cache reads and hits."""
    procs, urls = start_replicas(root, catalog, 2, cache_entries)
    try:
        before, stop = cache_counts(urls), threading.Event()
        lags: dict[str, list[float]] = {u: [] for u in urls}
        lag_thread = threading.Thread(target=lambda: lags.update(sample_lag(urls, stop)), daemon=True)
        lag_thread.start()
        latencies, errors = pool.submit(read_for, urls, seconds, until, clock_start).result()
        stop.set()
        lag_thread.join(timeout=30)
        after = cache_counts(urls)
    finally:
        stop_replicas(procs)
    return {"latencies": latencies, "errors": errors, "lags": lags,
            "cache_reads": after[0] - before[0], "cache_hits": after[1] - before[1]}


def summary(args: argparse.Namespace, engine: tuple[list[float], int], plain: dict[str, Any],
            cached: dict[str, Any], commits: list[list[float]]) -> str:
    lag_text = ", ".join(f"replica {i + 1} lag p95 {np.percentile(v, 95):.2f} s max {max(v):.2f} s"
                         for i, v in enumerate(plain["lags"].values()) if v)
    hit_rate = cached["cache_hits"] / max(cached["cache_reads"], 1)
    on_engine, on_replicas = engine[0], plain["latencies"]
    return (f"scale_reads {args.seconds:.0f} s a phase, {READERS} readers, engine writing {args.rate:,} posts/s on "
            f"{args.initial:,}: read p95 on 2 replicas {p95(on_replicas):.0f} ms without the result cache "
            f"({len(on_replicas):,} reads, {plain['errors']} errors), {p95(cached['latencies']):.0f} ms with it "
            f"({len(cached['latencies']):,} reads, {cached['errors']} errors, hit rate {hit_rate:.0%}) vs on the "
            f"engine alone {p95(on_engine):.0f} ms ({len(on_engine):,} reads, {engine[1]} errors), ratio without "
            f"the cache {p95(on_replicas) / p95(on_engine):.2f}; {lag_text} (without the cache); engine commit p95 "
            f"{p95(commits[0]):.0f} ms serving reads, {p95(commits[1]):.0f} / {p95(commits[2]):.0f} ms with "
            "replicas without / with the cache")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase")
    parser.add_argument("--rate", type=int, default=2000, help="posts the engine writes a second")
    parser.add_argument("--initial", type=int, default=1_000_000, help="posts in the lake before the clock starts")
    args = parser.parse_args()
    from lake_helpers import start_postgres, stop_postgres

    root = Path(tempfile.mkdtemp(prefix="civicradar-scale-reads-"))
    print(f"working in {root}", file=sys.stderr)
    os.chmod(root, 0o755)
    pg = start_postgres(root)
    try:
        catalog = pg.create_database("bench")
        db = Database(root / "lake.name", "1GB", lake=LakeConfig(catalog, f"{root}/lake/", 10))
        until = seed(db, args.initial)
        service = Service(create_app(db, TOKEN, lambda: (until, False)), "127.0.0.1", 0)
        service.start()
        engine_url = f"http://127.0.0.1:{service.server.servers[0].sockets[0].getsockname()[1]}"
        writer = Writer(db, args.rate, args.initial, until)
        clock_start = time.time()  # the writer's clock reads `until` now and runs at real speed
        writer.start()
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            engine = pool.submit(read_for, [engine_url], args.seconds, until, clock_start).result()
            marks = [len(writer.commits)]
            plain = replica_phase(pool, root, catalog, 0, args.seconds, until, clock_start)
            marks.append(len(writer.commits))
            cached = replica_phase(pool, root, catalog, 256, args.seconds, until, clock_start)
        writer.stop.set()
        writer.join()
        service.stop()
        db.close()
    finally:
        stop_postgres(pg, root)
    shutil.rmtree(root, ignore_errors=True)  # kept after a failure, for the replicas' logs
    c = writer.commits
    print(summary(args, engine, plain, cached, [c[:marks[0]], c[marks[0]:marks[1]], c[marks[1]:]]))


if __name__ == "__main__":
    main()
