"""Every source kind CivicRadar knows: its settings model and how to build its collector.

A new source is one module with a `SourceSettings` subclass and a collector class, plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from collectors.base import Collector, Watch
from collectors.replay import ReplayCollector, ReplaySettings
from settings import SourceSettings


@dataclass(frozen=True)
class Context:
    """What the engine hands every collector it builds."""

    base_dir: Path
    watches: tuple[Watch, ...] = ()
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


Factory = Callable[[str, SourceSettings, Context], Collector]

KINDS: dict[str, tuple[type[SourceSettings], Factory]] = {
    "replay": (ReplaySettings, lambda name, s, ctx: ReplayCollector(name, s, ctx.base_dir, ctx.wall)),  # type: ignore[arg-type]
}


def settings_models() -> dict[str, type[SourceSettings]]:
    return {kind: model for kind, (model, _) in KINDS.items()}


def build(name: str, settings: SourceSettings, context: Context) -> Collector:
    return KINDS[settings.kind][1](name, settings, context)
