"""The engine as a real process: collects, serves with a token, survives SIGKILL without loss or duplicates."""

import signal
import time

import httpx
import pytest

from helpers import free_port, start_engine, wait_for, write_scenario
from storage.client import StorageClient

ROWS = 4000
pytestmark = pytest.mark.slow


@pytest.fixture
def engine_settings(tmp_path, write_settings):
    write_scenario(tmp_path / "scenario.jsonl.gz", ROWS, step_seconds=60)
    port = free_port()
    path = write_settings(f"""
        [storage]
        path = "db/civicradar.duckdb"
        [server]
        port = {port}
        [classify]
        enabled = false  # labelling has its own tests; this one is about collection and crashes
        [[watches]]
        name = "vaccines"
        keywords = ["vaccine"]
        [sources.demo]
        kind = "replay"
        path = "scenario.jsonl.gz"
        speed = 7200.0
        start_at_hours = 2.0
        every_seconds = 0.1
        batch_size = 40
        drives_clock = true
        max_catch_up_seconds = 0.5
    """)
    return path, f"http://127.0.0.1:{port}", tmp_path / "db" / "service.token"


def count(client: StorageClient) -> int:
    frame = client.query("post_counts")
    return int(frame["posts"].sum()) if len(frame) else 0


def stored_ids(client: StorageClient) -> list[str]:
    return sorted(client.query("post_keys", source="demo")["post_id"])


def test_engine_collects_serves_and_survives_sigkill(engine_settings):
    settings, url, token_file = engine_settings
    previous = 0
    for _round in range(4):
        engine = start_engine(settings)
        try:
            client = StorageClient(url, wait_for(lambda: token_file.exists() and token_file.read_text(), what="token"))
            at_start = wait_for(lambda c=client: count(c) + 1, what="the service") - 1
            assert at_start >= previous, f"round {_round}: {previous} posts before the kill, {at_start} after"
            wait_for(lambda c=client, p=previous: count(c) > p + 50, what="new posts after (re)start")
            if _round == 0:
                assert httpx.get(f"{url}/v1/query/post_counts").status_code in (401, 405)
                assert httpx.post(f"{url}/v1/query/post_counts", json={}).status_code == 401
                assert client.clock()[1] is True  # the replay drives the clock
            ids = stored_ids(client)
            # exactly a prefix of the file: nothing lost, nothing twice
            assert ids == [f"p{i:05d}" for i in range(len(ids))]
            previous = len(ids)
            time.sleep(0.37 * (_round + 1))  # land the kill at different points of the write cycle
        finally:
            engine.send_signal(signal.SIGKILL)
            engine.wait(timeout=10)
    engine = start_engine(settings)
    try:
        client = StorageClient(url, token_file.read_text())
        wait_for(lambda: count(client) > previous, what="posts after the last restart")
        ids = stored_ids(client)
        assert ids == [f"p{i:05d}" for i in range(len(ids))]
        runs = client.query("runs", source="demo", limit=100000)
        assert (runs["status"] == "running").sum() <= 1  # runs cut by a kill are marked interrupted at restart
    finally:
        engine.send_signal(signal.SIGTERM)
        output, _ = engine.communicate(timeout=30)
    assert engine.returncode == 0, output
    assert "stopping: finishing in-flight batches" in output
