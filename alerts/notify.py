"""Notifications through an outbox: rules pick channels, deliveries are rows, a sender sends them at least once.

Messages are queued inside the detection pass's transaction (`alerts.incident_notify`: per incident, not per
alert), so an incident and its deliveries commit together. `send_due` sends what is due, one message at a time,
and marks each row sent (or failed, with its next attempt after an exponential backoff) in its own transaction.
A webhook that is down only delays its rows; they are retried on the next pass and after a restart, and a row
marked sent is never selected again.
"""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import CivicRadarError
from settings import SecretRef, Settings, SettingsError, SmtpSettings, WebhookSettings, redact
from storage import alert_stores
from storage.db import Database, utcnow

log = logging.getLogger(__name__)


class DeliveryError(CivicRadarError):
    """A message could not be delivered this time; the message says why."""


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    failed: int = 0  # attempts that failed this pass (rows stay pending until max_attempts)


def send_due(db: Database, s: Settings, wall: Callable[[], datetime] = utcnow, limit: int = 100) -> SendResult:
    """Send every due delivery once; each outcome is committed on its own."""
    sent = failed = 0
    for row in alert_stores.read(db, lambda r: r.due_deliveries(wall(), limit)):
        delivery_id, attempt = int(row["delivery_id"]), int(row["attempts"]) + 1
        try:
            deliver(row, s)
        except DeliveryError as e:
            failed += 1
            log.warning("delivery %s to %s failed (attempt %d): %s", delivery_id, row["target"], attempt, e)
            _record_failure(db, delivery_id, str(e), _retry_at(s, attempt, wall()))
            continue
        sent += 1
        _record_success(db, delivery_id, wall())
    return SendResult(sent, failed)


def _record_failure(db: Database, delivery_id: int, error: str, retry_at: datetime | None) -> None:
    alert_stores.write(db, lambda w: w.mark_failed(delivery_id, redact(error), retry_at))


def _record_success(db: Database, delivery_id: int, now: datetime) -> None:
    alert_stores.write(db, lambda w: w.mark_sent(delivery_id, now))


def _retry_at(s: Settings, attempts: int, now: datetime) -> datetime | None:
    """Exponential backoff; None (give up, status 'failed') after max_attempts."""
    if attempts >= s.alerts.max_attempts:
        return None
    delay = min(s.alerts.retry_initial_seconds * 2 ** (attempts - 1), s.alerts.retry_max_seconds)
    return now + timedelta(seconds=delay)


def deliver(row: dict[str, object], s: Settings) -> None:
    if row["channel"] == "webhook":
        hook = next((h for h in s.alerts.webhooks if h.name == row["target"]), None)
        if hook is None:
            raise DeliveryError(f"no webhook named {row['target']!r} in settings any more; add it back to send")
        post_webhook(hook, str(row["payload"]), str(row["delivery_id"]))
    else:
        send_email(s.smtp, str(row["payload"]), s.path(s.smtp.ca_file) if s.smtp.ca_file else None)


def post_webhook(hook: WebhookSettings, body: str, delivery_id: str) -> None:
    try:
        url = hook.url.get(f"alerts.webhooks {hook.name}.url") if isinstance(hook.url, SecretRef) else hook.url
    except SettingsError as e:
        raise DeliveryError(str(e)) from e
    headers = {"Content-Type": "application/json", "X-CivicRadar-Delivery": delivery_id}
    try:
        for attempt in Retrying(retry=retry_if_exception_type(httpx.TransportError), stop=stop_after_attempt(2),
                                wait=wait_exponential(multiplier=0.2, max=1), reraise=True):
            with attempt:
                response = httpx.post(url, content=body.encode(), headers=headers, timeout=hook.timeout_seconds)
    except httpx.HTTPError as e:
        raise DeliveryError(f"webhook {hook.name}: {type(e).__name__}: {e}") from e
    if response.status_code >= 300:
        raise DeliveryError(f"webhook {hook.name}: HTTP {response.status_code}: {response.text[:300]}")


def send_email(smtp: SmtpSettings, message_text: str, ca_file: Path | None = None) -> None:
    message = email.message_from_string(message_text, policy=email.policy.SMTP)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context(cafile=ca_file))
            if smtp.username is not None and smtp.password is not None:
                server.login(smtp.username.get("smtp.username"), smtp.password.get("smtp.password"))
            server.send_message(message)
    except (smtplib.SMTPException, OSError, SettingsError) as e:
        raise DeliveryError(f"email via {smtp.host}:{smtp.port}: {type(e).__name__}: {e}") from e
