"""Typed settings, parsed once from settings.toml.

Every key has a default; unknown keys and wrong types fail at start with the file, the key and the expected
type. Secrets are never written in the file: a secret is `{ env = "NAME" }` and is read from the environment
when needed, with one clear error naming the variable if it is missing.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_PATH = Path("settings.toml")


class SettingsError(Exception):
    """The settings file is unusable; the message names the file, the key and what was expected."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(StrictModel):
    """A secret held in an environment variable: `{ env = "NAME" }`."""

    env: str

    def get(self, needed_by: str) -> str:
        value = os.environ.get(self.env)
        if not value:
            raise SettingsError(f"environment variable {self.env} is not set (needed by {needed_by}); export it.")
        return value


class SourceSettings(StrictModel):
    """Fields every source has; each collector module subclasses this with `kind: Literal[...]`."""

    kind: str
    enabled: bool = True
    every_seconds: float = Field(60.0, gt=0)

    def secrets(self) -> dict[str, SecretRef]:
        return {k: v for k, v in self if isinstance(v, SecretRef)}


class WatchSettings(StrictModel):
    name: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    places: tuple[str, ...] = ()


class TopicSettings(StrictModel):
    name: str
    description: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


class StorageSettings(StrictModel):
    path: Path = Path("data/civicradar.duckdb")


class ServerSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    token: SecretRef | None = None
    sql_row_limit: int = Field(10_000, gt=0)
    sql_timeout_seconds: float = Field(10.0, gt=0)


class DashboardSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=0, le=65535)
    refresh_seconds: float = Field(5.0, gt=0)


class ClassifySettings(StrictModel):
    enabled: bool = True
    every_seconds: float = Field(30.0, gt=0)
    batch_size: int = Field(512, gt=0)


class AlertSettings(StrictModel):
    enabled: bool = True
    every_seconds: float = Field(60.0, gt=0)


class DigestSettings(StrictModel):
    enabled: bool = False
    time: dt.time = dt.time(8, 0)
    recipients: tuple[str, ...] = ()


class RetentionSettings(StrictModel):
    days: int = Field(365, gt=0)
    pseudonymise_handles: bool = False


class Settings(StrictModel):
    agency: str = "Harbor County Public Health"
    timezone: str = "UTC"
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    dashboard: DashboardSettings = DashboardSettings()
    classify: ClassifySettings = ClassifySettings()
    alerts: AlertSettings = AlertSettings()
    digest: DigestSettings = DigestSettings()
    retention: RetentionSettings = RetentionSettings()
    watches: tuple[WatchSettings, ...] = ()
    topics: tuple[TopicSettings, ...] = ()
    sources: dict[str, SourceSettings] = {}
    file: Path = DEFAULT_PATH  # where these settings were read from; relative paths resolve against its folder

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')") from e
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self.file.resolve().parent

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.base_dir / value

    @property
    def db_path(self) -> Path:
        return self.path(self.storage.path)

    def enabled_sources(self) -> dict[str, SourceSettings]:
        return {name: s for name, s in self.sources.items() if s.enabled}

    def check_secrets(self) -> None:
        """Fail now, naming the variable, rather than at the first scheduled run."""
        for name, source in self.enabled_sources().items():
            for key, ref in source.secrets().items():
                ref.get(f"sources.{name}.{key}")
        if self.server.token is not None:
            self.server.token.get("server.token")


def load(path: Path | str = DEFAULT_PATH) -> Settings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SettingsError(f"{path}: settings file not found (copy settings.toml from the project)") from e
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path}: not valid TOML: {e}") from e
    return parse(data, path)


def parse(data: dict[str, Any], path: Path) -> Settings:
    raw_sources = data.pop("sources", {})
    errors: list[str] = []
    sources = _parse_sources(raw_sources, path, errors)
    try:
        settings = Settings.model_validate({**data, "file": path.resolve()})
    except ValidationError as e:
        errors = _describe(e, path, ()) + errors
        settings = None
    if errors:
        raise SettingsError("\n".join(errors))
    assert settings is not None
    return settings.model_copy(update={"sources": sources})


def _parse_sources(raw: Any, path: Path, errors: list[str]) -> dict[str, SourceSettings]:
    from collectors.registry import settings_models  # collectors import this module's base classes

    models = settings_models()
    if not isinstance(raw, dict):
        errors.append(f"{path}: sources: expected a table of named sources")
        return {}
    parsed: dict[str, SourceSettings] = {}
    for name, section in raw.items():
        kind = section.get("kind") if isinstance(section, dict) else None
        if kind not in models:
            known = ", ".join(sorted(models))
            errors.append(f"{path}: sources.{name}.kind: expected one of {known}, got {kind!r}")
            continue
        try:
            parsed[name] = models[kind].model_validate(section)
        except ValidationError as e:
            errors.extend(_describe(e, path, ("sources", name)))
    return parsed


def _describe(error: ValidationError, path: Path, prefix: tuple[str, ...]) -> list[str]:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in (*prefix, *item["loc"]))
        if item["type"] == "extra_forbidden":
            lines.append(f"{path}: {key}: unknown key (check its spelling against settings.toml)")
        else:
            lines.append(f"{path}: {key}: {item['msg']} (got {item.get('input')!r})")
    return lines

