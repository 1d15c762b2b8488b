"""Helpers shared by tests (imported as `helpers`; pytest puts tests/ on the path)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from collectors.base import Post
from storage.client import ServiceError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_post(i: int, platform: str = "x", when: datetime | None = None, **extra: object) -> Post:
    created = when or datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=i)
    fields: dict[str, object] = {"text": f"post number {i} about vaccines", "author_id": f"a{i % 7}", **extra}
    return Post(platform=platform, post_id=str(i), created_at=created, raw={"i": i}, **fields)  # type: ignore[arg-type]


def write_scenario(path: Path, rows: int, step_seconds: float = 60.0) -> Path:
    """A replay file of `rows` posts, `step_seconds` apart, with relative times `t`."""
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i in range(rows):
            row = {"t": i * step_seconds, "platform": "bluesky" if i % 3 else "x", "post_id": f"p{i:05d}",
                   "text": f"covid vaccine update {i} 😷", "author_id": f"u{i % 40}"}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def start_engine(settings: Path) -> subprocess.Popen[str]:
    exe = Path(sys.executable).parent / "civicradar"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    return subprocess.Popen([str(exe), "--settings", str(settings), "engine"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (ServiceError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def drained(engine: subprocess.Popen[str]) -> subprocess.Popen[str]:
    """Read the engine's output as it comes: a full pipe would stall its logging, and with it the engine."""
    import threading

    threading.Thread(target=lambda: engine.stdout and engine.stdout.read(), daemon=True).start()
    return engine


def sigkill_rounds(settings: Path, url: str, source: str, expected: list[str], wants: list[int], pause: float,
                   before_round: Any = lambda round_: None) -> None:
    """Start the engine and SIGKILL it once `wants[i]` posts of `source` are stored (then a staggered pause), once
    per round; restart it and check that every expected post id is stored exactly once."""
    from storage.client import StorageClient

    token_file = settings.parent / "db" / "service.token"
    for round_, want in enumerate(wants):
        before_round(round_)
        engine = drained(start_engine(settings))
        try:
            client = StorageClient(url, wait_for(lambda: token_file.exists() and token_file.read_text(), what="token"))
            wait_for(lambda c=client, w=want: len(c.query("post_keys", source=source)) >= w, what=f"{want} posts")
            time.sleep(pause * (round_ + 1))  # land the kills at different points of the write cycle
        finally:
            engine.send_signal(signal.SIGKILL)
            engine.wait(timeout=10)
    engine = drained(start_engine(settings))
    try:
        client = StorageClient(url, token_file.read_text())
        wait_for(lambda: len(client.query("post_keys", source=source)) == len(expected), what="every post")
        assert sorted(client.query("post_keys", source=source)["post_id"]) == sorted(expected)  # each exactly once
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=20)
