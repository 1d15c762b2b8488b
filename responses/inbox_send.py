"""Sending an inbox reply from CivicRadar on the item's own channel, off by default (`[posting]`).

Bluesky, Mastodon and X: a reply to the resident's post (its post id as the reply's parent) through
responses/posting.py's clients, switches and errors. SMS: a message to the resident's number through Twilio's REST API
(the `twilio` package), from the agency's number, behind `[posting.sms]`. Every other channel (e-mail, web form, 311,
Reddit, Facebook, Instagram) is answered elsewhere and recorded as such. Who may send, the confirmation and the audit
record are the caller's (dashboard/inbox_send_view.py, storage inbox actions `inbox_reply_sent` / `inbox_reply_failed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from responses.posting import Posted, PostingError, account, post
from settings import Settings, SettingsError, SmsPosting

SENDABLE = ("bluesky", "mastodon", "x", "sms")  # the channels a reply can be sent on from CivicRadar at all


@dataclass(frozen=True)
class Target:
    """The item a reply answers (the `inbox_reply_target` query's row)."""

    channel: str
    post_id: str
    author_handle: str | None = None
    phone: str | None = None  # SMS: the resident's number, when the intake source keeps contacts
    agency_number: str | None = None  # SMS: the number the resident texted


def can_send(channel: str, s: Settings) -> bool:
    return channel in s.posting.reply_channels()


def sender(channel: str, s: Settings, target: Target | None = None) -> str:
    """Who the reply is sent as, for the confirmation."""
    if channel == "sms":
        return s.posting.sms.from_number or (target.agency_number if target else None) or "the number texted"
    return account(channel, s)


def send(target: Target, text: str, s: Settings, lang: str = "en", posted_this_month: int = 0) -> Posted:
    """Send `text` as a reply to `target`; a `PostingError` says why nothing was sent."""
    if target.channel not in SENDABLE:
        raise PostingError(f"replies on {target.channel} cannot be sent from CivicRadar: send it there and record it")
    if not can_send(target.channel, s):
        raise PostingError(f"sending replies on {target.channel} is off ([posting] enabled and "
                           f"[posting.{target.channel}] enabled)")
    if target.channel == "sms":
        try:
            return _sms(s.posting.sms, target, text)
        except SettingsError as e:
            raise PostingError(str(e)) from e
    return post(target.channel, _with_mention(target, text), s, lang, posted_this_month, _parent(target, s))


def _parent(target: Target, s: Settings) -> str:
    """The platform's id of the post replied to. Mastodon items are stored as `host:id`, and an id means something
    only on its own server: the reply is sent only when that is the agency account's server."""
    if target.channel != "mastodon":
        return target.post_id
    host, _, status_id = target.post_id.rpartition(":")
    server = urlparse(s.posting.mastodon.base_url).netloc
    if host and host != server:
        raise PostingError(f"this Mastodon item was collected from {host}, not from the agency account's server "
                           f"({server or 'unset'}): reply on Mastodon and record it, or collect the account's mentions "
                           "from its own server")
    return status_id


def _with_mention(target: Target, text: str) -> str:
    """Mastodon notifies only those mentioned: the reply starts with the resident's @handle unless it names it."""
    handle = (target.author_handle or "").lstrip("@")
    if target.channel != "mastodon" or not handle or f"@{handle}".lower() in text.lower():
        return text
    return f"@{handle} {text}"


def _sms(p: SmsPosting, target: Target, text: str) -> Posted:
    import requests
    from twilio.base.exceptions import TwilioRestException
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    if not target.phone:
        raise PostingError("the resident's number is not stored (only its keyed hash: the intake source's "
                           "keep_contacts is off): text them from the agency's phone if you can, and record it")
    origin = p.from_number or target.agency_number
    if not origin:
        raise PostingError("no number to send from: set [posting.sms] from_number to the agency's Twilio number")
    sid = p.account_sid.get("posting.sms.account_sid")
    client = Client(sid, p.auth_token.get("posting.sms.auth_token"), http_client=TwilioHttpClient(
        timeout=p.timeout_seconds))
    if p.base_url:
        client.api.base_url = p.base_url.rstrip("/")
    try:
        message = client.messages.create(to=target.phone, from_=origin, body=text)
    except TwilioRestException as e:
        raise PostingError(_twilio_said(e)) from e
    except requests.RequestException as e:
        raise PostingError(f"cannot reach Twilio ({e}); nothing was sent: try again") from e
    return Posted("sms", str(message.sid), "", origin)


def _twilio_said(e: object) -> str:
    status, code, said = getattr(e, "status", None), getattr(e, "code", None), getattr(e, "msg", str(e))
    if status == 401 or code == 20003:
        return ("Twilio refused the credentials (401): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the "
                f"variables [posting.sms] names); nothing was sent ({said})")
    if code == 21610:
        return f"the resident has unsubscribed from this number (replied STOP); nothing was sent ({said})"
    return f"Twilio did not send the message ({status}, error {code}: {said}); nothing was sent"
