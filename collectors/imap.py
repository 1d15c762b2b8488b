"""E-mail tips: a mailbox read over IMAP (imap-tools), each new message one post on platform "email".

The cursor is the folder's UIDVALIDITY and the highest UID stored, committed with the posts, so a crash
re-reads at most the messages whose batch was not committed (and those are upserts keyed by Message-ID):
nothing is lost or stored twice. A changed UIDVALIDITY (the server renumbered the folder) starts over from the
first message; Message-IDs keep that from duplicating anything. Messages are never marked read or moved.

Auto-replies, bounces and messages flagged as spam are skipped, each with its reason in the run's warnings and
counts. HTML-only mail becomes plain text; attachments are kept as metadata (name, type, size) only. The sender's
address is stored as a keyed hash (`email:` + HMAC), so the same resident is recognised across channels without
storing the address, unless `keep_addresses` is set.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urlsplit

from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, U
from imap_tools.errors import MailboxLoginError
from imap_tools.mailbox import BaseMailBox
from imap_tools.message import MailMessage
from pydantic import Field

from collectors.base import AuthFailed, BaseCollector, Batch, CollectorError, Post, SourceUnavailable, utc
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, dump_state, each, load_state, obj, when
from core.settings_base import SecretRef, SourceSettings

PLATFORM = "email"
MAX_TEXT = 20_000
AUTH_HINT = ("Check sources.NAME.username and the password variable; many providers need an app password for "
             "IMAP, and IMAP access switched on for the mailbox.")


class ImapSettings(SourceSettings):
    kind: Literal["imap"] = "imap"
    every_seconds: float = Field(60.0, gt=0)
    base_url: str = "imaps://imap.example.org:993"
    username: str = ""
    password: SecretRef = SecretRef(env="IMAP_PASSWORD")
    folder: str = "INBOX"
    max_messages: int = Field(200, gt=0)
    keep_addresses: bool = False
    platform: str = PLATFORM
    timeout_seconds: float = Field(30.0, gt=0)


class _Text(HTMLParser):
    """Visible text of an HTML body: scripts and styles dropped, block elements become line breaks."""

    BLOCKS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("script", "style")
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def address_hash(key: bytes, address: str) -> str:
    """The same keyed hash for the same address whatever its case: recognises a resident, stores no address."""
    return "email:" + hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def skip_reason(headers: dict[str, Any], sender: str, flags: tuple[str, ...] = ()) -> str | None:
    """Why a message is no tip: an auto-reply, a bounce, or spam (by the server's flags and filters)."""
    def header(name: str) -> str:
        value = headers.get(name.lower())
        return " ".join(value) if isinstance(value, list | tuple) else str(value or "")

    if header("auto-submitted").strip().lower() not in ("", "no") or header("x-autoreply") or header("x-autorespond"):
        return "auto-reply"
    if header("precedence").strip().lower() in ("auto_reply", "bulk", "junk", "list"):
        return f"auto-reply (Precedence: {header('precedence').strip()})"
    local = sender.split("@", 1)[0].lower()
    if local in ("mailer-daemon", "postmaster") or "report-type=delivery-status" in header("content-type").lower():
        return "bounce"
    if header("x-spam-flag").strip().upper() == "YES" or header("x-spam-status").strip().lower().startswith("yes"):
        return "spam (flagged by the mail server's filter)"
    if "$Junk" in flags or "Junk" in flags:
        return "spam (flagged Junk)"
    return None


def _message(item: Any, out: Mapped) -> None:
    """One fetched message (`{"uid", "message", "key", "keep_addresses", "platform"}`) as a post."""
    item = obj(item)
    msg = item.get("message")
    if not isinstance(msg, MailMessage):
        raise TypeError(f"expected a mail message, got {type(msg).__name__}")
    headers = {k.lower(): v for k, v in msg.headers.items()}
    sender = parseaddr(msg.from_ or "")[1]
    reason = skip_reason(headers, sender, tuple(msg.flags))
    if reason:
        out.warnings.append(f"email uid {item.get('uid')}: skipped: {reason}")
        return
    body = (msg.text or "").strip() or html_to_text(msg.html or "")
    subject = " ".join((msg.subject or "").split())
    text = " — ".join(p for p in (subject, body) if p)[:MAX_TEXT]
    if not text:
        out.warnings.append(f"email uid {item.get('uid')}: no subject and no text")
    created = msg.date if msg.date and msg.date.year > 1900 else None
    ident = (msg.headers.get("message-id") or [""])[0].strip().strip("<>") or f"uid-{item.get('uid')}"
    key, keep = item.get("key") or b"", bool(item.get("keep_addresses"))
    author = (sender.lower() if keep else address_hash(key, sender)) if sender else None
    attachments = [{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in msg.attachments]
    raw = {"uid": item.get("uid"), "message_id": ident, "subject": subject, "date": str(msg.date_str),
           "in_reply_to": (msg.headers.get("in-reply-to") or [None])[0], "attachments": attachments,
           "from": sender if keep else None, "text": body[:MAX_TEXT]}
    out.posts.append(Post(platform=str(item.get("platform") or PLATFORM), post_id=ident, text=text,
                          created_at=utc(created or when(item.get("fetched_at")) or datetime.now(UTC)),
                          author_id=author, author_handle=None, raw=raw, direction="to_agency",
                          reply_to_id=raw["in_reply_to"].strip().strip("<>") if raw["in_reply_to"] else None))


def parse(payload: Any) -> Mapped:
    """Map a list of fetched messages (see `_message`) to posts; anything else maps to nothing."""
    items = payload if isinstance(payload, list) else []
    return each([i for i in items if isinstance(i, dict)], _message, "email message", Mapped())


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


class ImapCollector(BaseCollector):
    kind = "imap"

    def __init__(self, name: str, settings: ImapSettings, key: bytes,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        url = urlsplit(settings.base_url)
        if url.scheme not in ("imap", "imaps", "imap+starttls") or not url.hostname:
            raise CollectorError(f"sources.{name}.base_url must look like imaps://imap.example.org:993 "
                                 f"(or imap+starttls://host:143); got {settings.base_url!r}")
        self.settings, self._key, self._wall = settings, key, wall
        self._scheme, self._host = url.scheme, url.hostname
        self._port = url.port or (993 if url.scheme == "imaps" else 143)

    def fetch(self, cursor: str | None) -> Batch:
        state = load_state(cursor)
        return self.call(lambda: self._fetch(state))

    def _fetch(self, state: dict[str, Any]) -> Batch:
        s, out = self.settings, Mapped()
        with self._session() as box:
            validity = str(box.folder.status(s.folder, ["UIDVALIDITY"]).get("UIDVALIDITY", ""))
            last = int(state.get("uid", 0)) if state.get("uidvalidity") == validity else 0
            items = list(self._messages(box, last))
        out.extend(parse(items))
        top = max([last, *(int(i["uid"]) for i in items)])
        stats = {"messages": len(items), "skipped": len(out.warnings), "uidvalidity": validity}
        return out.batch(dump_state({"uidvalidity": validity, "uid": top}), more=len(items) >= s.max_messages,
                         stats=stats)

    def _messages(self, box: MailBox, last: int) -> Iterator[dict[str, Any]]:
        s, fetched_at = self.settings, self._wall().isoformat()
        criteria = AND(uid=U(str(last + 1), "*"))  # "n:*" always names the newest message, even below n
        for msg in box.fetch(criteria, mark_seen=False, bulk=True, limit=s.max_messages, reverse=False):
            if msg.uid and int(msg.uid) > last:
                yield {"uid": int(msg.uid), "message": msg, "key": self._key, "keep_addresses": s.keep_addresses,
                       "platform": s.platform, "fetched_at": fetched_at}

    def _session(self) -> Any:
        s, where = self.settings, f"imap {self._host}:{self._port}"
        box: BaseMailBox
        try:
            if self._scheme == "imaps":
                box = MailBox(self._host, self._port, timeout=s.timeout_seconds,
                              ssl_context=ssl.create_default_context())
            elif self._scheme == "imap+starttls":
                box = MailBoxStartTls(self._host, self._port, timeout=s.timeout_seconds,
                                      ssl_context=ssl.create_default_context())
            else:
                box = MailBoxUnencrypted(self._host, self._port, timeout=s.timeout_seconds)
            return box.login(s.username, s.password.get(f"sources.{self.name}.password"), initial_folder=s.folder)
        except MailboxLoginError as e:
            raise AuthFailed(f"{where}: the server refused the login for {s.username!r}. {AUTH_HINT}") from e
        except (OSError, TimeoutError, ssl.SSLError) as e:
            raise SourceUnavailable(f"{where}: cannot connect ({e}); retrying with backoff") from e


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(ImapSettings, lambda name, s, ctx: ImapCollector(name, s, ctx.contact_key, ctx.wall))
