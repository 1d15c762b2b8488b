"""Signed webhooks: Twilio SMS (X-Twilio-Signature, checked by the `twilio` package's RequestValidator) and Meta
Page / Instagram webhooks (X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret; a GET with
hub.verify_token subscribes). A wrong or missing signature is refused with 403 and logged; nothing is spooled.

Twilio retries a webhook that fails; its MessageSid (and Meta's comment / message ids) become the item ids, so a
retry is the same post, not a second one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator

from intake.spool import Spool
from intake.webform import read_capped
from settings import IntakeSettings, SecretRef

log = logging.getLogger(__name__)
REFUSED = PlainTextResponse("signature refused", 403)


def _secret(ref: SecretRef | None, key: str) -> str | None:
    return ref.get(f"intake.{key}") if ref is not None else None


class Sms:
    def __init__(self, settings: IntakeSettings, spool: Spool) -> None:
        self.settings, self.spool = settings, spool
        token = _secret(settings.sms_auth_token, "sms_auth_token")
        self.validator = RequestValidator(token) if token else None

    async def post(self, request: Request) -> Response:
        if self.validator is None:
            return PlainTextResponse("SMS intake is not configured (intake.sms_auth_token)", 404)
        body = await read_capped(request, self.settings.max_body_bytes)
        if body is None:
            return PlainTextResponse("too large", 413)
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        url = self.settings.public_url.rstrip("/") + request.url.path if self.settings.public_url else str(request.url)
        if not self.validator.validate(url, params, request.headers.get("x-twilio-signature", "")):
            log.warning("sms webhook: wrong or missing X-Twilio-Signature; refused")
            return REFUSED
        count = params.get("NumMedia", "0")
        media = [params.get(f"MediaContentType{i}") for i in range(min(int(count), 10) if count.isdigit() else 0)]
        self.spool.append({"id": f"sms-{params.get('MessageSid', '')}" if params.get("MessageSid") else None,
                           "channel": "sms", "text": params.get("Body", "")[:self.settings.max_text_chars],
                           "contact": params.get("From", ""), "consent": True, "to": params.get("To", ""),
                           "media": media})
        receipt = self.settings.sms_receipt
        twiml = f"<Response><Message>{escape(receipt)}</Message></Response>" if receipt else "<Response/>"
        return Response(f'<?xml version="1.0" encoding="UTF-8"?>{twiml}', media_type="application/xml")


class Meta:
    def __init__(self, settings: IntakeSettings, spool: Spool) -> None:
        self.settings, self.spool = settings, spool
        self.secret = _secret(settings.meta_app_secret, "meta_app_secret")
        self.verify_token = _secret(settings.meta_verify_token, "meta_verify_token")

    async def get(self, request: Request) -> Response:
        q = request.query_params
        if self.verify_token and q.get("hub.mode") == "subscribe" and hmac.compare_digest(
                q.get("hub.verify_token", ""), self.verify_token):
            return PlainTextResponse(q.get("hub.challenge", ""))
        return REFUSED

    async def post(self, request: Request) -> Response:
        if self.secret is None:
            return PlainTextResponse("Meta intake is not configured (intake.meta_app_secret)", 404)
        body = await read_capped(request, self.settings.max_body_bytes * 16)  # batched entries are larger
        if body is None:
            return PlainTextResponse("too large", 413)
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("x-hub-signature-256", ""), expected):
            log.warning("meta webhook: wrong or missing X-Hub-Signature-256; refused")
            return REFUSED
        try:
            payload = json.loads(body)
        except ValueError:
            return PlainTextResponse("not JSON", 400)
        for item in meta_items(payload):
            self.spool.append(item)
        return PlainTextResponse("EVENT_RECEIVED")


def meta_items(payload: Any) -> Iterator[dict[str, Any]]:
    """Comments on the Page's / account's posts and messages to them, from a webhook body."""
    payload = payload if isinstance(payload, dict) else {}
    channel = "instagram" if payload.get("object") == "instagram" else "facebook"
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict) and (item := _comment(channel, change.get("field"), value)):
                yield item
        for event in entry.get("messaging") or []:
            message = event.get("message") if isinstance(event, dict) else None
            if isinstance(message, dict) and message.get("mid") and not message.get("is_echo"):
                yield {"id": f"{channel}-msg-{message['mid']}", "channel": channel, "kind": "message",
                       "text": str(message.get("text") or ""), "contact": "",
                       "author": str((event.get("sender") or {}).get("id") or ""), "consent": False}


def _comment(channel: str, field: Any, value: dict[str, Any]) -> dict[str, Any] | None:
    if field == "feed" and value.get("item") == "comment" and value.get("verb") in ("add", "edited"):
        ident, text, author = value.get("comment_id"), value.get("message"), (value.get("from") or {}).get("id")
        parent = value.get("parent_id") or value.get("post_id")
    elif field == "comments" and value.get("id"):  # Instagram
        ident, text, author = value.get("id"), value.get("text"), (value.get("from") or {}).get("id")
        parent = (value.get("media") or {}).get("id")
    else:
        return None
    return {"id": f"{channel}-{ident}", "channel": channel, "kind": "comment", "text": str(text or ""),
            "author": str(author or ""), "reply_to": f"{channel}-{parent}" if parent else None, "contact": "",
            "consent": False}
