"""Freshness: how long after a post is created it is stored, labelled, visible to the dashboard, and how long after
the post that crosses a volume threshold its incident is open.

A real engine process (`civicradar engine`, the shipped models labelling, settings as shipped apart from the paths,
the port and the source) reads a replay file at real speed (speed 1): three days of quiet history arrive at once, then
posts at their times, among them a burst of BURST posts on the watch "vaccines", one every BURST_GAP seconds from
LEAD seconds after the engine starts. A client polls the storage service's `post_keys` query every POLL seconds, as
the dashboard would. Afterwards the file gives each burst post's stored (collected_at) and labelled (labelled_at)
times and the first incident's opening time; the crossing post is the first burst post at which the hour window of
the watch or of all posts meets the volume rule (min_posts, medium_ratio and min_z against the same hour on past
days, as alerts.detectors.volume computes it).

Run: .venv/bin/python bench/freshness.py [--no-fast-path]   (fixed seed; prints one line)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import signal
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import settings as settings_module
from alerts.detectors.volume import VolumeRule
from alerts.registry import Rules
from alerts.windows import seasonal, typical
from helpers import free_port, start_engine, wait_for
from storage.client import StorageClient

SEED, HISTORY_HOURS, LEAD, BURST, BURST_GAP, TAIL, POLL = 7, 72, 60.0, 60, 2.0, 90.0, 0.5
PHRASES = ("is the new vaccine making kids sick?", "my neighbour says the vaccine changed her DNA",
           "they are hiding what is in the vaccine", "vaccine shots pulled at the fairgrounds site??")
CHATTER = ("road works on main street again", "library hours change next week", "great game last night",
           "bus 12 was late this morning", "farmers market is open saturday")


def scenario(path: Path) -> list[str]:
    """History (one watch post an hour and three others), live chatter, and the burst; returns the burst's ids."""
    rng, rows, start = random.Random(SEED), [], HISTORY_HOURS * 3600.0
    for h in range(HISTORY_HOURS):
        rows.append({"t": h * 3600.0 + rng.uniform(0, 3500), "text": "the vaccine clinic is open today"})
        rows += [{"t": h * 3600.0 + rng.uniform(0, 3500), "text": rng.choice(CHATTER)} for _ in range(3)]
    live = range(5, int(LEAD + BURST * BURST_GAP + TAIL), 1200)  # the same three an hour as before
    rows += [{"t": start + s, "text": rng.choice(CHATTER)} for s in live]
    burst = [{"t": start + LEAD + i * BURST_GAP, "text": f"{rng.choice(PHRASES)} #{i}", "burst": True}
             for i in range(BURST)]
    rows, ids = sorted(rows + burst, key=lambda r: r["t"]), []
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            post_id = f"{'b' if row.pop('burst', False) else 'q'}{i:05d}"
            ids += [post_id] if post_id.startswith("b") else []
            f.write(json.dumps({**row, "platform": "bluesky", "post_id": post_id,
                                "author_id": f"u{rng.randrange(500)}"}) + "\n")
    return ids


def settings_file(folder: Path, port: int, fast: bool) -> Path:
    path = folder / "settings.toml"
    path.write_text(f"""
[storage]
path = "db/civicradar.duckdb"
[server]
port = {port}
[alerts]
fast_path = {str(fast).lower()}
[[watches]]
name = "vaccines"
keywords = ["vaccine"]
[sources.live]
kind = "replay"
path = "scenario.jsonl.gz"
platform = "bluesky"
speed = 1.0
start_at_hours = {HISTORY_HOURS}
every_seconds = 1.0
""", encoding="utf-8")
    return path


def poll_visible(client: StorageClient, seen: dict[str, datetime], stop: threading.Event) -> None:
    while not stop.is_set():
        now = datetime.now(UTC).replace(tzinfo=None)
        try:
            for post_id in client.query("post_keys", source="live")["post_id"]:
                seen.setdefault(str(post_id), now)
        except Exception:  # the service starting up: try again
            pass
        stop.wait(POLL)


