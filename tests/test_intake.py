"""The public intake: tip-form abuse, SMS and Meta signatures, the spool, and the source that collects it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

import settings as settings_module
from collectors.intake import IntakeCollector, IntakeSourceSettings, contact_hash
from intake.app import create_app
from intake.spool import Position, Spool, read, remove_collected

KEY = b"k" * 32
TWILIO, META, VERIFY = "twilio-token-0123456789", "meta-secret-0123456789", "verify-0123456789"


@pytest.fixture
def intake(write_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO)
    monkeypatch.setenv("META_APP_SECRET", META)
    monkeypatch.setenv("META_VERIFY_TOKEN", VERIFY)
    path = write_settings("""
        [intake]
        spool = "spool"
        tips_per_hour = 3
        max_body_bytes = 2000
        max_text_chars = 500
        public_url = "https://tips.county.example"
        sms_auth_token = { env = "TWILIO_AUTH_TOKEN" }
        meta_app_secret = { env = "META_APP_SECRET" }
        meta_verify_token = { env = "META_VERIFY_TOKEN" }
    """)
    s = settings_module.load(path)
    return TestClient(create_app(s)), tmp_path / "spool"


def spooled(folder) -> list[dict]:
    return [json.loads(line) for line in read(folder, Position(), 10_000)[0]]


def form(client: TestClient, **fields):
    return client.post("/tip", content=urlencode(fields), headers={"content-type": "application/x-www-form-urlencoded"})


def test_a_tip_is_spooled_and_its_receipt_shows_the_text_as_text(intake):
    client, folder = intake
    page = client.get("/tip")
    assert page.status_code == 200 and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    answer = form(client, text="<script>alert('x')</script> rumour about the water", place="5th St",
                  contact="555-0100", consent="yes")
    assert answer.status_code == 200 and "<script>alert" not in answer.text
    assert "&lt;script&gt;" in answer.text
    [item] = spooled(folder)
    reference = re.search(r"reference <strong>([^<]+)</strong>", answer.text).group(1)
    assert item["id"] == reference and item["channel"] == "webform" and item["contact"] == "555-0100"


def test_contact_without_consent_is_not_kept(intake):
    client, folder = intake
    answer = form(client, text="Long queue", contact="me@example.org")
    assert "did not keep your contact" in answer.text and spooled(folder)[0]["contact"] == ""


def test_abuse_is_refused_without_spooling(intake):
    client, folder = intake
    assert form(client, text="").status_code == 400  # missing text
    assert form(client, text="x" * 600).status_code == 400  # over max_text_chars
    big = client.post("/tip", content=b"text=" + b"a" * 5000,
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413  # over max_body_bytes, refused unread
    assert form(client, text="buy pills", website="http://spam").status_code == 200  # honeypot: no tip kept
    assert spooled(folder) == []


def test_a_flood_from_one_address_is_refused_after_the_hourly_limit(intake):
    client, folder = intake
    codes = [form(client, text=f"tip {i}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]  # tips_per_hour = 3
    assert len(spooled(folder)) == 3


def test_staff_routes_do_not_exist_here(intake):
    client, _ = intake
    for path in ("/v1/query/post_counts", "/v1/sql", "/v1/actions/alert.acknowledge", "/"):
        assert client.post(path, json={}).status_code in (404, 405)


def twilio_post(client: TestClient, params: dict, signature: str | None):
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["x-twilio-signature"] = signature
    return client.post("/sms/twilio", content=urlencode(params), headers=headers)


def test_sms_needs_twilios_signature_and_a_retry_is_the_same_item(intake):
    client, folder = intake
    params = {"MessageSid": "SM123", "From": "+15550100", "To": "+15550199", "Body": "Is the site open?",
              "NumMedia": "0"}
    good = RequestValidator(TWILIO).compute_signature("https://tips.county.example/sms/twilio", params)
    assert twilio_post(client, params, None).status_code == 403
    assert twilio_post(client, params, "bm90IGl0").status_code == 403
    assert twilio_post(client, {**params, "Body": "tampered"}, good).status_code == 403
    assert spooled(folder) == []
    answer = twilio_post(client, params, good)
    assert answer.status_code == 200 and answer.text.endswith("<Response/>")
    twilio_post(client, params, good)  # Twilio retries: the same MessageSid
    assert [i["id"] for i in spooled(folder)] == ["sms-SM123", "sms-SM123"]


def meta_post(client: TestClient, payload: dict, secret: str = META):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/meta/webhook", content=body, headers={"x-hub-signature-256": signature,
                                                                 "content-type": "application/json"})


def test_meta_webhooks_verify_and_check_the_signature(intake):
    client, folder = intake
    ok = client.get("/meta/webhook", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                              "hub.challenge": "1158201444"})
    assert ok.text == "1158201444"
    assert client.get("/meta/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "no"}).status_code == 403
    page = {"object": "page", "entry": [{"id": "PAGE", "time": 1, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "comment_id": "44_55", "post_id": "44", "message": "Why closed?",
        "from": {"id": "9001", "name": "R"}, "created_time": 1764583200}}], "messaging": [{
        "sender": {"id": "PSID1"}, "recipient": {"id": "PAGE"}, "timestamp": 1764583200000,
        "message": {"mid": "m_1", "text": "Hello?"}}]}]}
    assert meta_post(client, page, secret="wrong").status_code == 403
    assert meta_post(client, page).text == "EVENT_RECEIVED"
    insta = {"object": "instagram", "entry": [{"id": "IG", "time": 1, "changes": [{"field": "comments", "value": {
        "id": "1790", "text": "fake news!", "from": {"id": "77", "username": "r"}, "media": {"id": "m9"}}}]}]}
    meta_post(client, insta)
    assert [i["id"] for i in spooled(folder)] == ["facebook-44_55", "facebook-msg-m_1", "instagram-1790"]


def test_the_source_maps_hashes_contacts_and_resumes(tmp_path):
    spool = Spool(tmp_path / "spool")
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    spool.append({"channel": "sms", "id": "sms-1", "text": "hi", "contact": "+1 (555) 010-0", "consent": True}, now)
    spool.append({"channel": "webform", "text": "queue", "contact": "Me@Example.org", "consent": True,
                  "place": "fairgrounds"}, now)
    spool.append({"channel": "nope", "id": "x"}, now)
    with open(tmp_path / "spool" / "2026-12-01.jsonl", "a") as f:
        f.write('{"channel": "webform", "id": "half')  # a line still being written is not read
    c = IntakeCollector("intake", IntakeSourceSettings(path=str(tmp_path / "spool")), tmp_path, KEY, lambda: now)
    batch = c.fetch(None)
    assert [p.platform for p in batch.posts] == ["sms", "webform"] and len(batch.quarantined) == 1
    assert batch.posts[0].author_id == contact_hash(KEY, "+15550100") and batch.posts[0].raw["contact"] is None
    assert batch.posts[1].author_id == contact_hash(KEY, "me@example.org")
    assert batch.posts[1].text == "queue (where: fairgrounds)"
    assert c.fetch(batch.next_cursor).posts == []
    with open(tmp_path / "spool" / "2026-12-01.jsonl", "a") as f:
        f.write('-line", "text": "done", "received_at": "2026-12-01T12:00:00+00:00"}\n')
    assert [p.post_id for p in c.fetch(batch.next_cursor).posts] == ["half-line"]


def test_collected_spool_files_are_removed_a_day_later(tmp_path):
    spool = Spool(tmp_path)
    for day in (1, 2, 5):
        spool.append({"channel": "webform", "text": "t"}, datetime(2026, 12, day, tzinfo=UTC))
    committed = Position("2026-12-05.jsonl", 0)
    assert remove_collected(tmp_path, committed, datetime(2026, 12, 3, 12, tzinfo=UTC)) == 1  # the 1st only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-12-02.jsonl", "2026-12-05.jsonl"]
    assert remove_collected(tmp_path, Position("2026-12-02.jsonl", 0), datetime(2026, 12, 9, tzinfo=UTC)) == 0
    assert remove_collected(tmp_path, committed, datetime(2026, 12, 5, tzinfo=UTC) + timedelta(hours=1)) == 1


@pytest.mark.slow
def test_sigkill_of_the_engine_while_it_collects_the_spool_loses_and_duplicates_nothing(tmp_path, write_settings):
    from helpers import free_port, sigkill_rounds

    spool, total = Spool(tmp_path / "spool"), 600
    port = free_port()
    settings = write_settings(f"""
        [storage]
        path = "db/civicradar.duckdb"
        [server]
        port = {port}
        [classify]
        enabled = false
        [sources.intake]
        kind = "intake"
        path = "spool"
        every_seconds = 0.1
        batch_size = 25
    """)
    written = [0]

    def write_200(round_: int) -> None:
        for _ in range(200):
            spool.append({"channel": "webform", "id": f"tip-{written[0]:04d}", "text": f"tip {written[0]}"})
            written[0] += 1

    sigkill_rounds(settings, f"http://127.0.0.1:{port}", "intake", [f"tip-{i:04d}" for i in range(total)],
                   [100, 200, 300], pause=0.05, before_round=write_200)


@pytest.mark.slow
def test_civicradar_intake_runs_as_its_own_process(tmp_path, write_settings):
    import subprocess
    import sys

    import httpx

    from helpers import free_port, wait_for

    port = free_port()
    settings = write_settings(f'[intake]\nport = {port}\nspool = "spool"\n')
    process = subprocess.Popen([sys.executable, "-m", "jobs", "--settings", str(settings), "intake"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page = wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/tip"), what="the intake", timeout=30)
        assert "send a tip" in page.text and "server" not in page.headers
        assert not (tmp_path / "db").exists()  # it opened no database and made no storage token
    finally:
        process.terminate()
        process.wait(timeout=10)

