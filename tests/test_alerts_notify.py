"""Notifications for real: Slack- and Teams-compatible webhooks to a local receiver (down, then back, and across a
restart), and email over STARTTLS with credentials from the environment to an aiosmtpd sink."""

import datetime as dt
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import settings
from alerts import notify
from alerts.detect import run_pass
from collectors.base import Batch, Post
from helpers import free_port
from storage.db import Database

NOW = datetime(2026, 11, 3, 15, 0)
TEXT = "Share this now: the county is hiding the real numbers from the fairgrounds testing site"


def coordinated(db: Database, accounts: int, start: datetime = NOW - timedelta(minutes=12)) -> None:
    posts = [Post("x", f"c{start:%H%M}-{i}", TEXT, start + timedelta(seconds=40 * i), author_id=f"acct{i}",
                  watches=("testing and care",)) for i in range(accounts)]
    db.write_batch("test", Batch(posts, None))


def make_settings(tmp_path: Path, **alerts: object) -> settings.Settings:
    data = {"timezone": "America/Chicago", "alerts": {"retry_initial_seconds": 30, **alerts},
            "smtp": {"host": "127.0.0.1", "sender": "radar@county.example"}}
    return settings.parse(data, tmp_path / "settings.toml")


class Receiver:
    """A webhook receiver on 127.0.0.1 that records every request; it can be down and come back on its port."""

    def __init__(self, port: int) -> None:
        self.port, self.requests, self.server = port, [], None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver():
    r = Receiver(free_port())
    yield r
    r.stop()


def hooks(receiver: Receiver, *formats: str) -> list[dict[str, object]]:
    return [{"name": f"hook-{f}", "url": receiver.url, "format": f, "min_severity": "medium"} for f in formats]


def deliveries(db: Database) -> list[tuple]:
    return db.reader().execute("SELECT target, status, attempts, last_error FROM deliveries ORDER BY 1").fetchall()


