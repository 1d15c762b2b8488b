"""E-mail tips over IMAP against a real Dovecot on a free port: mapping, skips, cursor, errors, SIGKILL."""

from __future__ import annotations

import json

import pytest
from imap_server import PASSWORD, USER, ImapServer, mail

from collectors.base import AuthFailed
from collectors.imap import ImapCollector, ImapSettings, address_hash, html_to_text, skip_reason
from helpers import free_port, sigkill_rounds

KEY = b"k" * 32


@pytest.fixture
def imap(monkeypatch):
    monkeypatch.setenv("IMAP_PASSWORD", PASSWORD)
    server = ImapServer()
    yield server
    server.stop()


def collector(server: ImapServer, **extra) -> ImapCollector:
    return ImapCollector("tips", ImapSettings(base_url=server.url, username=USER, **extra), KEY, sleep=lambda s: None)


def test_tips_map_to_posts_with_hashed_senders_and_skips_with_reasons(imap):
    attachment = (b"From: R <r@example.org>\r\nSubject: photo\r\nMessage-ID: <att@x>\r\nMIME-Version: 1.0\r\n"
                  b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
                  b"See the queue\r\n--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; "
                  b"filename=queue.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--B--\r\n")
    imap.deliver(
        mail(1),
        mail(2, body="<p>Boil&nbsp;notice?</p><script>alert(1)</script><p>On 5th street</p>", html=True),
        attachment,
        mail(3, subject="Out of office", headers="Auto-Submitted: auto-replied\r\n"),
        mail(4, sender="MAILER-DAEMON@mx.example.org", subject="Undelivered"),
        mail(5, headers="X-Spam-Flag: YES\r\n"),
        mail(6, sender="RESIDENT1@Example.org", subject="Again"),
    )
    batch = collector(imap).fetch(None)
    by_id = {p.post_id: p for p in batch.posts}
    assert sorted(by_id) == ["att@x", "tip-1@example.org", "tip-2@example.org", "tip-6@example.org"]
    first = by_id["tip-1@example.org"]
    assert first.platform == "email" and first.text == "Testing site 1 — The line at the fairgrounds is two hours long."
    assert first.author_id == address_hash(KEY, "resident1@example.org") == by_id["tip-6@example.org"].author_id
    assert "resident1" not in json.dumps(first.raw) and first.raw["from"] is None  # no address stored
    assert by_id["tip-2@example.org"].text == "Testing site 2 — Boil notice?\nOn 5th street"
    assert by_id["att@x"].raw["attachments"][0]["filename"] == "queue.png"
    reasons = " | ".join(batch.warnings)
    assert "auto-reply" in reasons and "bounce" in reasons and "spam" in reasons and len(batch.warnings) == 3


def test_cursor_reads_each_message_once_and_never_marks_them_read(imap):
    imap.deliver(mail(1), mail(2))
    c = collector(imap)
    first = c.fetch(None)
    assert len(first.posts) == 2 and json.loads(first.next_cursor)["uid"] == 2
    assert c.fetch(first.next_cursor).posts == []  # "3:*" still names message 2: it is not read again
    imap.deliver(mail(3))
    assert [p.post_id for p in c.fetch(first.next_cursor).posts] == ["tip-3@example.org"]
    renumbered = json.dumps({"uidvalidity": "1", "uid": 2})  # the server renumbered the folder: start over
    assert len(c.fetch(renumbered).posts) == 3


def test_paging_and_keep_addresses(imap):
    imap.deliver(*(mail(i) for i in range(5)))
    c = collector(imap, max_messages=2, keep_addresses=True)
    batch, seen = c.fetch(None), []
    while True:
        seen += batch.posts
        if not batch.more:
            break
        batch = c.fetch(batch.next_cursor)
    assert len(seen) == 5 and seen[0].author_id == "resident0@example.org"


def test_a_refused_login_says_what_to_do(imap, monkeypatch):
    monkeypatch.setenv("IMAP_PASSWORD", "wrong")
    with pytest.raises(AuthFailed, match="app password"):
        collector(imap).fetch(None)


def test_helpers():
    assert html_to_text("<div>a<br>b</div><style>x{}</style>") == "a\nb"
    assert skip_reason({"precedence": ("bulk",)}, "x@y") and skip_reason({}, "ok@y") is None


@pytest.mark.slow
def test_sigkill_while_collecting_loses_and_duplicates_nothing(imap, tmp_path, write_settings):
    total = 120
    imap.deliver(*(mail(i) for i in range(total)))
    port = free_port()
    settings = write_settings(f"""
        [storage]
        path = "db/civicradar.duckdb"
        [server]
        port = {port}
        [classify]
        enabled = false
        [sources.tips]
        kind = "imap"
        base_url = "{imap.url}"
        username = "{USER}"
        every_seconds = 0.2
        max_messages = 7
    """)
    wants = [20, 40, 60]
    sigkill_rounds(settings, f"http://127.0.0.1:{port}", "tips", [f"tip-{i}@example.org" for i in range(total)], wants,
                   pause=0.13)
