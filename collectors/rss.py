"""News and agency feeds: RSS 0.9x / 1.0 / 2.0 and Atom, parsed by feedparser.

Each feed is fetched with the ETag and Last-Modified it last sent, so an unchanged feed answers 304 and costs
nothing. Entries already stored (same id and same `updated` time) are skipped; an entry whose `updated` time
changed is an edit and replaces the stored post. The cursor keeps, per feed, its validators and the keys of
the entries last seen.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser
from pydantic import Field

from collectors.base import BaseCollector, Batch, CollectorError, Post, Quarantined
from collectors.http import get, session
from collectors.kinds import SourceKind
from collectors.mapping import Mapped, dump_state, each, load_state, obj, text
from core.settings_base import SourceSettings

PLATFORM = "news"
TAGS = re.compile(r"<[^>]+>")


class RssSettings(SourceSettings):
    kind: Literal["rss"] = "rss"
    every_seconds: float = Field(600.0, gt=0)
    base_url: str = ""  # relative feed paths resolve against it; full URLs are used as they are
    feeds: tuple[str, ...] = ()
    platform: str = PLATFORM
    timeout_seconds: float = Field(30.0, gt=0)
    remember_entries: int = Field(500, gt=0)


def _time(entry: dict[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time | tuple) and len(parsed) >= 9:  # feedparser gives UTC struct_time
            return datetime.fromtimestamp(calendar.timegm(tuple(parsed)), UTC)
    return None


def _plain(value: Any) -> str:
    return " ".join(html.unescape(TAGS.sub(" ", value)).split()) if isinstance(value, str) else ""


def entry_key(entry: dict[str, Any]) -> str:
    """The entry's identity plus its `updated` time: a new key means a new or edited entry."""
    return hashlib.sha1(f"{entry_id(entry)}|{entry.get('updated', '')}".encode()).hexdigest()[:16]


def entry_id(entry: dict[str, Any]) -> str:
    """The entry's id or link; an entry with neither gets a stable id from its content (title, summary, date)."""
    ident = text(entry.get("id")) or text(entry.get("link"))
    if ident:
        return ident
    content = "|".join(_plain(entry.get(k)) or str(entry.get(k) or "") for k in ("title", "summary", "published"))
    return "content:" + hashlib.sha1(content.encode()).hexdigest()[:20]


def _entry(entry: Any, out: Mapped, fallback: datetime | None) -> None:
    entry = obj(entry)
    title, summary = _plain(entry.get("title")), _plain(entry.get("summary"))
    body = " — ".join(part for part in (title, summary) if part)
    created = _time(entry, "published_parsed", "updated_parsed", "created_parsed")
    if created is None and fallback is not None:
        out.warnings.append(f"feed entry {entry.get('link')}: no date; using the time it was fetched")
        created = fallback
    if not body or created is None:
        missing = [n for n, v in (("title/summary", body), ("date", created)) if not v]
        out.quarantined.append(Quarantined(reason=f"feed entry: missing {', '.join(missing)}", raw=entry))
        return
    out.posts.append(Post(platform=PLATFORM, post_id=entry_id(entry), text=body, created_at=created,
                          url=text(entry.get("link")), author_handle=text(entry.get("author")),
                          lang=text(obj(entry.get("title_detail")).get("language")), raw=dict(entry)))


def parse(payload: Any, fallback: datetime | None = None) -> Mapped:
    """Map a feed's raw bytes (RSS or Atom) to posts; a body that is no feed at all is quarantined."""
    out = Mapped()
    if not isinstance(payload, bytes | str) or not payload:
        out.warnings.append(f"feed: expected the feed's bytes, got {type(payload).__name__}")
        return out
    feed = feedparser.parse(payload)
    if feed.get("bozo") and not feed.get("entries") and not feed.get("version"):
        reason = f"not an RSS/Atom feed: {feed.get('bozo_exception')}"
        raw = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        out.quarantined.append(Quarantined(reason=reason, raw=raw[:100_000]))
        return out
    if feed.get("bozo"):
        out.warnings.append(f"feed is not well-formed ({feed.get('bozo_exception')}); kept what could be read")
    return each(feed.get("entries", []), lambda e, o: _entry(e, o, fallback), "feed entry", out)


def to_posts(payload: Any) -> list[Post]:
    return parse(payload).posts


class RssCollector(BaseCollector):
    kind = "rss"

    def __init__(self, name: str, settings: RssSettings, wall: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name, sleep)
        self.settings = settings
        self._wall = wall
        self._session = session()
        self.urls = [urljoin(settings.base_url, f) if settings.base_url else f for f in settings.feeds]

    def fetch(self, cursor: str | None) -> Batch:
        state = load_state(cursor)
        feeds, out, stats = obj(state.get("feeds")), Mapped(), {"feeds": len(self.urls), "unchanged": 0, "failed": 0}
        errors: list[CollectorError] = []
        for url in self.urls:
            try:
                feeds[url] = self._feed(url, obj(feeds.get(url)), out, stats)
            except CollectorError as e:
                errors.append(e)
                stats["failed"] += 1
                out.warnings.append(str(e))
        if errors and len(errors) == len(self.urls):
            raise errors[0]
        return out.batch(dump_state({"feeds": {u: feeds[u] for u in self.urls if u in feeds}}), stats=stats)

    def _feed(self, url: str, known: dict[str, Any], out: Mapped, stats: dict[str, int]) -> dict[str, Any]:
        headers = {k: v for k, v in (("If-None-Match", known.get("etag")),
                                     ("If-Modified-Since", known.get("modified"))) if v}
        response = self.call(lambda: get(self._session, url, f"feed {url}", "The feed needs credentials this "
                                         "source does not send; use a public feed URL.",
                                         self.settings.timeout_seconds, headers=headers))
        if response.status_code == 304:
            stats["unchanged"] += 1
            return known
        mapped = parse(response.content, fallback=self._wall())
        seen = set(known.get("seen", []))
        keys = [entry_key(p.raw) for p in mapped.posts]
        mapped.posts = [p if self.settings.platform == PLATFORM else _relabel(p, self.settings.platform)
                        for p, k in zip(mapped.posts, keys, strict=True) if k not in seen]
        out.extend(mapped)
        return {"etag": response.headers.get("ETag"), "modified": response.headers.get("Last-Modified"),
                "seen": keys[: self.settings.remember_entries]}


def _relabel(post: Post, platform: str) -> Post:
    return replace(post, platform=platform)


# The registry (collectors.registry) finds this declaration: nothing else to edit for this source.
SOURCE = SourceKind(RssSettings, lambda name, s, ctx: RssCollector(name, s, ctx.wall))
