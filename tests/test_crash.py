"""SIGKILL the engine at 24 seeded random moments while it collects, labels, detects and delivers alerts.

After every restart and at the end: every post the source cursor acknowledges is stored exactly once and none
beyond it; every label row is whole; every alert has its history; the rollups (volume, posts, topics) equal a
full recount and every post has its key; and every queued notification is delivered at least once, a second
time only when a kill landed between sending and recording it (receivers de-duplicate on the X-CivicRadar-Delivery
header).
"""

from __future__ import annotations

import gzip
import json
import random
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import free_port, start_engine, wait_for
from storage import rollup
from storage.client import ServiceError, StorageClient
from storage.db import Database

pytestmark = pytest.mark.slow
KILLS = 24
SCENARIO = Path(__file__).resolve().parents[1] / "demo" / "scenario.jsonl.gz"
ROOT = Path(__file__).resolve().parents[1]


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.seen[self.headers["X-CivicRadar-Delivery"]] += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def scenario_slice(path: Path) -> list[str]:
    """The demo's hours 50 to 60 (history, then the rumour burst at 56 h): its post ids, in order."""
    ids = []
    with gzip.open(SCENARIO, "rt", encoding="utf-8") as src, gzip.open(path, "wt", encoding="utf-8") as out:
        for line in src:
            row = json.loads(line)
            if 50 * 3600 <= row["t"] < 60 * 3600:
                out.write(line)
                ids.append(row["post_id"])
    return ids


@pytest.fixture
def crash_setup(tmp_path, write_settings, tiny_models_dir):
    ids = scenario_slice(tmp_path / "slice.jsonl.gz")
    receiver = Receiver()
    port = free_port()
    settings = write_settings(f"""
        timezone = "America/Chicago"
        [storage]
        path = "db/civicradar.duckdb"
        [server]
        port = {port}
        [classify]
        every_seconds = 0.5
        batch_size = 64
        models_dir = "{tiny_models_dir}"
        [alerts]
        every_seconds = 0.5
        notify_every_seconds = 0.5
        retry_initial_seconds = 1
        [[alerts.webhooks]]
        name = "receiver"
        url = "http://127.0.0.1:{receiver.server_address[1]}/hook"
        min_severity = "low"
        [[watches]]
        name = "covid-19"
        keywords = ["covid", "coronavirus", "virus"]
        [[watches]]
        name = "testing and care"
        keywords = ["test", "testing", "fairgrounds"]
        [[topics]]
        name = "prevention and cures"
        description = "Claimed cures and remedies for COVID-19"
        [sources.rumours]
        kind = "claims"
        path = "{ROOT / 'demo' / 'claims.csv'}"
        every_seconds = 5
        [sources.demo]
        kind = "replay"
        path = "slice.jsonl.gz"
        speed = 600.0
        start_at_hours = 55.5
        drives_clock = true
        every_seconds = 0.3
        batch_size = 200
        max_catch_up_seconds = 2.0
    """)
    yield settings, f"http://127.0.0.1:{port}", tmp_path / "db" / "service.token", receiver, ids
    receiver.shutdown()


def cursor_line(client: StorageClient) -> int:
    frame, _ = client.sql("SELECT cursor FROM cursors WHERE source = 'demo'", actor="cli:test")
    return json.loads(frame["cursor"].iloc[0])["line"] if len(frame) else 0  # noqa: RUF100


def check_posts(client: StorageClient, ids: list[str]) -> int:
    """Stored posts are exactly the rows the cursor acknowledges (read in one snapshot)."""
    frame, _ = client.sql(
        "SELECT (SELECT cursor FROM cursors WHERE source = 'demo') AS cursor, "
        "(SELECT list(post_id) FROM posts WHERE source = 'demo') AS ids", actor="cli:test")
    cursor, stored = frame["cursor"].iloc[0], list(frame["ids"].iloc[0] if frame["ids"].iloc[0] is not None else [])
    line = json.loads(cursor)["line"] if isinstance(cursor, str) else 0  # NULL (NaN) before the first batch
    assert sorted(stored) == sorted(ids[:line]), f"cursor at {line}, {len(stored)} posts stored"
    return line


