"""The daily digest for leadership: the day's incidents with their alerts beneath, top narratives and fact-check
matches, the volume and sentiment trend, response times and targets met, and a CSV of the alerts.

It covers the 24 hours up to the digest time (`[digest] time`, local) of a date, and is built only from named
queries, through a `QueryFn`: the engine's own database, or the storage service when another process holds it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from alerts import digest_inbox
from alerts import digest_incidents as di
from alerts import explain as ex
from settings import Settings
from storage.csvsafe import csv_text

QueryFn = Callable[[str, dict[str, Any]], pd.DataFrame]
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                               autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True,
                               lstrip_blocks=True)
CID = "trend-chart@civicradar"
CSV_COLUMNS = ["alert_id", "incident_id", "kind", "severity", "status", "title", "watch", "topic", "claim_id",
               "assignee", "first_seen_at", "last_seen_at", "raised_at", "acknowledged_at", "resolved_at",
               "minutes_to_acknowledge", "minutes_to_resolve", "resolution_note", "response_url", "explanation"]


@dataclass(frozen=True)
class Digest:
    day: date
    since: datetime  # naive UTC
    until: datetime
    subject: str
    text: str
    html: str  # references the chart as cid:CID
    chart: bytes
    csv: str

    def preview_html(self) -> str:
        """The HTML with the chart inline (a data URI), for a browser instead of a mail client."""
        data = base64.b64encode(self.chart).decode()
        return self.html.replace(f"cid:{CID}", f"data:image/png;base64,{data}")

    def message(self, sender: str, to: tuple[str, ...]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = self.subject, sender, ", ".join(to)
        msg["Date"], msg["Message-ID"] = formatdate(), make_msgid(f"digest-{self.day}", "civicradar.local")
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        html_part = msg.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(self.chart, "image", "png", cid=f"<{CID}>")
        msg.add_attachment(self.csv.encode(), maintype="text", subtype="csv", filename=f"alerts-{self.day}.csv")
        return msg


def window(s: Settings, day: date) -> tuple[datetime, datetime]:
    """The 24 hours (local wall clock) up to the digest time on `day`, in naive UTC."""
    def utc(local_day: date) -> datetime:
        moment = datetime.combine(local_day, s.digest.time).replace(tzinfo=s.zone)
        return moment.astimezone(UTC).replace(tzinfo=None)

    return utc(day - timedelta(days=1)), utc(day)


def covering_day(s: Settings, now: datetime) -> date:
    """The date whose digest window contains `now`: the next digest to be sent."""
    return latest_day(s, now) + timedelta(days=1)


def latest_day(s: Settings, now: datetime) -> date:
    """The most recent date whose digest time has passed at `now` (naive UTC)."""
    local = ex.local(now, s.zone)
    return local.date() if local.time() >= s.digest.time else local.date() - timedelta(days=1)


def gather(run: QueryFn, s: Settings, since: datetime, until: datetime) -> dict[str, Any]:
    span = {"since": since.isoformat(), "until": until.isoformat()}
    before = {"since": (since - timedelta(days=1)).isoformat(), "until": since.isoformat()}
    return {
        "alerts": run("alerts", {**span, "limit": 1000}),
        "hourly": run("activity_hourly", span),
        "previous": run("activity_hourly", before),
        "claims": run("claim_matches_labelled", {**span, "limit": s.digest.top}),
        "precision": run("detector_precision", {}),
        "inbox": run("inbox_stats", span),
        **di.gather(run, span),
    }


def _with_effects(data: dict[str, Any], run: QueryFn, s: Settings, until: datetime) -> dict[str, Any]:
    """Did each responded incident's response work? One sentence each (responses/effect.py)."""
    from responses.effect import for_digest

    return {**data, "effects": for_digest(run, data["incidents"], s, until)}


