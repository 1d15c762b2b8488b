"""Every source kind CivicRadar knows: its settings model and how to build its collector.

A new source is one module in this package that declares a `collectors.kinds.SourceKind` at module level (its
settings model and a function building its collector); `KINDS` collects every declaration in the package, and the
contract tests (tests/test_collectors_contract.py) run each. `settings.load` keeps each `[sources.NAME]` table as
written (so the dashboard never imports a platform's client library); `typed` parses them by kind where collectors
are built: the engine and the CLI.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import collectors
import settings as settings_module
from collectors.base import Collector
from collectors.kinds import Context as Context  # re-exported: the engine builds one
from collectors.kinds import SourceKind
from core.settings_base import SettingsError, SourceSettings, SourceTable, describe_errors
from settings import Settings


def discover() -> dict[str, SourceKind[Any]]:
    """Every SourceKind declared in a module of the collectors package, by kind name."""
    found: dict[str, SourceKind[Any]] = {}
    for module in pkgutil.iter_modules(collectors.__path__):
        if module.name == "registry":
            continue
        for value in vars(importlib.import_module(f"collectors.{module.name}")).values():
            if isinstance(value, SourceKind) and found.setdefault(value.name, value) is not value:
                raise RuntimeError(f"two sources declare kind {value.name!r} (one in collectors.{module.name})")
    return dict(sorted(found.items()))


KINDS: dict[str, SourceKind[Any]] = discover()


def settings_models() -> dict[str, type[SourceSettings]]:
    return {kind: source.settings for kind, source in KINDS.items()}


def build(name: str, settings: SourceSettings, context: Context) -> Collector:
    return KINDS[settings.kind].build(name, settings, context)


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
        return KINDS[source.kind].settings.model_validate(source.table())
    except ValidationError as e:
        errors.extend(describe_errors(e, path, ("sources", name)))
        return source


def load(path: Path | str = settings_module.DEFAULT_PATH) -> Settings:
    """`settings.load` with every source typed: what the engine and the CLI start from."""
    return typed(settings_module.load(path))
