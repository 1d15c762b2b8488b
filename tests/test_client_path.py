"""One client path for CLI commands (storage.local.client_path): the running engine's service when one answers,
else the database file opened here, behind the same interface."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

import jobs
from helpers import free_port, make_post
from storage.client import ServiceError, StorageClient
from storage.db import Database
from storage.local import LocalClient, client_path
from storage.service import Service, create_app

TOKEN = "t0ken-for-client-path"


def seeded(tmp_path: Path) -> Path:
    db = Database(tmp_path / "cr.duckdb")
    db.write_batch("test", make_batch())
    db.close()
    return tmp_path / "cr.duckdb"


def make_batch():  # type: ignore[no-untyped-def]
    from collectors.base import Batch

    return Batch([make_post(i) for i in range(6)], None)


def test_without_an_engine_the_file_is_read_and_acted_on_here(tmp_path: Path) -> None:
    path, url = seeded(tmp_path), f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with client_path(partial(StorageClient, url, TOKEN, timeout=2), lambda: Database(path), url) as (client, where):
        assert isinstance(client, LocalClient) and where == f"engine not running; read {path}"
        assert client.query("post_counts")["posts"].tolist() == [6]
        assert client.action("forget_author", "cli:tester", author_id="a1")["posts_removed"] == 1
        assert client.clock()[1] is False  # no detection pass yet: the wall clock
    db = Database(path)  # closed on leaving: the file opens again
    try:
        audit = db.reader().execute("SELECT actor, action, details FROM audit").fetchall()
        assert audit[0][:2] == ("cli:tester", "forget_author") and '"service_client": "cli"' in audit[0][2]
        assert db.reader().execute("SELECT count(*) FROM posts").fetchone() == (5,)
    finally:
        db.close()


def test_with_an_engine_the_same_calls_go_through_its_service(tmp_path: Path) -> None:
    path = seeded(tmp_path)
    with client_path(partial(StorageClient, "http://127.0.0.1:9", TOKEN, timeout=2), lambda: Database(path),
                     "http://127.0.0.1:9") as (local, _):
        expected = local.query("post_counts")
    db, port = Database(path), free_port()
    server = Service(create_app(db, TOKEN, lambda: (datetime(2026, 11, 3, 13, 0), True)), "127.0.0.1", port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        def no_file() -> Database:
            raise AssertionError("the file must not be opened while an engine answers")

        with client_path(partial(StorageClient, url, TOKEN, timeout=5), no_file, url) as (client, where):
            assert isinstance(client, StorageClient) and where == f"engine running, service at {url}"
            pd.testing.assert_frame_equal(client.query("post_counts"), expected, check_dtype=False)
            assert client.clock() == (datetime(2026, 11, 3, 13, 0), True)
        with pytest.raises(ServiceError), client_path(partial(StorageClient, url, "wrong-token", timeout=5),
                                                      no_file, url):
            pass  # a service that refuses is that error, not a reason to open the file
    finally:
        server.stop()
        db.close()


def test_civicradar_status_reads_the_file_when_no_engine_runs(tmp_path: Path, capsys, monkeypatch) -> None:
    path = seeded(tmp_path)
    settings = tmp_path / "cli.toml"
    settings.write_text(f'[storage]\npath = "{path}"\n[server]\nport = {free_port()}\n'
                        'token = { env = "CR_PATH_TOKEN" }\n', encoding="utf-8")
    monkeypatch.setenv("CR_PATH_TOKEN", TOKEN)
    assert jobs.main(["--settings", str(settings), "status"]) == 0
    printed = capsys.readouterr().out
    assert f"engine not running; read {path}" in printed and "Posts stored:" in printed
