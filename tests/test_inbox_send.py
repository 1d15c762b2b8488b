"""Inbox replies sent from CivicRadar through the real client libraries (atproto, Mastodon.py, tweepy, twilio)
against fake APIs on 127.0.0.1: a reply to the resident's post on each platform, an SMS through Twilio's Messages
API, the switches that keep it off by default, who may send, and the answered item with its audit row."""

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from posting_fakes import AGENCY_DID, fake_bluesky, fake_mastodon, fake_x, posting_toml, reply, secrets
from werkzeug import Request, Response

import settings
from collectors.base import Batch, Post
from responses import inbox_send
from responses.inbox_send import Target
from responses.posting import PostingError
from storage.actions import ACTIONS
from storage.db import Database
from storage.inbox_queries import SEND_FAILED, SENT
from storage.queries import QUERIES

RESIDENT = "at://did:plc:resident9/app.bsky.feed.post/3kquestion"
ROOT = "at://did:plc:agency123/app.bsky.feed.post/3kroot"
SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-token-1234"
TEXT = "Testing is free at the fairgrounds, 9 to 5 every day."


@pytest.fixture(name="config")
def config_fixture(httpserver, tmp_path, monkeypatch):
    secrets(monkeypatch)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    url = httpserver.url_for("/").rstrip("/")
    path = tmp_path / "send.toml"
    path.write_text(posting_toml(url) + f'[posting.sms]\nenabled = true\nfrom_number = "+15550100"\n'
                                        f'base_url = "{url}"\n', encoding="utf-8")
    return settings.load(path)


def fake_get_posts(httpserver) -> None:
    def posts(request: Request) -> Response:
        assert request.args.getlist("uris") == [RESIDENT]
        record = {"$type": "app.bsky.feed.post", "text": "Is testing free?", "createdAt": "2026-12-04T10:00:00Z",
                  "reply": {"root": {"uri": ROOT, "cid": "bafyroot"}, "parent": {"uri": ROOT, "cid": "bafyroot"}}}
        return reply({"posts": [{"uri": RESIDENT, "cid": "bafyquestion", "record": record,
                                 "author": {"did": "did:plc:resident9", "handle": "pat.bsky.social"},
                                 "indexedAt": "2026-12-04T10:00:01Z"}]})

    httpserver.expect_request("/xrpc/app.bsky.feed.getPosts", method="GET").respond_with_handler(posts)