def test_sigkill_at_random_moments_loses_and_repeats_nothing(crash_setup):
    settings, url, token_file, receiver, ids = crash_setup
    rng, line = random.Random(20261123), 0
    for _ in range(KILLS):
        engine = start_engine(settings)
        try:
            client = StorageClient(url, wait_for(lambda: token_file.exists() and token_file.read_text(), what="token"),
                                   client="cli")  # an operator on the host: `cli:NAME` actors act as admins
            wait_for(lambda c=client: c.clock(), what="the service")
            line = max(line, check_posts(client, ids))
            time.sleep(rng.uniform(0.2, 2.5))
        finally:
            engine.send_signal(signal.SIGKILL)
            engine.wait(timeout=10)
    engine = start_engine(settings)
    try:
        client = StorageClient(url, wait_for(lambda: token_file.exists() and token_file.read_text(), what="token"),
                               client="cli")  # an operator on the host: `cli:NAME` actors act as admins
        wait_for(lambda: cursor_line(client) >= len(ids), timeout=120, what="the replay to finish")
        wait_for(lambda: settled(client), timeout=120, what="labels and deliveries to catch up")
        assert check_posts(client, ids) == len(ids)
    finally:
        engine.send_signal(signal.SIGTERM)
        output, _ = engine.communicate(timeout=60)
    assert engine.returncode == 0, output[-2000:]
    check_database(settings.parent / "db" / "civicradar.duckdb", receiver)


def settled(client: StorageClient) -> bool:
    try:
        frame, _ = client.sql(
            "SELECT (SELECT count(*) FROM posts) - (SELECT count(*) FROM labels) AS unlabelled, "
            "(SELECT count(*) FROM deliveries WHERE status <> 'sent') AS unsent, "
            "(SELECT count(*) FROM deliveries) AS deliveries", actor="cli:test")
    except ServiceError:
        return False
    row = frame.iloc[0]
    return bool(row["unlabelled"] == 0 and row["unsent"] == 0 and row["deliveries"] > 0)


def check_database(path: Path, receiver: Receiver) -> None:
    db = Database(path)
    try:
        sql = db.reader().execute
        whole = sql("SELECT count(*) FROM labels WHERE sentiment_model IS NULL OR topics_model IS NULL "
                    "OR misinfo_model IS NULL OR labelled_at IS NULL").fetchall()
        assert whole == [(0,)], "a label row was half-written"
        orphans = sql("SELECT count(*) FROM alerts a WHERE NOT EXISTS "
                      "(SELECT 1 FROM alert_events e WHERE e.alert_id = a.alert_id)").fetchall()
        assert orphans == [(0,)], "an alert without its history"
        for table, counts in (("volume_5m", rollup.ALL_COUNTS), ("posts_5m", rollup.ALL_POST_COUNTS),
                              ("topics_5m", rollup.ALL_TOPIC_COUNTS)):
            assert sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == \
                sql(f"SELECT * FROM ({counts}) ORDER BY ALL").fetchall(), table
        assert sql("SELECT count(*) FROM posts").fetchall() == sql("SELECT count(*) FROM post_keys").fetchall()
        sent = {str(r[0]) for r in sql("SELECT delivery_id FROM deliveries WHERE status = 'sent'").fetchall()}
        assert sent and sent <= set(receiver.seen), "a delivery recorded as sent never reached the receiver"
        repeats = sum(n - 1 for n in receiver.seen.values())
        assert repeats <= KILLS, f"{repeats} repeated deliveries with {KILLS} kills"
        assert sql("SELECT count(*) FROM runs WHERE status = 'running'").fetchall() == [(0,)]
    finally:
        db.close()
