"""Shared fixtures: fresh databases and settings files."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from collectors.base import Batch
from core.users import UserFile
from helpers import free_port, make_post
from storage.callers import Directory
from storage.client import StorageClient
from storage.db import Database
from storage.service import Service, create_app

TOKEN = "test-token-0123456789"
SEED_NOW = datetime(2026, 11, 2, tzinfo=UTC)
# The people the service fixture's tests act as (the service checks each actor's role in a users file).
ACTORS = {"ann": "comms", "bo": "comms", "cy": "lead", "analyst@county": "analyst", "a": "analyst",
          "viewer": "viewer", "comms": "comms", "lead": "lead", "analyst": "analyst", "admin": "admin"}


def users_directory(path: Path, roles: dict[str, str]) -> Directory:
    """A users file (single-sign-on style entries: no passwords) naming each actor's role, as the service reads it."""
    path.write_text(yaml.safe_dump({"users": {name: {"role": role} for name, role in roles.items()}}), encoding="utf-8")
    return Directory(UserFile(path))


@pytest.fixture
def fresh_db() -> Iterator[Database]:
    db = Database(":memory:")
    yield db
    db.close()


@pytest.fixture
def write_settings(tmp_path: Path):
    def write(body: str, name: str = "settings.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write


@pytest.fixture
def seeded_db(fresh_db: Database) -> Database:
    """A day of posts on two platforms and two watches, ending at SEED_NOW, plus one run record."""
    start = SEED_NOW - timedelta(hours=24)
    posts = [make_post(i, "x" if i % 2 else "bluesky", start + timedelta(minutes=10 * i),
                       watches=("vaccines",) if i % 3 else ("covid-19", "vaccines"))
             for i in range(144)]
    fresh_db.write_batch("demo", Batch(posts, "cursor-1"))
    run = fresh_db.start_run("demo", "collect")
    fresh_db.finish_run(run, "ok", items=len(posts))
    return fresh_db


@pytest.fixture
def service(seeded_db: Database, tmp_path: Path) -> Iterator[tuple[StorageClient, Database]]:
    """The real storage service on a free port, serving the seeded database; yields a client and the db."""
    app = create_app(seeded_db, TOKEN, lambda: (SEED_NOW.replace(tzinfo=None), False),
                     info={"agency": "Test County", "refresh_seconds": 1, "watches": ["covid-19", "vaccines"]},
                     directory=users_directory(tmp_path / "service-users.yaml", ACTORS))
    server = Service(app, "127.0.0.1", free_port())
    server.start()
    url = f"http://127.0.0.1:{server.server.config.port}"
    client = StorageClient(url, TOKEN)
    yield client, seeded_db
    client.close()
    server.stop()


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random tiny models in the real folder layout (built once per test session, a few seconds)."""
    from classifiers.testing import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(autouse=True, scope="session")
def _browser_patience() -> None:
    """Playwright's assertions wait 5 s by default: a dashboard's first render on a loaded 2-core CI machine can
    take longer, so browser tests wait as long as their pages' own timeouts."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
