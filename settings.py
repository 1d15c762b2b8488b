"""Typed settings, parsed once from settings.toml.

Every key has a default; unknown keys and wrong types fail at start with the file, the key and the expected
type. Secrets are never written in the file: a secret is `{ env = "NAME" }` and is read from the environment
when needed, with one clear error naming the variable if it is missing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

# re-exported: the rest of the project imports these from here (the models live in core/, importing no package)
from core.settings_alerts import CLAIM_MATCH_SCORE as CLAIM_MATCH_SCORE
from core.settings_alerts import AlertSettings as AlertSettings
from core.settings_alerts import DigestSettings as DigestSettings
from core.settings_alerts import EmailRuleSettings as EmailRuleSettings
from core.settings_alerts import IncidentSettings as IncidentSettings
from core.settings_alerts import IncidentTargets as IncidentTargets
from core.settings_alerts import Severity as Severity
from core.settings_alerts import SmtpSettings as SmtpSettings
from core.settings_alerts import TargetSettings as TargetSettings
from core.settings_alerts import WebhookSettings as WebhookSettings
from core.settings_base import SecretRef as SecretRef
from core.settings_base import SettingsError as SettingsError
from core.settings_base import SourceSettings as SourceSettings
from core.settings_base import SourceTable as SourceTable
from core.settings_base import StrictModel as StrictModel
from core.settings_base import describe_errors as describe_errors
from core.settings_base import redact as redact
from core.settings_responses import AccountSettings as AccountSettings
from core.settings_responses import BlueskyPosting as BlueskyPosting
from core.settings_responses import EffectSettings as EffectSettings
from core.settings_responses import InboxSettings as InboxSettings
from core.settings_responses import IntakeSettings as IntakeSettings
from core.settings_responses import MastodonPosting as MastodonPosting
from core.settings_responses import PostingSettings as PostingSettings
from core.settings_responses import ResponseSettings as ResponseSettings
from core.settings_responses import SmsPosting as SmsPosting
from core.settings_responses import XPosting as XPosting

DEFAULT_PATH = Path("settings.toml")


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


class LakeSettings(StrictModel):
    """[storage.lake]: DuckLake, used when [storage] kind = "ducklake" (storage/lake.py)."""

    catalog: str = "dbname=civicradar host=127.0.0.1 port=5432 user=civicradar"  # libpq DSN, no password
    password: SecretRef | None = None
    data_path: str = "data/lake/"  # a folder (relative to settings.toml) or s3://bucket/prefix/
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_key_id: SecretRef | None = None
    s3_secret: SecretRef | None = None
    s3_url_style: Literal["path", "vhost"] = "path"
    s3_use_ssl: bool = True
    inline_rows: int = Field(10, ge=0)
    maintain_every_hours: float = Field(6.0, gt=0)
    keep_snapshots_hours: float = Field(24.0, ge=0)
    delete_files_after_hours: float = Field(24.0, ge=0)
    replica_threads: int = Field(1, ge=0)  # a replica's DuckDB threads; 0: one per core
    replica_cache_entries: int = Field(256, ge=0)  # results a replica keeps for its newest snapshot; 0: none


class StorageSettings(StrictModel):
    kind: Literal["duckdb", "ducklake"] = "duckdb"
    path: Path = Path("data/civicradar.duckdb")
    memory_limit: str = "2GB"
    lake: LakeSettings = LakeSettings()


class ServerSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    token: SecretRef | None = None
    sql_row_limit: int = Field(10_000, gt=0)
    sql_timeout_seconds: float = Field(10.0, gt=0)
    read_slots: int = Field(2, gt=0)


class DashboardSettings(StrictModel):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=0, le=65535)
    refresh_seconds: float = Field(5.0, gt=0)
    read_url: str = ""  # a read replica's storage service (`civicradar serve`); "" reads from the engine
    users_file: Path = Path("data/users.yaml")
    session_minutes: float = Field(480.0, gt=0)
    signin_attempts: int = Field(5, gt=0)
    signin_window_minutes: float = Field(15.0, gt=0)
    sso_provider: str = ""
    sso_default_role: Literal["", "viewer", "comms", "lead", "analyst", "admin"] = ""
    handles_roles: tuple[Literal["viewer", "comms", "lead", "analyst", "admin"], ...] = ("comms", "lead", "analyst",
                                                                                          "admin")


class ClassifySettings(StrictModel):
    enabled: bool = True
    every_seconds: float = Field(30.0, gt=0)
    batch_size: int = Field(512, gt=0)
    max_seconds_per_run: float = Field(20.0, gt=0)
    rematch_days: float = Field(7.0, ge=0)
    embedding_days: float = Field(14.0, ge=0)
    models_dir: Path | None = None


class LabelSettings(StrictModel):
    """Where labels are computed: in the engine's process, or by label workers on a Ray cluster."""

    workers: Literal["local", "ray"] = "local"
    ray_address: str = "127.0.0.1:6379"
    ray_token: SecretRef = SecretRef(env="CIVICRADAR_RAY_TOKEN")
    ray_actors: int = Field(2, gt=0)
    ray_threads: int = Field(1, gt=0)
    ray_chunk_size: int = Field(64, gt=0)
    ray_timeout_seconds: float = Field(120.0, gt=0)




