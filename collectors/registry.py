"""Every source kind CivicRadar knows: its settings model and how to build its collector.

A new source is one module with a `SourceSettings` subclass and a collector class, plus one line here.
`settings.load` keeps each `[sources.NAME]` table as written (so the dashboard never imports a platform's client
library); `typed` parses them by kind where collectors are built: the engine and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

import settings as settings_module
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
from core.settings_base import SettingsError, SourceSettings, SourceTable, describe_errors
from settings import AccountSettings, Settings


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


def typed(s: Settings) -> Settings:
    """`s` with each source parsed by its kind's settings model; errors name the file and the key, all at once."""
    errors: list[str] = []
    sources = {name: _typed(name, source, s.file, errors) for name, source in s.sources.items()}
    if errors:
        raise SettingsError("\n".join(errors))
    return s.model_copy(update={"sources": sources})


def _typed(name: str, source: SourceSettings, path: Path, errors: list[str]) -> SourceSettings:
    if not isinstance(source, SourceTable):
        return source  # already typed
    if source.kind not in KINDS:
        known = ", ".join(sorted(KINDS))
        errors.append(f"{path}: sources.{name}.kind: expected one of {known}, got {source.kind!r}")
        return source
    try:
        return KINDS[source.kind][0].model_validate(source.table())
    except ValidationError as e:
        errors.extend(describe_errors(e, path, ("sources", name)))
        return source


def load(path: Path | str = settings_module.DEFAULT_PATH) -> Settings:
    """`settings.load` with every source typed: what the engine and the CLI start from."""
    return typed(settings_module.load(path))
