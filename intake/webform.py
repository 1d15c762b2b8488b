"""The public tip form: a page an agency links to or embeds, and the POST that spools a tip.

Abuse handling: bodies over `max_body_bytes` are refused before they are read whole; each client address may send
`tips_per_hour` tips (a sliding hour, kept in memory); a hidden honeypot field that people never fill marks bots,
who get the ordinary receipt and are not spooled; what residents write is escaped wherever it is shown back.
Contact details are kept only when the resident ticks the consent box.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from urllib.parse import parse_qs

from jinja2 import Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from intake.spool import Spool
from settings import IntakeSettings

log = logging.getLogger(__name__)
HONEYPOT = "website"
PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ agency }}: send a tip</title><style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;line-height:1.4}
label{display:block;margin-top:.8rem;font-weight:600}textarea,input[type=text]{width:100%;box-sizing:border-box}
.hp{position:absolute;left:-10000px}.error{color:#a00}.note{color:#555;font-size:.9rem}</style></head><body>
{% if reference %}<h1>Thank you</h1><p>We received your message (reference <strong>{{ reference }}</strong>).
We read every message; we cannot always answer each one.</p>{% if note %}<p class="note">{{ note }}</p>{% endif %}
<blockquote>{{ text }}</blockquote>
{% else %}<h1>Tell {{ agency }} what you have seen or heard</h1>
<p class="note">A rumour, a problem at a service site, something that needs our attention. Do not use this form for
emergencies: call 911.</p>{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}"><label for="text">What did you see or hear?</label>
<textarea id="text" name="text" rows="6" maxlength="{{ max_chars }}" required>{{ text }}</textarea>
<label for="place">Where (optional)</label><input type="text" id="place" name="place" value="{{ place }}">
<label for="contact">E-mail or phone, if you want an answer (optional)</label>
<input type="text" id="contact" name="contact" value="{{ contact }}">
<label><input type="checkbox" name="consent" value="yes"> You may keep my contact details to answer me</label>
<div class="hp" aria-hidden="true"><label for="{{ honeypot }}">Leave empty</label>
<input type="text" id="{{ honeypot }}" name="{{ honeypot }}" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">Send</button></p></form>{% endif %}</body></html>""")


class RateLimit:
    """At most `limit` events per client address in any sliding hour."""

    def __init__(self, limit: int, window: float = 3600.0) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, address: str, now: float | None = None) -> bool:
        now = now or time.monotonic()
        if len(self._seen) > 10_000:  # forget addresses quiet for an hour, so a flood of addresses cannot grow it
            self._seen = defaultdict(deque, {a: d for a, d in self._seen.items() if d and d[-1] > now - self.window})
        seen = self._seen[address]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


class TipForm:
    def __init__(self, settings: IntakeSettings, agency: str, spool: Spool) -> None:
        self.settings, self.agency, self.spool = settings, agency, spool
        self.limit = RateLimit(settings.tips_per_hour)

    def page(self, status: int = 200, **values: str) -> HTMLResponse:
        fields = {"text": "", "place": "", "contact": "", "error": "", "reference": "", "note": "", **values}
        html = PAGE.render(agency=self.agency, action="tip", max_chars=self.settings.max_text_chars,
                           honeypot=HONEYPOT, **fields)
        return HTMLResponse(html, status, headers=security_headers(self.settings.frame_ancestors))

    async def get(self, request: Request) -> Response:
        return self.page()

    async def post(self, request: Request) -> Response:
        body = await read_capped(request, self.settings.max_body_bytes)
        if body is None:
            return self.page(413, error="That message is too long to send here. Please shorten it.")
        form = {k: v[0].strip() for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        address = request.client.host if request.client else "unknown"
        if not self.limit.allow(address):
            log.warning("tip form: an address reached the hourly limit (%d tips); refused", self.settings.tips_per_hour)
            return self.page(429, error="Too many messages from your connection in the last hour. Please try later.")
        if form.get(HONEYPOT):  # only bots fill the hidden field: thank them and keep nothing
            log.info("tip form: the honeypot field was filled (a bot); nothing kept")
            return self.page(reference="received", text=form.get("text", "")[:200])
        return self.accept(form)

    def accept(self, form: dict[str, str]) -> Response:
        text, s = form.get("text", ""), self.settings
        if not text:
            return self.page(400, error="Please write what you have seen or heard.", **_echo(form))
        if len(text) > s.max_text_chars:
            return self.page(400, error=f"Please keep it under {s.max_text_chars} characters.", **_echo(form))
        consent, contact = form.get("consent") == "yes", form.get("contact", "")
        item = {"channel": "webform", "text": text, "place": form.get("place", "")[:200], "consent": consent,
                "contact": contact[:200] if consent and contact else ""}
        reference = self.spool.append(item)
        note = "" if consent or not contact else "You did not tick the consent box, so we did not keep your contact."
        return self.page(reference=reference, text=text, note=note)


def _echo(form: dict[str, str]) -> dict[str, str]:
    return {k: form.get(k, "") for k in ("text", "place", "contact")}


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None once it is over `limit` bytes (never read whole): a declared or an actual size."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    frames = " ".join(frame_ancestors) or "'none'"
    return {"Content-Security-Policy": f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                       f"frame-ancestors {frames}",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