def build(run: QueryFn, s: Settings, day: date) -> Digest:
    from alerts.chart import trend_png  # matplotlib only when a digest is built, not at every engine start

    since, until = window(s, day)
    data = _with_effects(gather(run, s, since, until), run, s, until)
    alerts = data["alerts"]
    marks = list(alerts.loc[alerts["severity"] == "high", "first_seen_at"]) if len(alerts) else []
    context = summarise(data, s, since, until)
    subject = f"{s.agency}: daily digest to {ex.day_and_clock(until, s.zone)} — {context['headline']}"
    return Digest(day, since, until, subject, TEMPLATES.get_template("digest.txt").render(**context),
                  TEMPLATES.get_template("digest.html").render(cid=CID, subject=subject, **context),
                  trend_png(data["hourly"], s.zone, marks), _csv(alerts, data["members"]))


def _csv(alerts: pd.DataFrame, members: pd.DataFrame) -> str:
    incident = di.incident_of(members)
    with_incident = alerts.assign(incident_id=[incident.get(int(a)) for a in alerts["alert_id"]]) if len(alerts) \
        else alerts
    return csv_text(with_incident.reindex(columns=CSV_COLUMNS))


def summarise(data: dict[str, Any], s: Settings, since: datetime, until: datetime) -> dict[str, Any]:
    """Everything the templates show, as plain values."""
    rows = _alert_rows(data["alerts"], s)
    placed = set(di.incident_of(data["members"]))
    return {
        "agency": s.agency, "zone": s.timezone, "until": ex.day_and_clock(until, s.zone),
        "since": ex.day_and_clock(since, s.zone), "headline": _headline(data),
        "facts": _facts(data, s, until), "incidents": di.rows(data["incidents"], data["members"], s),
        "effects": data.get("effects", {}),
        "loose_alerts": [r for r in rows if r["alert_id"] not in placed],
        "narratives": [r for r in rows if r["kind"] == "narrative"][: s.digest.top],
        "claim_alerts": [r for r in rows if r["kind"] == "claim_burst"][: s.digest.top],
        "claims": data["claims"].to_dict("records"), "team": di.team_rows(data["incident_team"]),
        "precision": data["precision"].to_dict("records"), "inbox": digest_inbox.rows(data["inbox"]),
    }


def _headline(data: dict[str, Any]) -> str:
    return di.headline(data["incidents"], data["alerts"])


def _facts(data: dict[str, Any], s: Settings, until: datetime) -> list[str]:
    """The one-minute summary, in sentences."""
    hourly = data["hourly"]
    posts, before = int(hourly["posts"].sum()), int(data["previous"]["posts"].sum())
    change = f" ({100 * (posts - before) / before:+.0f} % on the 24 hours before)" if before else ""
    labelled = int(hourly["labelled"].sum())
    facts = [f"{_headline(data).capitalize()}.", f"{posts:,} posts{change}.",
             f"{ex.percent(hourly['negative'].sum() / labelled)} of {labelled:,} labelled posts were negative."
             if labelled else "Sentiment: posts not labelled yet."]
    if posts:
        peak = hourly.loc[hourly["posts"].idxmax()]
        facts.append(f"Busiest hour: from {ex.day_and_clock(peak['hour'], s.zone)}, {int(peak['posts'])} posts.")
    fact = di.response_fact(data["incident_team"], di.share(data["incidents"], s, until))
    return [*facts, fact] if fact else facts


def _alert_rows(alerts: pd.DataFrame, s: Settings) -> list[dict[str, Any]]:
    """Highest severity first, then by time."""
    if not len(alerts):
        return []
    ordered = alerts.assign(rank=alerts["severity"].map({"high": 0, "medium": 1, "low": 2}))
    ordered = ordered.astype(object).where(ordered.notna(), None)  # missing values print as nothing, not "nan"
    return [{**r, "seen": ex.day_and_clock(r["first_seen_at"], s.zone),
             "to_ack": di.duration(r["minutes_to_acknowledge"]), "to_resolve": di.duration(r["minutes_to_resolve"]),
             "metrics": json.loads(r["metrics"]) if isinstance(r.get("metrics"), str) else {}}
            for r in ordered.sort_values(["rank", "first_seen_at"]).to_dict("records")]
