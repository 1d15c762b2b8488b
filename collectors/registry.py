"""Every source kind CivicRadar knows: its settings model and how to build its collector.

A new source is one module with a `SourceSettings` subclass and a collector class, plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from collectors.base import Collector, Watch
from collectors.bluesky import BlueskySearchCollector, BlueskySearchSettings, JetstreamCollector, JetstreamSettings
from collectors.bluesky_account import BlueskyAccountCollector, BlueskyAccountSettings
from collectors.factchecks import ClaimsFileCollector, ClaimsFileSettings, FactCheckCollector, FactCheckSettings
from collectors.imap import ImapCollector, ImapSettings
from collectors.intake import IntakeCollector, IntakeSourceSettings
from collectors.mastodon import MastodonCollector, MastodonSettings
from collectors.mastodon_account import MastodonAccountCollector, MastodonAccountSettings
from collectors.meta import MetaPageCollector, MetaPageSettings
from collectors.open311 import Open311Collector, Open311Settings
from collectors.reddit import RedditCollector, RedditSettings
from collectors.reddit_account import RedditAccountCollector, RedditAccountSettings
from collectors.replay import ReplayCollector, ReplaySettings
from collectors.rss import RssCollector, RssSettings
from collectors.x import XCollector, XSettings
from collectors.x_account import XAccountCollector, XAccountSettings
from settings import AccountSettings, SourceSettings


@dataclass(frozen=True)
class Context:
    """What the engine hands every collector it builds."""

    base_dir: Path
    watches: tuple[Watch, ...] = ()
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    contact_key: bytes = b""  # keys the hashes that stand in for residents' e-mail addresses and phone numbers
    accounts: AccountSettings = field(default_factory=AccountSettings)  # the agency's own accounts ([accounts])


Factory = Callable[[str, SourceSettings, Context], Collector]

KINDS: dict[str, tuple[type[SourceSettings], Factory]] = {
    "replay": (ReplaySettings, lambda name, s, ctx: ReplayCollector(name, s, ctx.base_dir, ctx.wall)),  # type: ignore[arg-type]
    "x": (XSettings, lambda name, s, ctx: XCollector(name, s, ctx.watches, ctx.wall)),  # type: ignore[arg-type]
    "reddit": (RedditSettings, lambda name, s, ctx: RedditCollector(name, s)),  # type: ignore[arg-type]
    "jetstream": (JetstreamSettings, lambda name, s, ctx: JetstreamCollector(name, s, ctx.watches)),  # type: ignore[arg-type]
    "bluesky_search": (BlueskySearchSettings, lambda name, s, ctx: BlueskySearchCollector(name, s, ctx.watches)),  # type: ignore[arg-type]
    "mastodon": (MastodonSettings, lambda name, s, ctx: MastodonCollector(name, s, ctx.watches)),  # type: ignore[arg-type]
    "rss": (RssSettings, lambda name, s, ctx: RssCollector(name, s, ctx.wall)),  # type: ignore[arg-type]
    "open311": (Open311Settings, lambda name, s, ctx: Open311Collector(name, s, ctx.wall)),  # type: ignore[arg-type]
    "factchecks": (FactCheckSettings, lambda name, s, ctx: FactCheckCollector(name, s, ctx.watches)),  # type: ignore[arg-type]
    "imap": (ImapSettings, lambda name, s, ctx: ImapCollector(name, s, ctx.contact_key, ctx.wall)),  # type: ignore[arg-type]
    "intake": (IntakeSourceSettings, lambda name, s, ctx: IntakeCollector(  # type: ignore[arg-type]
        name, s, ctx.base_dir, ctx.contact_key, ctx.wall)),
    "bluesky_account": (BlueskyAccountSettings, lambda name, s, ctx: BlueskyAccountCollector(  # type: ignore[arg-type]
        name, s, ctx.accounts.bluesky)),
    "mastodon_account": (MastodonAccountSettings, lambda name, s, ctx: MastodonAccountCollector(  # type: ignore[arg-type]
        name, s, ctx.accounts.mastodon)),
    "x_account": (XAccountSettings, lambda name, s, ctx: XAccountCollector(  # type: ignore[arg-type]
        name, s, ctx.accounts.x, ctx.wall)),
    "reddit_account": (RedditAccountSettings, lambda name, s, ctx: RedditAccountCollector(  # type: ignore[arg-type]
        name, s, ctx.accounts.reddit)),
    "meta_page": (MetaPageSettings, lambda name, s, ctx: MetaPageCollector(name, s, ctx.wall)),  # type: ignore[arg-type]
    "claims": (ClaimsFileSettings, lambda name, s, ctx: ClaimsFileCollector(name, s, ctx.base_dir)),  # type: ignore[arg-type]
}


def settings_models() -> dict[str, type[SourceSettings]]:
    return {kind: model for kind, (model, _) in KINDS.items()}


def build(name: str, settings: SourceSettings, context: Context) -> Collector:
    return KINDS[settings.kind][1](name, settings, context)
