"""What a notification says, per channel: Slack blocks, a Teams Adaptive Card, plain JSON, an email.

Every payload carries the alert's explanation with its numbers, a few evidence posts (text and time, never a
handle), the links and the alert's number, so a receiver can de-duplicate a message delivered twice.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from alerts import explain as ex
from alerts.model import Finding

EVENT_WORDS = {"raised": "New alert", "escalated": "Escalated"}


@dataclass(frozen=True)
class AlertMessage:
    alert_id: int
    event: str  # raised | escalated
    finding: Finding
    zone: ZoneInfo
    dashboard_url: str = ""

    @property
    def headline(self) -> str:
        word = EVENT_WORDS.get(self.event, self.event.capitalize())
        return f"[{self.finding.severity.upper()}] {word}: {self.finding.title}"

    @property
    def link(self) -> str | None:
        return f"{self.dashboard_url.rstrip('/')}/alerts?alert={self.alert_id}" if self.dashboard_url else None

    @property
    def message_key(self) -> str:
        """What the email's Message-ID is made from (the message is stored once, so a repeat sends the same ID)."""
        return f"alert-{self.alert_id}-{self.event}-{self.finding.severity}"

    def extra(self) -> dict[str, Any]:
        """More fields for the plain JSON payload (an incident's)."""
        return {}

    def links(self) -> list[tuple[str, str]]:
        found = [(link.title, link.url) for link in self.finding.links]
        return ([("Open in CivicRadar", self.link)] if self.link else []) + found

    def facts(self) -> list[tuple[str, str]]:
        f = self.finding
        subject = (f.watch and f"watch {f.watch}") or (f.topic and f"topic {f.topic}") or f.claim_id or "all posts"
        return [("Kind", f.kind.replace("_", " ")), ("Severity", f.severity), ("Subject", subject),
                ("Seen", ex.day_and_clock(f.seen_at, self.zone)), ("Alert", f"#{self.alert_id}")]

    def evidence_lines(self) -> list[str]:
        return [f"{ex.clock(e.created_at, self.zone) if e.created_at else ''} ({e.platform}) "
                f"\"{ex.snippet(e.text, 160)}\"" for e in self.finding.evidence]


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(m: AlertMessage) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": m.headline[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(m.finding.explanation)[:3000]}},
    ]
    if m.finding.evidence:
        lines = "\n".join("• " + _slack_escape(line) for line in m.evidence_lines())
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Evidence*\n{lines}"[:3000]}})
    facts = " · ".join(f"{k}: {_slack_escape(v)}" for k, v in m.facts())
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": facts}]})
    if m.links():
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": title[:75]}, "url": url}
            for title, url in m.links()]})
    return {"text": m.headline, "blocks": blocks}


def teams(m: AlertMessage) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": m.headline, "weight": "Bolder", "size": "Medium", "wrap": True,
         "color": "Attention" if m.finding.severity == "high" else "Warning"},
        {"type": "TextBlock", "text": m.finding.explanation, "wrap": True},
        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in m.facts()]},
    ]
    if m.finding.evidence:
        body += [{"type": "TextBlock", "text": "Evidence", "weight": "Bolder"},
                 {"type": "TextBlock", "text": "\n\n".join("- " + line for line in m.evidence_lines()), "wrap": True}]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": title, "url": url} for title, url in m.links()]}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def plain(m: AlertMessage) -> dict[str, Any]:
    f = m.finding
    return {"alert_id": m.alert_id, "event": m.event, "kind": f.kind, "severity": f.severity, "title": f.title,
            "explanation": f.explanation, "watch": f.watch, "topic": f.topic, "claim_id": f.claim_id,
            "seen_at": f.seen_at.isoformat(), "metrics": json.loads(json.dumps(f.metrics, default=str)),
            "evidence": [{"platform": e.platform, "post_id": e.post_id, "text": e.text, "url": e.url,
                          "created_at": e.created_at.isoformat() if e.created_at else None} for e in f.evidence],
            "links": [{"title": t, "url": u} for t, u in m.links()], **m.extra()}


WEBHOOK_FORMATS = {"slack": slack, "teams": teams, "json": plain}


def email(m: AlertMessage, sender: str, to: tuple[str, ...]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = f"CivicRadar {m.headline}", sender, ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(m.message_key, "civicradar.local")
    facts = "\n".join(f"{k}: {v}" for k, v in m.facts())
    evidence = "\n".join("- " + line for line in m.evidence_lines())
    links = "\n".join(f"{t}: {u}" for t, u in m.links())
    msg.set_content(f"{m.headline}\n\n{m.finding.explanation}\n\n{facts}\n\nEvidence:\n{evidence}\n\n{links}\n")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in m.evidence_lines())
    anchors = " · ".join(f'<a href="{html.escape(u)}">{html.escape(t)}</a>' for t, u in m.links())
    msg.add_alternative(
        f"<h2>{html.escape(m.headline)}</h2><p>{html.escape(m.finding.explanation)}</p>"
        f"<p>{'<br>'.join(html.escape(f'{k}: {v}') for k, v in m.facts())}</p>"
        f"<h3>Evidence</h3><ul>{items}</ul><p>{anchors}</p>", subtype="html")
    return msg
