"""Real parts for the DuckLake tests: a PostgreSQL server (Debian's binaries, initdb on a free port) and an S3 API
(moto's server mode), both on 127.0.0.1, started once per test session.

initdb and the server refuse to run as root, and CI runs as root: then they run as the `postgres` user that the
Debian package creates, in a folder of their own under /tmp (pytest's own tmp folders are private to root).
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import free_port
from storage.lake import LakeConfig

BUCKET = "lake"


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)] if os.geteuid() == 0 else cmd


@dataclass
class Postgres:
    bin: Path
    socket_dir: Path
    port: int
    root: Path  # removed at the end of the session
    user: str = "lake"

    template: str | None = None

    def _client(self, tool: str, *args: str, stdin: str | None = None) -> None:
        done = subprocess.run([str(self.bin / tool), "-h", str(self.socket_dir), "-p", str(self.port), "-U",
                               self.user, *args], capture_output=True, text=True, input=stdin)
        assert done.returncode == 0, f"{tool} {args}: {done.stderr}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new catalog database (empty, or a copy of `template`); returns its libpq connection string (over the
        Unix socket)."""
        self._client("createdb", *(("-T", template) if template else ()), name)
        return f"dbname={name} host={self.socket_dir} port={self.port} user={self.user}"

    def migrated(self, name: str, data_path: str) -> str:
        """A catalog with every migration applied, copied from one made once per session (migrating a lake takes
        ~5-10 s). DuckLake keeps the data path in the catalog (`ducklake_metadata`), so the copy's is set to
        `data_path`; the template has no data files (its few rows are inlined in the catalog)."""
        if self.template is None:
            from storage.db import Database

            folder = tempfile.mkdtemp(prefix="lake-template-", dir=self.root)
            Database(Path(folder) / "lake.name", lake=LakeConfig(self.create_database("lake_template"),
                                                                 f"{folder}/", 10)).close()
            self.template = "lake_template"
        dsn = self.create_database(name, self.template)
        self._client("psql", "-v", "ON_ERROR_STOP=1", "-d", name, "-v", f"path={data_path}",
                     stdin="UPDATE ducklake_metadata SET value = :'path' WHERE key = 'data_path';\n")
        return dsn


def start_postgres(root: Path) -> Postgres:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql; "
                    ".ci/run and make test install them)")
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "lake", "--auth=trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off"
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                                    "-o", options, "-w", "start"]), check=True, capture_output=True)
    return Postgres(bin_dir, sockets, port, root)


def stop_postgres(pg: Postgres, root: Path) -> None:
    subprocess.run(_as_server_user([str(pg.bin / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"]),
                   capture_output=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="civicradar-pg-"))
    os.chmod(root, 0o755)
    pg = start_postgres(root)
    try:
        yield pg
    finally:
        stop_postgres(pg, root)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class S3Server:
    endpoint: str  # host:port

    def config(self, catalog: str, prefix: str, inline_rows: int = 10) -> LakeConfig:
        from storage.lake import S3

        s3 = S3(self.endpoint, "us-east-1", "testing", "testing", "path", use_ssl=False)
        return LakeConfig(catalog, f"s3://{BUCKET}/{prefix}/", inline_rows, s3)

    def keys(self, prefix: str) -> list[str]:
        import boto3

        client = boto3.client("s3", endpoint_url=f"http://{self.endpoint}", aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 API on 127.0.0.1, with the bucket made through boto3 (the real client library)."""
    import boto3

    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)  # noqa: SIM115 (read on failure)
    # without PYTHONPATH: this project's `responses` package must not shadow the `responses` library moto imports
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env=env, cwd=tempfile.gettempdir())
    try:
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        deadline = time.monotonic() + 90  # moto imports a lot: slow to start on a loaded machine
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception as e:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"moto_server did not start: {Path(log.name).read_text()[-2000:]}") from e
                time.sleep(0.3)
        yield S3Server(f"127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        os.unlink(log.name)