class RetentionSettings(StrictModel):
    days: int = Field(365, gt=0)
    action: Literal["delete", "pseudonymise"] = "delete"
    every_hours: float = Field(6.0, gt=0)
    pseudonymise_handles: bool = False




class Settings(StrictModel):
    agency: str = "Harbor County Public Health"
    timezone: str = "UTC"
    storage: StorageSettings = StorageSettings()
    server: ServerSettings = ServerSettings()
    dashboard: DashboardSettings = DashboardSettings()
    classify: ClassifySettings = ClassifySettings()
    labels: LabelSettings = LabelSettings()
    alerts: AlertSettings = AlertSettings()
    digest: DigestSettings = DigestSettings()
    incidents: IncidentSettings = IncidentSettings()
    smtp: SmtpSettings = SmtpSettings()
    retention: RetentionSettings = RetentionSettings()
    intake: IntakeSettings = IntakeSettings()
    responses: ResponseSettings = ResponseSettings()
    effect: EffectSettings = EffectSettings()
    posting: PostingSettings = PostingSettings()
    accounts: AccountSettings = AccountSettings()
    inbox: InboxSettings = InboxSettings()
    watches: tuple[WatchSettings, ...] = ()
    topics: tuple[TopicSettings, ...] = ()
    sources: dict[str, SourceSettings] = Field(default_factory=dict)  # typed by collectors.registry.typed
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

    def local_secret(self, filename: str) -> str:
        """A random secret generated once and kept beside the database, readable by this user only."""
        path = self.db_path.parent / filename
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # the engine and the dashboard may both make it first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(32))
        return path.read_text().strip()

    def enabled_sources(self) -> dict[str, SourceSettings]:
        return {name: s for name, s in self.sources.items() if s.enabled}

    def check_secrets(self) -> None:
        """Fail now, naming the variable, rather than at the first scheduled run."""
        for name, source in self.enabled_sources().items():
            for key, ref in source.secrets().items():
                ref.get(f"sources.{name}.{key}")
        if self.server.token is not None:
            self.server.token.get("server.token")
        if self.storage.kind == "ducklake":
            for key, ref in self.storage.lake:
                if isinstance(ref, SecretRef):
                    ref.get(f"storage.lake.{key}")
        if self.labels.workers == "ray":
            self.labels.ray_token.get("labels.ray_token")
        for hook in self.alerts.webhooks:
            if isinstance(hook.url, SecretRef):
                hook.url.get(f"alerts.webhooks {hook.name}.url")
        for name in self.posting.reply_channels():
            for key, ref in getattr(self.posting, name):
                if isinstance(ref, SecretRef):
                    ref.get(f"posting.{name}.{key}")
        for key in ("username", "password"):
            ref = getattr(self.smtp, key)
            if ref is not None and (self.alerts.emails or self.digest.enabled):
                ref.get(f"smtp.{key}")


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
        errors = describe_errors(e, path, ()) + errors
        settings = None
    if errors:
        raise SettingsError("\n".join(errors))
    assert settings is not None
    return settings.model_copy(update={"sources": sources})


def _parse_sources(raw: Any, path: Path, errors: list[str]) -> dict[str, SourceSettings]:
    """Each source's common keys; `collectors.registry.typed` checks the rest by kind where collectors are built."""
    if not isinstance(raw, dict):
        errors.append(f"{path}: sources: expected a table of named sources")
        return {}
    parsed: dict[str, SourceSettings] = {}
    for name, section in raw.items():
        if not isinstance(section, dict):
            errors.append(f"{path}: sources.{name}: expected a table with a kind, got {section!r}")
            continue
        try:
            parsed[name] = SourceTable.model_validate(section)
        except ValidationError as e:
            errors.extend(describe_errors(e, path, ("sources", name)))
    return parsed

