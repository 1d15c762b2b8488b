"""What a source module declares so the registry finds it: a `SourceKind` (its settings model and how to build its
collector from them), at module level. `collectors.registry` collects every one in the package; nothing else to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

from collectors.base import Collector, Watch
from core.settings_base import SourceSettings
from settings import AccountSettings

S = TypeVar("S", bound=SourceSettings)


@dataclass(frozen=True)
class Context:
    """What the engine hands every collector it builds."""

    base_dir: Path
    watches: tuple[Watch, ...] = ()
    wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    contact_key: bytes = b""  # keys the hashes that stand in for residents' e-mail addresses and phone numbers
    accounts: AccountSettings = field(default_factory=AccountSettings)  # the agency's own accounts ([accounts])


@dataclass(frozen=True)
class SourceKind(Generic[S]):
    """One kind of source: `[sources.NAME] kind = ...` is its settings model's `kind` default."""

    settings: type[S]
    make: Callable[[str, S, Context], Collector]  # (source name, its typed settings, the engine's context)

    @property
    def name(self) -> str:
        return str(self.settings.model_fields["kind"].default)

    def build(self, name: str, settings: SourceSettings, context: Context) -> Collector:
        if not isinstance(settings, self.settings):
            raise TypeError(f"source {name!r}: expected {self.settings.__name__}, got {type(settings).__name__}")
        return self.make(name, settings, context)
