"""After a full run in which servers even echo credentials back in their error pages, no secret appears in the
logs, the database, the snapshot export, the digest or the service's error pages."""

import gzip
import json
import os
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import httpx
import pytest

from helpers import free_port, wait_for
from storage.client import StorageClient
from storage.db import Database

pytestmark = pytest.mark.slow
SECRETS = {
    "CR_TOKEN": "svc-token-SECRET-11111111",
    "CR_X_TOKEN": "x-bearer-SECRET-22222222",
    "CR_HOOK": "SECRET-33333333",  # the secret part of a webhook URL, as Slack's are
    "CR_SMTP_PASSWORD": "smtp-pass-SECRET-44444444",
}
SCENARIO = Path(__file__).resolve().parents[1] / "demo" / "scenario.jsonl.gz"


class Echo(BaseHTTPRequestHandler):
    """A hostile upstream: refuses everything and echoes the request (headers, path) in its error body."""

    def _refuse(self) -> None:
        body = f"denied {self.path} {dict(self.headers)}".encode()
        self.send_response(401 if "Authorization" in self.headers else 500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: object) -> None:
        pass


def burst_slice(path: Path) -> None:
    with gzip.open(SCENARIO, "rt", encoding="utf-8") as src, gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(line for line in src if 54 * 3600 <= json.loads(line)["t"] < 58 * 3600)


def test_no_secret_leaks_anywhere(tmp_path, write_settings):
    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    Thread(target=echo.serve_forever, daemon=True).start()
    upstream, port = f"http://127.0.0.1:{echo.server_address[1]}", free_port()
    env = {**os.environ, **SECRETS, "CR_HOOK_URL": f"{upstream}/hook/{SECRETS['CR_HOOK']}"}
    burst_slice(tmp_path / "burst.jsonl.gz")
    settings = write_settings(f"""
        [storage]
        path = "db/civicradar.duckdb"
        [server]
        port = {port}
        token = {{ env = "CR_TOKEN" }}
        [classify]
        enabled = false
        [alerts]
        every_seconds = 0.5
        notify_every_seconds = 0.5
        retry_initial_seconds = 1
        [[alerts.webhooks]]
        name = "hook"
        url = {{ env = "CR_HOOK_URL" }}
        min_severity = "low"
        [[alerts.emails]]
        name = "duty"
        to = ["duty@example.org"]
        min_severity = "low"
        [smtp]
        host = "127.0.0.1"
        port = {echo.server_address[1]}
        starttls = false
        username = {{ env = "CR_TOKEN" }}
        password = {{ env = "CR_SMTP_PASSWORD" }}
        timeout_seconds = 2
        [[watches]]
        name = "covid-19"
        keywords = ["covid", "coronavirus", "virus", "salt", "water"]
        [sources.x]
        kind = "x"
        base_url = "{upstream}"
        bearer_token = {{ env = "CR_X_TOKEN" }}
        every_seconds = 1
        [sources.demo]
        kind = "replay"
        path = "burst.jsonl.gz"
        speed = 900.0
        start_at_hours = 55.5
        drives_clock = true
        every_seconds = 0.3
    """)
    exe = Path(sys.executable).parent / "civicradar"
    engine = subprocess.Popen([str(exe), "--settings", str(settings), "engine"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    try:
        client = StorageClient(f"http://127.0.0.1:{port}", SECRETS["CR_TOKEN"], client="cli")  # `cli:NAME`: an operator
        wait_for(lambda: failed_deliveries(client) >= 2, timeout=120, what="deliveries to be tried and refused")
        wait_for(lambda: x_failed(client), timeout=60, what="the X source to be refused")
        snapshot = client._http.post("/v1/snapshot", json={"actor": "cli:test"}).json()
        refused = httpx.post(f"http://127.0.0.1:{port}/v1/query/nope", headers={"Authorization": "Bearer x"})
        pages = [refused.text, client._http.post("/v1/query/nope", json={}).text,
                 client._http.post("/v1/sql", json={"sql": "x"}).text]
    finally:
        engine.send_signal(signal.SIGTERM)
        log, _ = engine.communicate(timeout=60)
        echo.shutdown()
    digest = tmp_path / "digest.html"
    subprocess.run([str(exe), "--settings", str(settings), "digest", "--to", str(digest)], env=env, check=True,
                   capture_output=True, timeout=120)
    places = {"log": log, "error pages": "\n".join(pages), "digest": digest.read_text(),
              "database": database_text(tmp_path / "db" / "civicradar.duckdb"),
              "snapshot": "\n".join(p.read_bytes().decode("latin-1") for p in Path(snapshot["path"]).rglob("*")
                                    if p.is_file())}
    assert "denied" in places["database"]  # the hostile bodies did reach the run records...
    for where, text in places.items():
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked into the {where}"  # ...but never the secrets in them


def failed_deliveries(client: StorageClient) -> int:
    frame, _ = client.sql("SELECT count(*) AS n FROM deliveries WHERE attempts > 0 AND last_error IS NOT NULL",
                          actor="cli:test")
    return int(frame["n"].iloc[0])


def x_failed(client: StorageClient) -> bool:
    frame, _ = client.sql("SELECT count(*) AS n FROM runs WHERE source = 'x' AND status = 'error'", actor="cli:test")
    return int(frame["n"].iloc[0]) > 0


def database_text(path: Path) -> str:
    """Every value of every table, as text (the file itself is compressed, so grep it through SQL)."""
    db = Database(path)
    try:
        tables = [r[0] for r in db.reader().execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return "\n".join(db.reader().sql(f'SELECT * FROM "{t}"').df().to_string() for t in tables)
    finally:
        db.close()