def test_slack_and_teams_webhooks_get_compatible_payloads(fresh_db, receiver, tmp_path):
    receiver.start()
    s = make_settings(tmp_path, webhooks=hooks(receiver, "slack", "teams", "json"), dashboard_url="https://radar.example")
    coordinated(fresh_db, 12)
    result = run_pass(fresh_db, s, NOW)
    assert result.counts()["raised"] == 1 and result.deliveries == 3
    assert notify.send_due(fresh_db, s).sent == 3
    bodies = {r["body"].get("type", "slack" if "blocks" in r["body"] else "json"): r for r in receiver.requests}
    slack = bodies["slack"]["body"]
    assert slack["text"].startswith("[MEDIUM] New incident: Possible coordinated posting: 12 accounts")
    assert [b["type"] for b in slack["blocks"]][:2] == ["header", "section"]
    assert "not as a finding about any account or person" in slack["blocks"][1]["text"]["text"]
    assert slack["blocks"][-1]["elements"][0]["url"] == "https://radar.example/incidents?incident=1"
    card = bodies["message"]["body"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["body"][0]["text"] == slack["text"]
    plain = bodies["json"]["body"]
    assert plain["kind"] == "coordination" and plain["metrics"]["accounts"] == 12 and len(plain["evidence"]) == 5
    assert (plain["incident_id"], plain["alerts"], plain["kinds"]) == (1, 1, ["coordination"])
    assert "author" not in json.dumps(plain["evidence"])  # evidence is content and timing, never a handle
    assert {r["headers"]["X-CivicRadar-Delivery"] for r in receiver.requests} == {"1", "2", "3"}
    assert [d[1:3] for d in deliveries(fresh_db)] == [("sent", 1)] * 3


def test_a_down_webhook_is_retried_with_backoff_and_never_sent_twice(fresh_db, receiver, tmp_path):
    s = make_settings(tmp_path, webhooks=hooks(receiver, "slack"))
    coordinated(fresh_db, 12)
    wall = datetime(2026, 11, 3, 16, 0)
    run_pass(fresh_db, s, NOW, lambda: wall)
    assert notify.send_due(fresh_db, s, lambda: wall).failed == 1
    (_, status, attempts, error), = deliveries(fresh_db)
    assert (status, attempts) == ("pending", 1) and "ConnectError" in error
    receiver.start()
    assert notify.send_due(fresh_db, s, lambda: wall + timedelta(seconds=20)).sent == 0  # backing off: 30 s
    assert notify.send_due(fresh_db, s, lambda: wall + timedelta(seconds=31)).sent == 1
    assert notify.send_due(fresh_db, s, lambda: wall + timedelta(hours=1)).sent == 0
    assert len(receiver.requests) == 1 and deliveries(fresh_db)[0][1:3] == ("sent", 2)
    run_pass(fresh_db, s, NOW + timedelta(minutes=5), lambda: wall)  # the same situation: updated, not re-sent
    assert notify.send_due(fresh_db, s, lambda: wall + timedelta(hours=2)).sent == 0 and len(receiver.requests) == 1


def test_pending_deliveries_survive_a_restart(receiver, tmp_path):
    s = make_settings(tmp_path, webhooks=hooks(receiver, "teams"))
    path = tmp_path / "radar.duckdb"
    db = Database(path)
    coordinated(db, 12)
    run_pass(db, s, NOW)
    assert notify.send_due(db, s).failed == 1
    db.close()
    receiver.start()
    db = Database(path)
    assert notify.send_due(db, s, lambda: datetime.now(dt.UTC).replace(tzinfo=None) + timedelta(minutes=1)).sent == 1
    assert len(receiver.requests) == 1 and deliveries(db)[0][1] == "sent"
    db.close()


def test_a_delivery_is_marked_failed_after_max_attempts(fresh_db, receiver, tmp_path):
    s = make_settings(tmp_path, webhooks=hooks(receiver, "json"), max_attempts=2)
    coordinated(fresh_db, 12)
    run_pass(fresh_db, s, NOW, lambda: NOW)
    for minutes in (0, 10, 20):
        notify.send_due(fresh_db, s, lambda m=minutes: NOW + timedelta(minutes=m))
    assert deliveries(fresh_db)[0][1:3] == ("failed", 2)


def test_rules_select_by_severity_kind_and_watch(fresh_db, receiver, tmp_path):
    rules = [{"name": "high-only", "url": receiver.url, "min_severity": "high"},
             {"name": "volume-only", "url": receiver.url, "min_severity": "low", "kinds": ["volume_spike"]},
             {"name": "vaccines", "url": receiver.url, "min_severity": "low", "watches": ["vaccines"]},
             {"name": "testing", "url": receiver.url, "min_severity": "low", "watches": ["testing and care"]}]
    s = make_settings(tmp_path, webhooks=rules)
    coordinated(fresh_db, 12)
    run_pass(fresh_db, s, NOW)
    assert deliveries(fresh_db) == []  # a coordination alert has no watch: only rules without a watch filter
    coordinated(fresh_db, 25, NOW + timedelta(minutes=90))
    run_pass(fresh_db, s, NOW + timedelta(minutes=105))
    assert [d[0] for d in deliveries(fresh_db)] == ["high-only"]


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(datetime(2020, 1, 1))
            .not_valid_after(datetime(2100, 1, 1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == b"radar" and auth_data.password == b"s3cret-pass"
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


@pytest.fixture
def smtp_sink(tmp_path):
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=sink.authenticate, auth_require_tls=True)
    controller.start()
    yield sink, port, cert
    controller.stop()


def test_alert_email_over_starttls_with_credentials_from_the_environment(fresh_db, smtp_sink, tmp_path,
                                                                         monkeypatch):
    sink, port, cert = smtp_sink
    data = {"timezone": "America/Chicago",
            "alerts": {"emails": [{"name": "duty", "to": ["duty@county.example"], "min_severity": "medium"}]},
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "radar@county.example", "ca_file": str(cert),
                     "username": {"env": "CR_SMTP_USER"}, "password": {"env": "CR_SMTP_PASS"}}}
    s = settings.parse(data, tmp_path / "settings.toml")
    coordinated(fresh_db, 12)
    run_pass(fresh_db, s, NOW)
    monkeypatch.delenv("CR_SMTP_USER", raising=False)
    assert notify.send_due(fresh_db, s).failed == 1
    assert "CR_SMTP_USER is not set" in deliveries(fresh_db)[0][3] and not sink.messages
    monkeypatch.setenv("CR_SMTP_USER", "radar")
    monkeypatch.setenv("CR_SMTP_PASS", "s3cret-pass")
    assert notify.send_due(fresh_db, s, lambda: datetime.now(dt.UTC).replace(tzinfo=None) + timedelta(hours=1)).sent
    (sender, to, content), = sink.messages
    assert sender == "radar@county.example" and to == ["duty@county.example"] and sink.logins == ["radar"]
    import email

    message = email.message_from_bytes(content)
    assert message["Subject"].startswith("CivicRadar [MEDIUM] New incident: Possible coordinated posting")
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.walk()
             if not p.is_multipart()}
    assert "12 different accounts posted the same text" in parts["text/plain"]
    assert "<h2>" in parts["text/html"] and "Evidence" in parts["text/html"]