def run_engine(folder: Path, settings: Path, seconds: float) -> dict[str, datetime]:
    engine, seen, stop = start_engine(settings), {}, threading.Event()
    try:
        token_file = folder / "db" / "service.token"
        client = StorageClient(f"http://127.0.0.1:{settings_port(settings)}",
                               wait_for(lambda: token_file.exists() and token_file.read_text(), 120, "the token"))
        poller = threading.Thread(target=poll_visible, args=(client, seen, stop), daemon=True)
        poller.start()
        time.sleep(seconds)
    finally:
        stop.set()
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=120)
    return seen


def settings_port(path: Path) -> int:
    return settings_module.load(path).server.port


def crossing(con: duckdb.DuckDBPyConnection, burst: list[str], s: settings_module.Settings) -> tuple[str, datetime]:
    """The first burst post at which an hour window meets the volume rule, on the watch or on all posts."""
    found = [_crossing(con, burst, s, series) for series in ("list_contains(watches, 'vaccines')", "true")]
    return min(found, key=lambda f: f[1])


def _crossing(con: duckdb.DuckDBPyConnection, burst: list[str], s: settings_module.Settings,
              series: str) -> tuple[str, datetime]:
    rule, zone = Rules(s.alerts)(VolumeRule), s.zone
    times = np.array([r[0] for r in con.execute(f"SELECT created_at FROM posts WHERE {series}").fetchall()])
    start, window = con.execute("SELECT min(created_at) FROM posts").fetchall()[0][0], timedelta(hours=1)
    count = lambda lo, hi: int(((times > lo) & (times <= hi)).sum())  # noqa: E731
    for post_id, at in con.execute("SELECT post_id, created_at FROM posts WHERE post_id IN (SELECT unnest(?)) "
                                   "ORDER BY created_at", [burst]).fetchall():
        base = seasonal(at, window, zone, rule.weeks, rule.min_weeks, rule.days, start)
        expected = max(typical([count(lo, hi) for lo, hi in base.windows]), rule.baseline_floor)
        now = count(at - window, at)
        z = (now - expected) / expected**0.5
        if now >= rule.min_posts and now >= rule.medium_ratio * expected and z >= rule.min_z:
            return post_id, at
    raise SystemExit("the burst never crossed the volume threshold")


def seconds(values: list[timedelta]) -> tuple[float, float]:
    s = np.array([v.total_seconds() for v in values])
    return float(np.percentile(s, 50)), float(np.percentile(s, 95))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--no-fast-path", action="store_true", help="the settled step grid only (for comparison)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        burst = scenario(folder / "scenario.jsonl.gz")
        path = settings_file(folder, free_port(), not args.no_fast_path)
        wait = LEAD + BURST * BURST_GAP + TAIL + (480 if args.no_fast_path else 0)
        seen = run_engine(folder, path, wait)
        con = duckdb.connect(str(folder / "db" / "civicradar.duckdb"), read_only=True)
        rows = con.execute("SELECT p.post_id, p.created_at, p.collected_at, l.labelled_at FROM posts p "
                           "LEFT JOIN labels l USING (platform, post_id) WHERE p.post_id IN (SELECT unnest(?))",
                           [burst]).fetchall()
        post_id, at = crossing(con, burst, settings_module.load(path))
        opened = con.execute("SELECT min(opened_at) FROM incidents").fetchall()[0][0]
        why = con.execute("SELECT list(fingerprint ORDER BY raised_at) FROM alerts").fetchall()[0][0] or []
    stored = seconds([r[2] - r[1] for r in rows])
    labelled = seconds([r[3] - r[1] for r in rows if r[3] is not None])
    visible = seconds([seen[r[0]] - r[1] for r in rows if r[0] in seen])
    incident = "none" if opened is None else f"{(opened - at).total_seconds():.0f} s (alerts: {', '.join(why)})"
    print(f"freshness ({'settled grid only' if args.no_fast_path else 'fast path'}, {len(rows)} burst posts): "
          f"stored p50 {stored[0]:.1f} s p95 {stored[1]:.1f} s; labelled p50 {labelled[0]:.1f} s p95 "
          f"{labelled[1]:.1f} s ({sum(r[3] is not None for r in rows)} labelled); visible p50 {visible[0]:.1f} s p95 "
          f"{visible[1]:.1f} s; incident {incident} after the crossing post {post_id}")


if __name__ == "__main__":
    main()
