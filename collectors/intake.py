"""What residents sent through the public intake process (web form, SMS, Meta webhooks), read from its spool.

The cursor is the spool position (file and byte offset) of the last item stored, committed with the posts, so an
item is stored exactly once however the two processes stop; spool files wholly before the committed position are
deleted a day later. Phone numbers and e-mail addresses become keyed hashes (`phone:` / `email:` + HMAC, the same
key as the IMAP source's, so one resident is recognised across channels); they are kept in the raw payload only
when the resident consented and `keep_contacts` is set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from collectors.base import BaseCollector, Batch, Post
from collectors.imap import address_hash
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, decode_json, dump_state, each, load_state, obj, text, when
from core.settings_base import SourceSettings
from intake.spool import Position, read, remove_collected

CHANNELS = ("webform", "sms", "facebook", "instagram")
PHONE = re.compile(r"^\+?[\d\s().-]{6,20}$")


class IntakeSourceSettings(SourceSettings):
    kind: Literal["intake"] = "intake"
    every_seconds: float = Field(5.0, gt=0)
    path: str = "data/intake"
    batch_size: int = Field(1000, gt=0)
    keep_contacts: bool = False


def contact_hash(key: bytes, contact: str) -> str | None:
    """`phone:` + HMAC of the digits, or `email:` + HMAC of the address; None for anything else."""
    contact = contact.strip()
    if "@" in contact:
        return address_hash(key, contact)
    if PHONE.match(contact):
        digits = re.sub(r"\D", "", contact)
        return "phone:" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:16]
    return None


def _item(item: Any, out: Mapped) -> None:
    """One spooled item (`{"item": {...}, "key": bytes, "keep_contacts": bool}`) as a post."""
    wrapped = obj(item)
    data, key = obj(wrapped.get("item")), wrapped.get("key") or b""
    channel, ident, received = text(data.get("channel")), text(data.get("id")), when(data.get("received_at"))
    if channel not in CHANNELS or not ident or received is None:
        raise ValueError(f"spooled item without a known channel, id or time: {channel!r}, {ident!r}")
    contact = str(data.get("contact") or "")
    author = contact_hash(key, contact) if contact else None
    author = author or (f"{channel}:{data['author']}" if data.get("author") else None)
    keep = bool(data.get("consent")) and bool(wrapped.get("keep_contacts"))
    raw = {k: v for k, v in data.items() if k != "contact"} | {"contact": contact if keep else None}
    body = str(data.get("text") or "")
    if data.get("place"):
        body = f"{body} (where: {data['place']})"
    if not body.strip():
        out.warnings.append(f"intake {ident}: empty message")
    out.posts.append(Post(platform=channel, post_id=ident, text=body, created_at=received, author_id=author,
                          reply_to_id=text(data.get("reply_to")), raw=raw))


def parse(payload: Any) -> Mapped:
    """Map a list of wrapped spool items (see `_item`) to posts."""
    items = payload if isinstance(payload, list) else []
    return each([i for i in items if isinstance(i, dict)], _item, "intake item", Mapped())


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


class IntakeCollector(BaseCollector):
    kind = "intake"

    def __init__(self, name: str, settings: IntakeSourceSettings, base_dir: Path, key: bytes,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings, self._key, self._wall = settings, key, wall
        self.folder = Path(settings.path) if Path(settings.path).is_absolute() else base_dir / settings.path

    def fetch(self, cursor: str | None) -> Batch:
        state = load_state(cursor)
        committed = Position(str(state.get("file", "")), int(state.get("offset", 0)))
        removed = remove_collected(self.folder, committed, self._wall())
        lines, position, more = read(self.folder, committed, self.settings.batch_size)
        out = Mapped()
        items = [decode_json(line, "intake spool line", out) for line in lines]
        wrapped = [{"item": i, "key": self._key, "keep_contacts": self.settings.keep_contacts}
                   for i in items if i is not None]
        out.extend(parse(wrapped))
        stats = {"items": len(lines), "spool_files_removed": removed}
        return out.batch(json.dumps({"file": position.file, "offset": position.offset}) if lines else
                         (dump_state(state) if state else None), more=more, stats=stats)


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(IntakeSourceSettings,
                    lambda name, s, ctx: IntakeCollector(name, s, ctx.base_dir, ctx.contact_key, ctx.wall))
