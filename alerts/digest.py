"""The daily digest for leadership: the day's alerts and their status, top narratives and fact-check matches,
the volume and sentiment trend, response times, and a CSV of the alerts.

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

from alerts import explain as ex
from settings import Settings

QueryFn = Callable[[str, dict[str, Any]], pd.DataFrame]
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                               autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True,
                               lstrip_blocks=True)
CID = "trend-chart@civicradar"
CSV_COLUMNS = ["alert_id", "kind", "severity", "status", "title", "watch", "topic", "claim_id", "assignee",
               "first_seen_at", "last_seen_at", "raised_at", "acknowledged_at", "resolved_at",
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
        "team": run("alert_team_response", span),
        "hourly": run("activity_hourly", span),
        "previous": run("activity_hourly", before),
        "claims": run("claim_matches_labelled", {**span, "limit": s.digest.top}),
        "precision": run("detector_precision", {}),
    }


def build(run: QueryFn, s: Settings, day: date) -> Digest:
    from alerts.chart import trend_png  # matplotlib only when a digest is built, not at every engine start

    since, until = window(s, day)
    data = gather(run, s, since, until)
    alerts = data["alerts"]
    marks = list(alerts.loc[alerts["severity"] == "high", "first_seen_at"]) if len(alerts) else []
    context = summarise(data, s, since, until)
    subject = f"{s.agency}: daily digest to {ex.day_and_clock(until, s.zone)} — {context['headline']}"
    return Digest(day, since, until, subject, TEMPLATES.get_template("digest.txt").render(**context),
                  TEMPLATES.get_template("digest.html").render(cid=CID, subject=subject, **context),
                  trend_png(data["hourly"], s.zone, marks), _csv(alerts))


def _csv(alerts: pd.DataFrame) -> str:
    return alerts.reindex(columns=CSV_COLUMNS).to_csv(index=False)


def summarise(data: dict[str, Any], s: Settings, since: datetime, until: datetime) -> dict[str, Any]:
    """Everything the templates show, as plain values."""
    rows = _alert_rows(data["alerts"], s)
    return {
        "agency": s.agency, "zone": s.timezone, "until": ex.day_and_clock(until, s.zone),
        "since": ex.day_and_clock(since, s.zone), "headline": _headline(data["alerts"]), "facts": _facts(data, s),
        "alerts": rows, "narratives": [r for r in rows if r["kind"] == "narrative"][: s.digest.top],
        "claim_alerts": [r for r in rows if r["kind"] == "claim_burst"][: s.digest.top],
        "claims": data["claims"].to_dict("records"), "team": [_team_row(r) for r in data["team"].to_dict("records")],
        "precision": data["precision"].to_dict("records"),
    }


def _headline(alerts: pd.DataFrame) -> str:
    if not len(alerts):
        return "no alerts"
    high = int((alerts["severity"] == "high").sum())
    still = int(alerts["status"].isin(["new", "acknowledged", "assigned"]).sum())
    return f"{len(alerts)} alerts ({high} high), {still} still open"


def _facts(data: dict[str, Any], s: Settings) -> list[str]:
    """The one-minute summary, in sentences."""
    hourly, team = data["hourly"], data["team"]
    posts, before = int(hourly["posts"].sum()), int(data["previous"]["posts"].sum())
    change = f" ({100 * (posts - before) / before:+.0f} % on the 24 hours before)" if before else ""
    labelled = int(hourly["labelled"].sum())
    facts = [f"{_headline(data['alerts']).capitalize()}.", f"{posts:,} posts{change}.",
             f"{ex.percent(hourly['negative'].sum() / labelled)} of {labelled:,} labelled posts were negative."
             if labelled else "Sentiment: posts not labelled yet."]
    if posts:
        peak = hourly.loc[hourly["posts"].idxmax()]
        facts.append(f"Busiest hour: from {ex.day_and_clock(peak['hour'], s.zone)}, {int(peak['posts'])} posts.")
    overall = team[team["severity"] == "all"]
    if len(overall) and overall.iloc[0]["alerts"]:
        facts.append(_response_fact(overall.iloc[0]))
    return facts


def _response_fact(overall: pd.Series) -> str:
    total, acked, resolved = int(overall["alerts"]), int(overall["acknowledged"]), int(overall["resolved"])
    if not acked:
        return f"Team response: none of the {total} alerts acknowledged yet."
    fact = (f"Team response: {acked} of {total} alerts acknowledged, median "
            f"{_duration(overall['median_minutes_to_acknowledge'])} after they were raised")
    if resolved:
        fact += f"; {resolved} resolved, median {_duration(overall['median_minutes_to_resolve'])}"
    return fact + "."


def _duration(minutes: Any) -> str:
    if minutes is None or pd.isna(minutes):
        return "n/a"
    minutes = float(minutes)
    return f"{minutes:.0f} min" if minutes < 90 else f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def _alert_rows(alerts: pd.DataFrame, s: Settings) -> list[dict[str, Any]]:
    """Highest severity first, then by time."""
    if not len(alerts):
        return []
    ordered = alerts.assign(rank=alerts["severity"].map({"high": 0, "medium": 1, "low": 2}))
    ordered = ordered.astype(object).where(ordered.notna(), None)  # missing values print as nothing, not "nan"
    return [{**r, "seen": ex.day_and_clock(r["first_seen_at"], s.zone),
             "to_ack": _duration(r["minutes_to_acknowledge"]), "to_resolve": _duration(r["minutes_to_resolve"]),
             "metrics": json.loads(r["metrics"]) if isinstance(r.get("metrics"), str) else {}}
            for r in ordered.sort_values(["rank", "first_seen_at"]).to_dict("records")]


def _team_row(r: dict[str, Any]) -> dict[str, Any]:
    times = {name: _duration(r[f"{stat}_minutes_to_{what}"]) for name, stat, what in (
        ("to_ack", "median", "acknowledge"), ("to_ack_p90", "p90", "acknowledge"),
        ("to_resolve", "median", "resolve"), ("to_resolve_p90", "p90", "resolve"))}
    return {"severity": r["severity"], "alerts": int(r["alerts"]), "open": int(r["open"]), **times}
