"""`civicradar serve`: a read replica of the lake on any machine, and the replicas' lag for `civicradar status`.

The replica serves the engine's storage-service API (storage.service) from a READ_ONLY attach of the lake
(storage.replica): named queries, the analysts' SQL sandbox with the same refusals and limits, the users file's
role checks. It runs no jobs and never writes the lake; actions are refused with a 409 naming the engine.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from typing import Any

from settings import Settings
from storage.callers import Directory
from storage.client import READ_URL_ENV, ServiceError, StorageClient
from storage.db import StorageError, utcnow
from storage.lake import LakeError, config_from
from storage.replica import Replica, describe, storage_state
from storage.service import Service, create_app

AUDIT_FILE = "replica-audit.jsonl"


def serve_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--host", help="address to listen on (default: [server] host)")
    cmd.add_argument("--port", type=int, help="port to listen on (default: [server] port)")


def open_replica(s: Settings) -> Replica:
    """The lake of the settings, attached read-only; a clear error when the settings name no lake."""
    try:
        config = config_from(s)
    except LakeError as e:
        raise StorageError(str(e)) from e
    if config is None:
        raise StorageError('civicradar serve is a read replica of the lake: set [storage] kind = "ducklake" and '
                           "[storage.lake] catalog / data_path to the engine's lake (the embedded DuckDB file has "
                           "one process, the engine: use civicradar engine)")
    audit = s.db_path.parent / AUDIT_FILE
    audit.parent.mkdir(parents=True, exist_ok=True)
    lake = s.storage.lake
    return Replica(config, audit, s.storage.memory_limit, lake.replica_threads, lake.replica_cache_entries)


def serve(s: Settings, token: str, info: dict[str, Any], directory: Directory, args: argparse.Namespace) -> int:
    """Start the replica's storage service and serve until SIGINT / SIGTERM."""
    replica = open_replica(s)
    server, host, port = s.server, args.host or s.server.host, args.port or s.server.port
    clock: Callable[[], tuple[Any, bool]] = lambda: (utcnow(), False)  # noqa: E731  (no collectors: real time)
    app = create_app(replica, token, clock, server.sql_row_limit, server.sql_timeout_seconds, info=info,
                     read_slots=server.read_slots, directory=directory)
    service = Service(app, host, port)
    service.start()
    replica.lock_down()  # the sandbox's refusals: no files, URLs, extensions or settings, as on the engine
    print(f"CivicRadar read replica: storage service at http://{host}:{port}, {describe(storage_state(replica))}",
          flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        service.stop()
        replica.close()
    return 0


def dashboard_env(s: Settings) -> dict[str, str]:
    """The dashboard's read URL ([dashboard] read_url) for `civicradar run` / `civicradar dashboard` to pass on."""
    return {READ_URL_ENV: s.dashboard.read_url} if s.dashboard.read_url else {}


def lag_lines(engine_url: str, read_url: str, token: str) -> list[str]:
    """The engine's storage and, when the dashboard reads from a replica ([dashboard] read_url), the replica's lag."""
    lines = []
    for label, url in (("engine", engine_url), ("read replica", read_url)):
        if not url:
            continue
        client = StorageClient(url, token, timeout=5)
        try:
            lines.append(f"  {label} at {url}: {describe(client.storage_state())}")
        except ServiceError as e:
            lines.append(f"  {label} at {url}: no answer ({e})")
        finally:
            client.close()
    return lines