def fake_twilio(httpserver, sent: list[dict]) -> None:
    def messages(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return reply({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/"
                          "20003", "status": 401}, 401)
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        sent.append(form)
        sid = f"SM{len(sent):032d}"
        return reply({"sid": sid, "account_sid": SID, "to": form["To"], "from": form["From"], "body": form["Body"],
                      "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                      "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json"}, 201)

    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Messages.json", method="POST").respond_with_handler(messages)


def test_bluesky_reply_names_the_residents_post_and_its_thread_root(httpserver, config):
    sent: list[dict] = []
    fake_bluesky(httpserver, sent)
    fake_get_posts(httpserver)
    made = inbox_send.send(Target("bluesky", RESIDENT), TEXT, config)
    assert made.post_id == f"at://{AGENCY_DID}/app.bsky.feed.post/3kposted1"
    record = sent[0]["record"]
    assert record["text"] == TEXT
    strong = {"$type": "com.atproto.repo.strongRef"}
    assert record["reply"]["parent"] == {**strong, "uri": RESIDENT, "cid": "bafyquestion"}
    assert {k: v for k, v in record["reply"]["root"].items() if k != "$type"} == {"uri": ROOT, "cid": "bafyroot"}


def test_mastodon_reply_on_the_agency_server_mentions_the_resident(httpserver, config):
    sent: list[dict] = []
    fake_mastodon(httpserver, sent)
    host = httpserver.url_for("/").split("//")[1].rstrip("/")
    made = inbox_send.send(Target("mastodon", f"{host}:109876", "pat@town.example"), TEXT, config)
    assert made.url == "https://gov.example/@harborhealth/110000000000000001"
    assert sent[0]["in_reply_to_id"] == "109876" and sent[0]["status"] == f"@pat@town.example {TEXT}"
    with pytest.raises(PostingError, match=r"collected from mastodon\.social, not from the agency account's server"):
        inbox_send.send(Target("mastodon", "mastodon.social:42", "pat"), TEXT, config)
    assert len(sent) == 1


def test_x_reply_names_the_tweet_replied_to(httpserver, config):
    sent: list[dict] = []
    fake_x(httpserver, sent)
    made = inbox_send.send(Target("x", "1864000000000000007"), TEXT, config)
    assert made.url == "https://x.com/HarborHealth/status/1865000000000000001"
    assert sent == [{"text": TEXT, "reply": {"in_reply_to_tweet_id": "1864000000000000007"}}]


def test_sms_through_twilio_from_the_agency_number(httpserver, config, monkeypatch):
    sent: list[dict] = []
    fake_twilio(httpserver, sent)
    made = inbox_send.send(Target("sms", "sms-SM1", phone="+15551234567", agency_number="+15550199"), TEXT, config)
    assert made.post_id == "SM" + "1".zfill(32) and made.account == "+15550100"
    assert sent == [{"To": "+15551234567", "From": "+15550100", "Body": TEXT}]
    with pytest.raises(PostingError, match=r"number is not stored .* keep_contacts is off"):
        inbox_send.send(Target("sms", "sms-SM2"), TEXT, config)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "stale")
    with pytest.raises(PostingError, match=r"Twilio refused the credentials \(401\): check TWILIO_ACCOUNT_SID"):
        inbox_send.send(Target("sms", "sms-SM3", phone="+15551234567"), TEXT, config)
    assert len(sent) == 1


def test_off_by_default_and_never_on_other_channels(httpserver, config):
    off = settings.Settings()
    assert off.posting.reply_channels() == [] and not off.posting.sms.enabled
    for channel in ("bluesky", "sms"):
        with pytest.raises(PostingError, match=f"sending replies on {channel} is off"):
            inbox_send.send(Target(channel, "p1", phone="+15551234567"), TEXT, off)
    for channel in ("email", "webform", "open311", "facebook"):
        with pytest.raises(PostingError, match=f"replies on {channel} cannot be sent from CivicRadar"):
            inbox_send.send(Target(channel, "p1"), TEXT, config)
    assert not httpserver.log


T0 = datetime(2026, 12, 4, 9)


@pytest.fixture
def db():
    database = Database(":memory:")
    kept = Post("sms", "sms-SM1", "Is testing free?", T0.replace(tzinfo=UTC), author_id="phone:abc",
                direction="to_agency", raw={"contact": "+15551234567", "to": "+15550199"})
    hashed = Post("sms", "sms-SM2", "Where?", T0.replace(tzinfo=UTC), author_id="phone:def", direction="to_agency",
                  raw={"contact": None, "to": "+15550199"})
    database.write_batch("intake", Batch([kept, hashed], None))
    yield database
    database.close()


def run(db: Database, name: str, actor: str, **params) -> dict:
    action = ACTIONS[name]
    bound = action.bind(name, params)
    return db.run_action(name, action.fn, actor, bound, action.audit(bound))


def rows(db: Database, sql: str, params: list | dict | None = None) -> list[tuple]:
    return db.reader().execute(sql, params or []).fetchall()


def test_only_leads_and_admins_may_send_while_comms_may_record(db):
    assert ACTIONS[SENT].roles == ACTIONS[SEND_FAILED].roles == frozenset({"lead", "admin"})
    assert "comms" in ACTIONS["inbox_answer"].roles
    with pytest.raises(Exception, match="sent_id"):  # recording an answer cannot claim it was sent from here
        ACTIONS["inbox_answer"].bind("inbox_answer", {"platform": "sms", "post_id": "sms-SM1", "text": "x",
                                                      "sent_id": "SM1"})


def test_a_sent_reply_answers_the_item_and_is_audited(db):
    target = QUERIES["inbox_reply_target"]
    found = db.reader().sql(target.sql, params=target.bind("t", {"platform": "sms", "post_id": "sms-SM1"})).fetchall()
    assert found == [("sms", "sms-SM1", "new", None, "+15551234567", "+15550199")]
    found = db.reader().sql(target.sql, params=target.bind("t", {"platform": "sms", "post_id": "sms-SM2"})).fetchall()
    assert found[0][4] is None  # only the hash was kept: no number to send to
    at = T0 + timedelta(minutes=30)
    run(db, SENT, "lee", platform="sms", post_id="sms-SM1", text=TEXT, account="+15550100", sent_id="SM42",
        at=at.isoformat())
    item = rows(db, "SELECT status, answer_via, answer_post_id, answered_by, answer_text, answered_at FROM inbox_items "
                    "WHERE post_id = 'sms-SM1'")
    assert item == [("answered", "sent", "SM42", "lee", TEXT, at)]
    (event,) = rows(db, "SELECT actor, event, note FROM inbox_events WHERE post_id = 'sms-SM1'")
    assert event == ("lee", "answered", "sent from CivicRadar as +15550100 (SM42)")
    (audit,) = rows(db, f"SELECT actor, details FROM audit WHERE action = '{SENT}'")
    assert audit[0] == "lee" and json.loads(audit[1])["sent_id"] == "SM42" and json.loads(audit[1])["text"] == TEXT
    run(db, SEND_FAILED, "lee", platform="sms", post_id="sms-SM2", text=TEXT, error="number not stored")
    assert rows(db, "SELECT status FROM inbox_items WHERE post_id = 'sms-SM2'") == [("new",)]
    assert rows(db, f"SELECT count(*) FROM audit WHERE action = '{SEND_FAILED}'") == [(1,)]


def test_inbox_replies_on_x_count_against_the_posting_meter(db):
    db.write_batch("x", Batch([Post("x", "1864", "@HarborHealth hi", T0.replace(tzinfo=UTC), direction="to_agency")],
                              None))
    run(db, SENT, "lee", platform="x", post_id="1864", text=TEXT, sent_id="1865", url="https://x.com/i/status/1865")
    meter = QUERIES["posting_counts"]
    counted = db.reader().sql(meter.sql, params=meter.bind("m", {"since": "2000-01-01"})).fetchall()
    assert counted == [("x", 1)]
