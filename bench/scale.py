"""Labelled posts per second end to end with 1 and with 2 Ray label workers on this machine, and their ratio.

One run: a local Ray cluster (a head and two worker processes of one CPU each, 127.0.0.1, token auth) and the
bundled models. For each pool size, a fresh database of the same --posts posts (a fixed-seed sample, as
bench/classify.py) is labelled by the engine's own label job with `[labels] workers = "ray"` until nothing is
pending: picking the posts, the workers' labels, and writing them (rollups, embeddings). Workers are started and
their models loaded before the clock starts. Also printed: CPU ms per post in the workers (psutil, same machine)
and in this process (the engine's side: pending queries, hand-off, writes), which depend less on what else the
machine is doing than the wall-clock rates.

    .venv/bin/python bench/scale.py [--posts 4000] [--claims 200]    (needs the scale extra; prints one line)
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import settings as settings_module
from bench.classify import TOPICS, claims, posts
from classifiers.job import LabelJob
from classifiers.ray_pool import RayLabeller, connect, start_pool
from classifiers.ray_testing import LocalCluster
from collectors.base import Batch, Claim, Post
from storage.db import Database

NOW = datetime(2026, 11, 2, tzinfo=UTC)
CHUNK = 64


def seeded(texts: list[str], claim_rows: list) -> Database:  # type: ignore[type-arg]
    db = Database(":memory:")
    rows = [Post(platform="x", post_id=str(i), created_at=NOW - timedelta(seconds=i), text=text, raw={})
            for i, text in enumerate(texts)]
    stored = [Claim(c.claim_id, c.text, c.rating, c.url, c.source) for c in claim_rows]
    db.write_batch("bench", Batch(rows, "c", claims=stored))  # the job reads the claims table, as the engine
    return db


def settings(folder: Path) -> settings_module.Settings:
    topics = "".join(f'[[topics]]\nname = "{t.name}"\ndescription = "{t.description}"\n' for t in TOPICS)
    path = folder / "settings.toml"
    path.write_text(f"[classify]\nbatch_size = 512\nmax_seconds_per_run = 100000\n{topics}")
    return settings_module.load(path)


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def workers_cpu(pool: RayLabeller) -> float:
    import ray

    pids = [info["pid"] for info in ray.get([a.ready.remote() for a in pool.actors])]
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def measure(s: settings_module.Settings, cluster: LocalCluster, actors: int, texts: list[str],
            claim_rows: list) -> tuple[float, float, float]:  # type: ignore[type-arg]
    """(posts/s, worker CPU ms/post, engine CPU ms/post) for one pool size."""
    db = seeded(texts, claim_rows)
    pool = start_pool(TOPICS, None, cluster.address, cluster.token, actors, 1, CHUNK, 600)
    try:
        job = LabelJob(db, s, lambda: NOW.replace(tzinfo=None), pool)  # type: ignore[arg-type]
        job.labeller.set_claims(claim_rows)  # the same claims the job reads from the table ...
        pool.label(texts[:CHUNK * actors])  # ... indexed in every worker, sessions warm: not timed
        used, mine, started = workers_cpu(pool), cpu_self(), time.perf_counter()
        done = 0
        while (n := job.run()) > 0:
            done += n
        wall = time.perf_counter() - started
        assert done == len(texts), f"labelled {done} of {len(texts)}"
        return len(texts) / wall, (workers_cpu(pool) - used) / done * 1e3, (cpu_self() - mine) / done * 1e3
    finally:
        pool.close()
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=4000)
    parser.add_argument("--claims", type=int, default=200)
    args = parser.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        print("scale: skipped: needs Ray, `pip install -e '.[scale]'`")
        return
    texts, claim_rows = posts(args.posts), claims(args.claims)
    with tempfile.TemporaryDirectory() as tmp, LocalCluster(Path(tmp), workers=2) as cluster:
        connect(cluster.address, cluster.token)
        s = settings(Path(tmp))
        one, two = (measure(s, cluster, n, texts, claim_rows) for n in (1, 2))
    print(f"scale: {args.posts} posts, {len(claim_rows)} claims, chunks of {CHUNK}: 1 worker {one[0]:.1f} posts/s, "
          f"2 workers {two[0]:.1f} posts/s, ratio {two[0] / one[0]:.2f} (goal >= 1.6); worker CPU "
          f"{one[1]:.1f} / {two[1]:.1f} ms/post, engine CPU {one[2]:.1f} / {two[2]:.1f} ms/post "
          f"(load average {psutil.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
